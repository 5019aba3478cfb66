// The Messages API's own web tools (server tools): web search and web fetch run at the API, not on
// this computer, so they cannot be approved per call. What they return is untrusted (it taints the
// thread like connector output); once a thread is tainted, web fetch (a way to send data out in a
// URL) is withdrawn unless the user allowed it for the task. Versions as in @anthropic-ai/sdk 1.12
// (generally available: no beta header).
//
// Taint only takes effect at the next request, and server tools run many steps inside one request
// with no chance to intervene: a search result could steer a fetch in the same reply (choosing
// among URLs a page lists leaks data bit by bit). So in a clean thread no request offers a fetch
// after untrusted content can arrive: web fetch is offered alone (no search) with one use, when the
// person's latest message gives an http(s) URL (or search is off or used up); otherwise search is.
//
// A turn the API paused (pause_turn), or that also called a client tool, can end with a web tool call
// whose result comes in the next reply: the request that continues it offers that call's tool again,
// and, as the result is untrusted and arrives within that request, no fetch of its own.
import type { ServerBlock, ServerTool, TextBlock, WireBlock, WireMessage } from './wire.js';

export const WEB_SEARCH = 'web_search';
export const WEB_FETCH = 'web_fetch';
export const WEB_SEARCH_TYPE = 'web_search_20250305';
export const WEB_FETCH_TYPE = 'web_fetch_20250910';
/**
 * The most of a page's text one web fetch brings back (the API trims the rest). About 200,000
 * characters, so even many fetches in one reply stay far below its bound (model-call.ts
 * MAX_REPLY_CHARS), and every later request does not resend a whole book. The API does not trim
 * a PDF: one too large still fails, saying so.
 */
export const WEB_FETCH_MAX_CONTENT_TOKENS = 50_000;

export interface WebSettings {
  search: boolean;
  fetch: boolean;
  allowedDomains: string[];
  blockedDomains: string[];
  /** Uses per task, search and fetch each. */
  maxUsesPerTask: number;
}

export interface WebState {
  tainted: boolean;
  /** The user allowed web fetch for this task although the thread is tainted. */
  fetchAllowed?: boolean;
  searchesUsed: number;
  fetchesUsed: number;
  /** The conversation so far: whether the person's latest message gives a URL to fetch. */
  messages?: WireMessage[];
  /**
   * Calls of the turn this request continues that have no result yet (pendingServerCalls): the API
   * runs them within this request. Already counted in searchesUsed and fetchesUsed.
   */
  pending?: { searches: number; fetches: number };
}

const domains = (w: WebSettings) =>
  // The API takes one list or the other: an allow list makes a block list moot.
  w.allowedDomains.length
    ? { allowed_domains: [...w.allowedDomains] }
    : w.blockedDomains.length
      ? { blocked_domains: [...w.blockedDomains] }
      : {};

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"']+/i;

/**
 * Does the person's latest message give an http(s) URL? That is the last user message with text
 * blocks of its own; tool results (data the model read, never the person's words) are skipped.
 */
export function personGaveUrl(messages: WireMessage[] | undefined): boolean {
  for (let i = (messages?.length ?? 0) - 1; i >= 0; i--) {
    const m = messages![i];
    if (m.role !== 'user') continue;
    const said = m.content.filter((b): b is TextBlock => b.type === 'text');
    if (said.length) return said.some((b) => URL_IN_TEXT.test(b.text));
  }
  return false;
}

const searchTool = (w: WebSettings, uses: number): ServerTool => ({
  type: WEB_SEARCH_TYPE,
  name: WEB_SEARCH,
  max_uses: uses,
  ...domains(w),
});
const fetchTool = (w: WebSettings, uses: number): ServerTool & { max_content_tokens: number } => ({
  type: WEB_FETCH_TYPE,
  name: WEB_FETCH,
  max_uses: uses,
  max_content_tokens: WEB_FETCH_MAX_CONTENT_TOKENS,
  ...domains(w),
});

/** The server tools for the next call, and a note for the model when fetch was withdrawn. */
export function webTools(w: WebSettings | undefined, s: WebState): { tools: ServerTool[]; note?: string } {
  if (!w) return { tools: [] };
  const pending = s.pending ?? { searches: 0, fetches: 0 };
  if (!pending.searches && !pending.fetches) return newUses(w, s);
  // The pending calls' results are untrusted and arrive within this request, so it offers new uses
  // as a tainted thread's request would: no fetch (unless the user allowed it in a tainted thread).
  // Each pending call's tool is offered with max_uses raised by it: the API runs it in this request,
  // so no new use is added (the calls were counted when the turn before made them).
  const made = newUses(w, { ...s, tainted: true, fetchAllowed: s.tainted && s.fetchAllowed });
  const left = (name: string) => made.tools.find((t) => t.name === name)?.max_uses ?? 0;
  const searches = left(WEB_SEARCH) + pending.searches;
  const fetches = left(WEB_FETCH) + pending.fetches;
  const tools = [...(searches ? [searchTool(w, searches)] : []), ...(fetches ? [fetchTool(w, fetches)] : [])];
  // The note says fetch is withdrawn from a tainted thread: not so where the thread is still clean.
  const note = s.tainted && !fetches ? made.note : undefined;
  return { tools, ...(note ? { note } : {}) };
}

