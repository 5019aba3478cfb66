// The last resort for an approval or question nobody confirmed: an ntfy topic (ntfy's plain HTTP
// publish: POST the message to the topic URL, with Title / Click / Priority / Tags headers) or a
// generic webhook (POST JSON). The message says only what kind of thing waits and links to the app:
// no command, no file text, no model text, no secret. Redirects are not followed.
import type { Approval, Question } from '../../../shared/src/index.js';
import type { Config } from '../config/schema.js';
import { privateActionLine, threadUrl } from './payload.js';

export type FallbackConfig = NonNullable<Config['push']['fallback']>;

export interface FallbackMessage {
  kind: 'approval' | 'question';
  title: string;
  body: string;
  /** A link into the app (the thread). */
  url: string;
  threadId?: string;
}

const TIMEOUT_MS = 10_000;
/** Header values are ASCII; anything else becomes a space. */
const ascii = (s: string) => s.replace(/[^\x20-\x7e]+/g, ' ').trim();

export async function sendFallback(
  target: FallbackConfig,
  m: FallbackMessage,
  fetchImpl: typeof fetch = fetch,
): Promise<{ ok: boolean; status?: number; detail?: string }> {
  const init: RequestInit =
    target.type === 'ntfy'
      ? {
          method: 'POST',
          headers: {
            'content-type': 'text/plain; charset=utf-8',
            title: ascii(m.title),
            click: m.url,
            priority: 'high',
            tags: m.kind === 'approval' ? 'raised_hand' : 'question',
          },
          body: `${m.body}\n${m.url}`,
        }
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ source: 'errand', ...m, at: Date.now() }),
        };
  try {
    const res = await fetchImpl(target.url, { ...init, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
    await res.body?.cancel().catch(() => undefined);
    return res.ok
      ? { ok: true, status: res.status }
      : { ok: false, status: res.status, detail: `the ${target.type} server answered ${res.status}` };
  } catch (err) {
    return { ok: false, detail: `could not reach the ${target.type} server: ${(err as Error).message}`.slice(0, 200) };
  }
}

/** The fallback message for an approval or question: what waits and a link, never its text. */
export function fallbackMessageFor(
  event: { kind: 'approval.requested'; approval: Approval } | { kind: 'question.asked'; question: Question },
  appOrigin: string,
  /** The allowed folders (real paths): the message names the one the action is in. */
  roots: readonly string[] = [],
): FallbackMessage {
  if (event.kind === 'approval.requested') {
    const a = event.approval;
    return {
      kind: 'approval',
      title: 'Errand needs your OK',
      body: `Needs your OK: ${privateActionLine(a.tool, a.action, roots)}. Open Errand to decide.`,
      url: `${appOrigin}${threadUrl(a.threadId)}`,
      threadId: a.threadId,
    };
  }
  const q = event.question;
  return {
    kind: 'question',
    title: 'Errand has a question',
    body: 'Your computer has a question for you. Open Errand to answer.',
    url: `${appOrigin}${threadUrl(q.threadId)}`,
    threadId: q.threadId,
  };
}
