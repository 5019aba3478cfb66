// A tapped notification's target, for when the phone starts the app at its start page instead of the
// notification's link (iOS does this when the app was closed). The service worker leaves the target
// here before opening a window; the app takes it once at start (fresh only) and shows that thread.
import { idb } from './idb.js';

const KEY = 'pending-open';
/** A tap older than this is not what the person is opening the app for. */
const FRESH_MS = 60_000;

export const savePendingOpen = (url: string) => idb.put('kv', KEY, { url, at: Date.now() });

/** Take the pending target (at most once): its hash route, when fresh and inside this app. */
export async function takePendingOpen(now = Date.now()): Promise<string | undefined> {
  const p = await idb.get<{ url?: unknown; at?: unknown }>('kv', KEY);
  if (!p) return undefined;
  await idb.del('kv', KEY);
  if (typeof p.url !== 'string' || typeof p.at !== 'number' || now - p.at > FRESH_MS) return undefined;
  const hash = p.url.match(/^\/(#.*)$/)?.[1];
  return hash && hash.length > 1 ? hash : undefined;
}
