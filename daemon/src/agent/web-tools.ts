// The Messages API's own web tools (server tools): web search and web fetch run at the API, not on
// this computer, so they cannot be approved per call. What they return is untrusted (it taints the
// thread like connector output); once a thread is tainted, web fetch (a way to send data out in a
// URL) is withdrawn unless the user allowed it for the task. Versions as in @anthropic-ai/sdk 1.12
// (generally available: no beta header).
import type { ServerTool, TextBlock, WireBlock, WireMessage } from './wire.js';

export const WEB_SEARCH = 'web_search';
export const WEB_FETCH = 'web_fetch';
export const WEB_SEARCH_TYPE = 'web_search_20250305';
export const WEB_FETCH_TYPE = 'web_fetch_20250910';

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
}

const domains = (w: WebSettings) =>
  // The API takes one list or the other: an allow list makes a block list moot.
  w.allowedDomains.length
    ? { allowed_domains: [...w.allowedDomains] }
    : w.blockedDomains.length
      ? { blocked_domains: [...w.blockedDomains] }
      : {};

/** The server tools for the next call, and a note for the model when fetch was withdrawn. */
export function webTools(w: WebSettings | undefined, s: WebState): { tools: ServerTool[]; note?: string } {
  if (!w) return { tools: [] };
  const tools: ServerTool[] = [];
  const searchLeft = w.maxUsesPerTask - s.searchesUsed;
  if (w.search && searchLeft > 0)
    tools.push({ type: WEB_SEARCH_TYPE, name: WEB_SEARCH, max_uses: searchLeft, ...domains(w) });
  const fetchLeft = w.maxUsesPerTask - s.fetchesUsed;
  let note: string | undefined;
  if (w.fetch && fetchLeft > 0) {
    if (s.tainted && !s.fetchAllowed)
      note =
        'The web_fetch tool is not available now: this conversation contains untrusted content (web pages or connector output), ' +
        'and fetching a URL could send data out. Work with web search results, or ask the user to allow web fetch for this task from their phone.';
    else tools.push({ type: WEB_FETCH_TYPE, name: WEB_FETCH, max_uses: fetchLeft, ...domains(w) });
  }
  return { tools, ...(note ? { note } : {}) };
}

export const isServerBlock = (b: WireBlock): boolean =>
  b.type === 'server_tool_use' || b.type === 'web_search_tool_result' || b.type === 'web_fetch_tool_result';

/** A reply that holds web results brings untrusted text into the conversation. */
export function readsWeb(content: WireBlock[]): boolean {
  return content.some((b) => b.type === 'web_search_tool_result' || b.type === 'web_fetch_tool_result');
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
export function refusesServerTools(err: unknown): boolean {
  const e = err as { status?: number; message?: string; error?: { error?: { message?: string } } };
  if (e?.status !== 400) return false;
  const msg = `${e.message ?? ''} ${e.error?.error?.message ?? ''}`.toLowerCase();
  return /web_search|web_fetch|server[ _]tool|tools\.\d+|unknown tool|tool type|input_schema/.test(msg);
}

/** Endpoints (anthropic.baseUrl) that refused server tools, while this daemon runs. */
const refusedEndpoints = new Set<string>();
export const webRefusedBy = (baseUrl: string | undefined) => refusedEndpoints.has(baseUrl ?? '');
export const markWebRefused = (baseUrl: string | undefined) => refusedEndpoints.add(baseUrl ?? '');

/** The loop's web options for a run, from config (absent when both tools are off or refused). */
export function webOptions(
  web: WebSettings,
  baseUrl: string | undefined,
  fetchAllowed: boolean,
): { web?: { settings: WebSettings; fetchAllowed: boolean; refused: () => void } } {
  if ((!web.search && !web.fetch) || webRefusedBy(baseUrl)) return {};
  return { web: { settings: web, fetchAllowed, refused: () => markWebRefused(baseUrl) } };
}

/** The system note for the model (appended after the cached prompt, so the cache prefix holds). */
export const noteBlock = (note: string): TextBlock => ({ type: 'text', text: note });
