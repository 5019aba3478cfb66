// Which model failures are worth another attempt, how long to wait, and how to say what went wrong.
// The SDK's error classes are recognised by name, so this module does not load the SDK (about 20 MB
// resident): the daemon loads it with the first task.
import type { APIError } from '@anthropic-ai/sdk';

/** `err` is an instance of the SDK class named `name` (or of a subclass). */
function isA(err: unknown, name: string): boolean {
  for (
    let p = err !== null && typeof err === 'object' ? Object.getPrototypeOf(err) : null;
    p;
    p = Object.getPrototypeOf(p)
  ) {
    if ((p as { constructor?: { name?: string } }).constructor?.name === name) return true;
  }
  return false;
}

/** The stream ended (or the connection closed) before message_stop. */
export class IncompleteStreamError extends Error {
  constructor() {
    super('The connection to the model broke in the middle of a reply.');
  }
}

/** No stream event for too long: the connection is alive but nothing comes. */
export class StalledStreamError extends Error {
  constructor(ms: number) {
    super(`The model API sent nothing for ${Math.round(ms / 1000)} seconds.`);
  }
}

/**
 * The reply broke the Messages API's shape (a tool call without a proper id or name, a reply far
 * past any max_tokens): a broken or hostile model server. Not used, not retried.
 */
export class ModelOutputError extends Error {}

export interface Failure {
  retryable: boolean;
  /** For a person: what went wrong. */
  message: string;
  /** What the server asked us to wait, when it said. */
  retryAfterMs?: number;
  /** Retryable failures: what is going on, in a few words for the person on the phone. */
  brief?: string;
}

/** The thread notice for a retry: what happened and when Errand tries again. */
export function retryNotice(f: Failure, delayMs: number): string {
  const secs = Math.max(1, Math.round(delayMs / 1000));
  const when = secs >= 90 ? `${Math.round(secs / 60)} min` : `${secs} s`;
  return `${f.brief ?? 'Claude could not answer just now'}; trying again in ${when}.`;
}

function header(err: APIError, name: string): string | null {
  const h = err.headers as Headers | undefined;
  return h && typeof h.get === 'function' ? h.get(name) : null;
}

export function retryAfterMs(err: APIError): number | undefined {
  const ms = header(err, 'retry-after-ms');
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const raw = header(err, 'retry-after');
  if (!raw) return undefined;
  const secs = Number(raw);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

function apiText(err: APIError): string {
  return err.apiMessage ?? (err.message || 'no details');
}

/** The API's words end as a sentence, so the next step after them reads as its own. */
const sentence = (text: string): string => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

/**
 * What went wrong and whether to retry. Its text becomes the task's reason, the thread's last line,
 * a notice on every phone and a journal entry, so it is redacted: of `secrets` (the API key and any
 * other the daemon holds in clear), and of anything shaped like an API key. Gateways and proxies
 * echo the key in their errors ("invalid x-api-key: sk-…").
 */
export function classify(err: unknown, model: string, secrets: readonly string[] = []): Failure {
  const f = describe(err, model);
  const clean = (text: string) => redactSecrets(text, secrets);
  return { ...f, message: clean(f.message), ...(f.brief === undefined ? {} : { brief: clean(f.brief) }) };
}

/**
 * `text` without the known secrets (8 characters or more, as tools/redact.ts counts them) and
 * without anything shaped like an API key (`sk-…`: Anthropic's and most gateways'), which a proxy may
 * echo even when it is not the key Errand holds. Done here, not with tools/redact.ts, so agent/ does
 * not import tools/ (which imports agent/).
 */
function redactSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 8 && out.includes(s)) out = out.split(s).join('[redacted]');
  return out.replace(/\b(?:sk|pk|rk)-[A-Za-z0-9_-]{8,}/g, '[redacted]');
}