/** The server tools for a request that continues no turn: each tool's uses left for the task. */
function newUses(w: WebSettings, s: WebState): { tools: ServerTool[]; note?: string } {
  const searchLeft = w.maxUsesPerTask - s.searchesUsed;
  const fetchLeft = w.maxUsesPerTask - s.fetchesUsed;
  const canSearch = w.search && searchLeft > 0;
  const canFetch = w.fetch && fetchLeft > 0;
  if (s.tainted) {
    // The user allowed fetch for this task knowing the thread read untrusted content.
    if (s.fetchAllowed)
      return {
        tools: [...(canSearch ? [searchTool(w, searchLeft)] : []), ...(canFetch ? [fetchTool(w, fetchLeft)] : [])],
      };
    const note = canFetch
      ? 'The web_fetch tool is not available now: this conversation contains untrusted content (web pages or connector output), ' +
        'and fetching a URL could send data out. Work with web search results, or ask the user to allow web fetch for this task from their phone.'
      : undefined;
    return { tools: canSearch ? [searchTool(w, searchLeft)] : [], ...(note ? { note } : {}) };
  }
  // Clean: a fetch goes alone, with one use, so its result taints the thread before any further
  // fetch. It is the pick when the person gave a URL (or search is off or used up); otherwise search.
  if (canFetch && (!canSearch || personGaveUrl(s.messages))) return { tools: [fetchTool(w, 1)] };
  return { tools: canSearch ? [searchTool(w, searchLeft)] : [] };
}

/**
 * The web tool calls of the turn a request continues that have no result yet (id → tool name): in
 * the conversation's last assistant message, a server_tool_use no result block answers. The API
 * runs them when the turn goes on (after pause_turn, or with the client tool results of a mixed turn).
 * Assistant messages in a row (a paused turn and its continuation) are one message to the API.
 */
export function pendingServerCalls(messages: WireMessage[]): Map<string, string> {
  const pending = new Map<string, string>();
  let end = messages.length;
  while (end > 0 && messages[end - 1].role !== 'assistant') end--;
  let start = end;
  while (start > 0 && messages[start - 1].role === 'assistant') start--;
  for (const b of messages.slice(start, end).flatMap((m) => m.content)) {
    const block = b as { type: string; id?: unknown; name?: unknown; tool_use_id?: unknown };
    if (block.type === 'server_tool_use' && typeof block.id === 'string') pending.set(block.id, String(block.name));
    else if (block.type !== 'tool_result' && typeof block.tool_use_id === 'string') pending.delete(block.tool_use_id);
  }
  return pending;
}

/** How many pending calls (pendingServerCalls) each web tool has. */
export function pendingUses(pending: Map<string, string>): { searches: number; fetches: number } {
  const tools = [...pending.values()];
  return {
    searches: tools.filter((t) => t === WEB_SEARCH).length,
    fetches: tools.filter((t) => t === WEB_FETCH).length,
  };
}

export const isServerBlock = (b: WireBlock): boolean =>
  b.type === 'server_tool_use' || b.type === 'web_search_tool_result' || b.type === 'web_fetch_tool_result';

/**
 * Whether a block is text the model read rather than wrote: anything but its own text, thinking and
 * tool calls (web results, and any kind Errand does not know, which fails closed).
 */
export const isUntrusted = (type: string): boolean =>
  !['text', 'thinking', 'redacted_thinking', 'tool_use', 'server_tool_use'].includes(type);

/** A reply that holds web results (or anything else the model read) brings untrusted text into the conversation. */
export function readsWeb(content: WireBlock[]): boolean {
  return content.some((b) => isUntrusted(b.type));
}

/** How many searches and fetches a reply ran (server_tool_use blocks), for the per-task limit. */
export function countUses(content: WireBlock[]): { searches: number; fetches: number } {
  let searches = 0;
  let fetches = 0;
  for (const b of content) {
    if (b.type !== 'server_tool_use') continue;
    if (b.name === WEB_SEARCH) searches++;
    else if (b.name === WEB_FETCH) fetches++;
  }
  return { searches, fetches };
}

/** Uses of web tools in the messages a task added (from its first message on). */
export function usesIn(messages: WireMessage[]): { searches: number; fetches: number } {
  const total = { searches: 0, fetches: 0 };
  for (const m of messages) {
    const u = countUses(m.content);
    total.searches += u.searches;
    total.fetches += u.fetches;
  }
  return total;
}

