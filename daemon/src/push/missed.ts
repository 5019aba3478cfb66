// Task endings whose push a crash cut off before it was recorded. A push is built once the event's
// journal record is durable and recorded in push.json a moment later: a kill -9 in between leaves the
// ending committed and its push nowhere. push.json keeps the last event whose push it holds
// (handledSeq); the next start reads the task endings committed after it from the replay window.
// Approvals and questions are not looked for: after a crash their task is interrupted, so they no
// longer wait for anyone (the interrupted task is pushed instead).
import { isEndedTaskState, type ServerEvent, type Task } from '../../../shared/src/index.js';
import type { EventLog, KeptEvent } from '../store/event-log.js';
import { REPLAY_WINDOW } from '../store/journal.js';

export type WindowEvents = Pick<EventLog, 'framesSince' | 'ready'>;

export interface MissedEnding {
  task: Task;
  /** When its event was committed. */
  at: number;
}

/** The frames after `from` up to `upTo`: all of them while the window holds them, else its newest part. */
async function framesAfter(events: WindowEvents, from: number, upTo: number): Promise<KeptEvent[]> {
  let kept = events.framesSince(from);
  if (!kept) {
    // The window's older part is read after start-up: wait for it before giving up on `from`.
    await events.ready();
    kept = events.framesSince(from);
  }
  // Further back than the window (a long task's events since the last push): take what it still holds.
  for (let back = REPLAY_WINDOW.events; !kept && back >= 1; back = Math.floor(back / 2))
    kept = events.framesSince(Math.max(from, upTo - back));
  return (kept ?? []).filter((k) => k.seq <= upTo);
}

/** Most events are not task updates: only those frames are parsed. */
const TASK_UPDATED = '"kind":"task.updated"';

/** Each task's last state in these frames, for the tasks whose last state is an ending. */
function lastEndings(frames: KeptEvent[]): MissedEnding[] {
  const last = new Map<string, MissedEnding>();
  for (const k of frames) {
    let frame: Buffer;
    try {
      frame = k.frame;
    } catch {
      continue; // a part of the window that cannot be read back (it is a cache; the journal is the truth)
    }
    if (!frame.includes(TASK_UPDATED)) continue;
    const { at, event } = JSON.parse(frame.toString('utf8')) as { at: number; event: ServerEvent };
    if (event.kind === 'task.updated') last.set(event.task.id, { task: event.task, at });
  }
  return [...last.values()].filter((e) => isEndedTaskState(e.task.state));
}

/** The tasks whose last update committed after event `from` (up to `upTo`) is an ending. */
export async function endingsAfter(events: WindowEvents, from: number, upTo: number): Promise<MissedEnding[]> {
  if (from >= upTo) return [];
  return lastEndings(await framesAfter(events, from, upTo));
}