function describe(err: unknown, model: string): Failure {
  if (err instanceof IncompleteStreamError)
    return { retryable: true, message: err.message, brief: 'The connection to Claude broke in the middle of a reply' };
  if (err instanceof StalledStreamError)
    return { retryable: true, message: err.message, brief: 'Claude stopped responding' };
  if (isA(err, 'APIUserAbortError')) return { retryable: false, message: 'The request was cancelled.' };
  if (err instanceof ModelOutputError)
    return {
      retryable: false,
      message: `${err.message} Retry; if it happens again, check anthropic.baseUrl in config.json.`,
    };
  if (isA(err, 'APIConnectionError')) {
    const cause = ((err as Error).cause as Error | undefined)?.message;
    return {
      retryable: true,
      message: `Could not reach the model API${cause ? ` (${cause})` : ''}.`,
      brief: "Errand could not reach Claude's servers",
    };
  }
  if (isA(err, 'APIError')) {
    const e = err as APIError;
    const status = e.status;
    const after = retryAfterMs(e);
    if (status === undefined) {
      // An `event: error` inside the stream (e.g. overloaded_error mid-reply).
      const type = e.type ?? 'api_error';
      const retryable = ['overloaded_error', 'api_error', 'rate_limit_error', 'timeout_error'].includes(type);
      const what = type === 'overloaded_error' ? 'The Anthropic API is overloaded' : `The model API reported ${type}`;
      const brief =
        type === 'overloaded_error'
          ? "Claude's servers are busy"
          : type === 'rate_limit_error'
            ? 'Claude is getting too many requests from this API key'
            : "Claude's servers had a problem";
      return { retryable, message: `${what} (${apiText(e)}).`, ...(retryable ? { brief } : {}) };
    }
    if (status === 401) {
      return {
        retryable: false,
        message:
          'The Anthropic API rejected the API key (401). Check ANTHROPIC_API_KEY or anthropic.apiKey in config.json.',
      };
    }
    if (status === 403)
      return {
        retryable: false,
        message: `The API key is not allowed to do this (403): ${sentence(apiText(e))} Check the key's permissions in the Anthropic Console, then retry.`,
      };
    if (status === 404)
      return {
        retryable: false,
        message: `The model API does not know model "${model}" or the base URL is wrong (404): ${sentence(apiText(e))} Check anthropic.model and anthropic.baseUrl in config.json, then retry.`,
      };
    if (status === 402)
      return {
        retryable: false,
        message: `The Anthropic account has a billing problem (402): ${sentence(apiText(e))} Check billing in the Anthropic Console, then retry.`,
      };
    if (status === 429) {
      return {
        retryable: true,
        message: `The Anthropic API is rate limiting this key (429): ${apiText(e)}`,
        retryAfterMs: after,
        brief: 'Claude is getting too many requests from this API key (HTTP 429)',
      };
    }
    if (status === 529)
      return {
        retryable: true,
        message: `The Anthropic API is overloaded (529): ${apiText(e)}`,
        retryAfterMs: after,
        brief: "Claude's servers are busy (HTTP 529)",
      };
    if (status === 408 || status === 409 || status >= 500) {
      return {
        retryable: true,
        message: `The model API had a server error (${status}): ${apiText(e)}`,
        retryAfterMs: after,
        brief: `Claude's servers had a problem (HTTP ${status})`,
      };
    }
    return {
      retryable: false,
      message: `The model API refused the request (${status}): ${sentence(apiText(e))} Retry; if it is refused again, start a new thread.`,
    };
  }
  // fetch/undici failures surface as TypeError('terminated'), ECONNRESET …: the network.
  const msg = err instanceof Error ? err.message : String(err);
  return {
    retryable: true,
    message: `The connection to the model API failed (${msg}).`,
    brief: "The connection to Claude's servers failed",
  };
}

/** Exponential backoff with jitter: ~base, 2×base, 4×base … capped. */
export function backoffMs(attempt: number, baseMs: number, capMs = 30_000): number {
  const exp = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(exp * (0.75 + Math.random() * 0.5));
}