/**
 * An Anthropic-compatible endpoint that does not know server tools answers 400 naming the tool
 * type or the field; the web tools are turned off for that endpoint and the call is made again.
 */
export function refusesServerTools(err: unknown, serverToolIndexes: number[] = []): boolean {
  const e = err as { status?: number; message?: string; error?: { error?: { message?: string } } };
  if (e?.status !== 400) return false;
  const msg = `${e.message ?? ''} ${e.error?.error?.message ?? ''}`.toLowerCase();
  if (/web_search|web_fetch|server[ _]tool/.test(msg)) return true;
  // "tools.4: …" about one of the server tools (not about a tool of our own).
  return serverToolIndexes.some((i) => new RegExp(`tools\\.${i}\\b`).test(msg));
}

/** Endpoints (anthropic.baseUrl) that refused server tools, while this daemon runs. */
const refusedEndpoints = new Set<string>();
export const webRefusedBy = (baseUrl: string | undefined) => refusedEndpoints.has(baseUrl ?? '');
export const markWebRefused = (baseUrl: string | undefined) => refusedEndpoints.add(baseUrl ?? '');

/** The loop's web options for a run, from config (absent when both tools are off or refused). */
export function webOptions(
  web: WebSettings,
  baseUrl: string | undefined,
  fetchAllowed: () => boolean,
  used: { searches: number; fetches: number },
): {
  web?: {
    settings: WebSettings;
    fetchAllowed: () => boolean;
    refused: () => void;
    used: { searches: number; fetches: number };
  };
} {
  if ((!web.search && !web.fetch) || webRefusedBy(baseUrl)) return {};
  return { web: { settings: web, fetchAllowed, refused: () => markWebRefused(baseUrl), used } };
}

/** The system note for the model (appended after the cached prompt, so the cache prefix holds). */
export const noteBlock = (note: string): TextBlock => ({ type: 'text', text: note });

/** A web step as the phone shows it (a tool item with state completed or error). */
export interface WebStep {
  id: string;
  tool: string;
  summary: string;
  state: 'completed' | 'error';
  input: { query?: string; url?: string; results?: Array<{ title: string; url: string }>; title?: string };
  output: string;
}

/**
 * The step for a finished server tool result, with the use that asked for it (its query or URL).
 * Each text is redacted before it is cut to length: a secret across the cut would survive in part.
 */
export function webStepOf(
  use: ServerBlock | undefined,
  result: Record<string, unknown>,
  redact: Redact = (t) => t,
): WebStep | undefined {
  const str = (v: unknown, max = 500): string => (typeof v === 'string' ? redact(v).slice(0, max) : '');
  const id = typeof result.tool_use_id === 'string' ? result.tool_use_id.slice(0, 200) : '';
  if (!id) return undefined;
  const input = (use?.input ?? {}) as { query?: unknown; url?: unknown };
  const content = result.content as Record<string, unknown> | Array<Record<string, unknown>> | undefined;
  const failed = (c: unknown) => {
    const code = (c as { error_code?: unknown } | undefined)?.error_code;
    return typeof code === 'string' ? code : undefined;
  };
  if (result.type === 'web_search_tool_result') {
    const query = str(input.query, 300);
    const error = Array.isArray(content) ? undefined : failed(content);
    const results = Array.isArray(content)
      ? content
          .filter((r) => r?.type === 'web_search_result')
          .slice(0, 20)
          .map((r) => ({ title: str(r.title, 300) || str(r.url), url: str(r.url, 2000) }))
      : [];
    return {
      id,
      tool: WEB_SEARCH,
      summary: `Searched the web for “${query}”`,
      state: error ? 'error' : 'completed',
      input: { query, results },
      output: error
        ? `Search failed: ${error}`
        : results.map((r) => `${r.title} — ${r.url}`).join('\n') || 'No results',
    };
  }
  if (result.type === 'web_fetch_tool_result') {
    const c = (Array.isArray(content) ? undefined : content) ?? {};
    const url = str(c.url, 2000) || str(input.url, 2000);
    const error = failed(c);
    const doc = c.content as { title?: unknown } | undefined;
    const title = str(doc?.title, 300) || url;
    return {
      id,
      tool: WEB_FETCH,
      summary: error ? `Could not read ${url}` : `Read ${title}`,
      state: error ? 'error' : 'completed',
      input: { url, title },
      output: error ? `Fetch failed: ${error}` : `${title} — ${url}`,
    };
  }
  return undefined;
}

/** Text with the known secrets replaced by [redacted] (the tool runtime's redactor). */
export type Redact = (text: string) => string;

