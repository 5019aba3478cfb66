// Push receipts, from the service worker (and the app, which sends what waited): "this push was shown"
// (delivered) and "it was tapped" (opened), posted to the computer with the push's own id. When the
// computer can't be reached they wait in this app's IndexedDB and go the next time a push arrives or
// the app connects. An id the computer does not know (or a malformed one) is dropped, not retried.
import { idb } from './idb.js';

export interface PushReceiptOut {
  pushId: string;
  state: 'delivered' | 'opened';
  at: number;
}
interface Queued extends PushReceiptOut {
  type: 'push-receipt';
}

const ID = /^[A-Za-z0-9_-]{16,64}$/;
/** Older than this, a receipt is news to nobody: dropped instead of sent. */
const MAX_AGE_MS = 7 * 24 * 3600_000;
const keyOf = (r: PushReceiptOut) => `push-receipt:${r.pushId}:${r.state}`;

export const validPushId = (v: unknown): v is string => typeof v === 'string' && ID.test(v);

async function post(r: PushReceiptOut): Promise<'done' | 'retry'> {
  try {
    const res = await fetch('/api/push/receipt', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pushId: r.pushId, state: r.state, at: r.at }),
      credentials: 'omit',
    });
    // 400 / 404: the computer will never take it (malformed, or a push it does not know): drop it.
    return res.ok || res.status === 400 || res.status === 404 ? 'done' : 'retry';
  } catch {
    return 'retry';
  }
}

/** Send a receipt now, or keep it for later when the computer can't be reached. */
export async function sendReceipt(r: PushReceiptOut): Promise<void> {
  if (!validPushId(r.pushId)) return;
  if ((await post(r)) === 'retry') await idb.put('kv', keyOf(r), { ...r, type: 'push-receipt' } satisfies Queued);
}

let flushing: Promise<number> | undefined;
/** Send every receipt that waited; resolves with how many still wait. */
export function flushReceipts(now = Date.now()): Promise<number> {
  flushing ??= (async () => {
    const waiting = (await idb.all<unknown>('kv')).filter(
      (v): v is Queued => !!v && typeof v === 'object' && (v as Queued).type === 'push-receipt',
    );
    let left = 0;
    for (const r of waiting) {
      if (now - r.at > MAX_AGE_MS || (await post(r)) === 'done') await idb.del('kv', keyOf(r));
      else left++;
    }
    return left;
  })().finally(() => {
    flushing = undefined;
  });
  return flushing;
}
