// A Run or Skip tapped on a missed-run notification. The service worker cannot send commands (it has
// no socket), so it leaves the decision here, in this app's own IndexedDB, and opens the app; the app
// sends it once connected. Only this origin's code can write here: a crafted link cannot decide.
import { idb } from './idb.js';

export interface PendingDecision {
  scheduleId: string;
  occurrenceId: string;
  decision: 'run' | 'skip';
  at: number;
}

const KEY = 'pending-schedule-decision';
/** A decision older than this is stale (the person tapped long ago; the app shows the choice instead). */
const FRESH_MS = 10 * 60_000;

export const savePendingDecision = (d: PendingDecision) => idb.put('kv', KEY, d);

/** Take the pending decision (at most once), if it is fresh. */
export async function takePendingDecision(now = Date.now()): Promise<PendingDecision | undefined> {
  const d = await idb.get<PendingDecision>('kv', KEY);
  if (!d) return undefined;
  await idb.del('kv', KEY);
  if (now - d.at > FRESH_MS || (d.decision !== 'run' && d.decision !== 'skip')) return undefined;
  return d;
}