/** A web step without the known secrets in anything it shows (a page can hold one: it is tool output). */
export function redactWebStep(step: WebStep, redact: Redact): WebStep {
  const { query, url, title, results } = step.input;
  return {
    ...step,
    summary: redact(step.summary),
    output: redact(step.output),
    input: {
      ...(query !== undefined ? { query: redact(query) } : {}),
      ...(url !== undefined ? { url: redact(url) } : {}),
      ...(title !== undefined ? { title: redact(title) } : {}),
      ...(results ? { results: results.map((r) => ({ title: redact(r.title), url: redact(r.url) })) } : {}),
    },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Fields the API needs back exactly as it sent them, never redacted: opaque data (a search result's
 * `encrypted_content`, a citation's `encrypted_index`: the API decrypts them, a changed one breaks
 * the request, and nothing in them is readable here), ids and block types.
 */
const OPAQUE_FIELDS = new Set(['encrypted_content', 'encrypted_index', 'type', 'id', 'tool_use_id']);

/** Whether a field of a web result is left as the API sent it: opaque, or a base64 source's `data` (a PDF). */
const isOpaque = (key: string, parent: Record<string, unknown>) =>
  OPAQUE_FIELDS.has(key) || (key === 'data' && parent.type === 'base64');

/**
 * `value` with the known secrets taken out of every string in it, but the fields `keep` names. The
 * same object (or array) comes back when nothing in it changed, so a clean block stays byte-identical.
 */
export function redactStrings<T>(
  value: T,
  redact: Redact,
  keep: (key: string, parent: Record<string, unknown>) => boolean = () => false,
): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) {
    let changed = false;
    const out = value.map((v) => {
      const clean = redactStrings(v, redact, keep);
      if (clean !== v) changed = true;
      return clean;
    });
    return (changed ? out : value) as T;
  }
  if (!isRecord(value)) return value;
  let out: Record<string, unknown> = value;
  for (const [k, v] of Object.entries(value)) {
    if (keep(k, value)) continue;
    const clean = redactStrings(v, redact, keep);
    if (clean !== v) out = out === value ? { ...value, [k]: clean } : Object.assign(out, { [k]: clean });
  }
  return out as T;
}

/**
 * A web result block without the known secrets in any of its text: what the conversation keeps,
 * sends back to the model with every later request, and stores. Every string is redacted (a page's
 * url, title, text in any source form, its `context`, a search result's `page_age`, fields the API
 * may add later) but the opaque ones (a search result's `encrypted_content`, a PDF's base64 data).
 * A block without a secret comes back as it was (byte-identical to what the API sent).
 */
export function redactWebResult(block: ServerBlock, redact: Redact): ServerBlock {
  return redactStrings(block, redact, isOpaque);
}

/**
 * A text block's citations without the known secrets in what they quote from a result (the quote,
 * the page's title and URL, anything else), like the result they point into. Only a citation
 * holding a secret is changed; its `encrypted_index` and character positions stay as the API gave them.
 */
export function redactCitations(citations: unknown[], redact: Redact): unknown[] {
  return redactStrings(citations, redact, isOpaque);
}

const redactedCut = (redact: Redact, v: unknown, max: number): string =>
  typeof v === 'string' ? redact(v).slice(0, max) : '';

/** Sources cited by a text block, deduplicated by URL, for the list under the answer. */
export function sourcesOf(
  citations: unknown[] | undefined,
  redact: Redact = (t) => t,
): Array<{ title: string; url: string }> | undefined {
  if (!citations?.length) return undefined;
  const seen = new Map<string, { title: string; url: string }>();
  for (const c of citations) {
    // Redacted before being cut to length, so no part of a secret is left at the cut.
    const url = redactedCut(redact, (c as { url?: unknown })?.url, 2000);
    if (!url || seen.has(url) || !/^https?:\/\//i.test(url)) continue;
    seen.set(url, { title: redactedCut(redact, (c as { title?: unknown }).title, 300) || url, url });
    if (seen.size >= 20) break;
  }
  return seen.size ? [...seen.values()] : undefined;
}

/**
 * The web tool uses a task already made (a resumed or restarted task): the server_tool_use blocks
 * after its start message, and in its open turn. Keeps the per-task limit across restarts.
 */
export function usedByTask(
  messages: WireMessage[],
  start: WireMessage | undefined,
  open: WireBlock[] | undefined,
): { searches: number; fetches: number } {
  const key = start ? JSON.stringify(start) : undefined;
  let from = messages.length;
  if (key)
    for (let i = messages.length - 1; i >= 0; i--)
      if (messages[i].role === start?.role && JSON.stringify(messages[i]) === key) {
        from = i;
        break;
      }
  const used = usesIn(messages.slice(from));
  const more = countUses(open ?? []);
  return { searches: used.searches + more.searches, fetches: used.fetches + more.fetches };
}
