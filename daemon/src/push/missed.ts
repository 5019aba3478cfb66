// Changes whose push a crash cut off before it was recorded. A push is built once the event's
// journal record is durable and recorded in push.json a moment later: a kill -9 in between leaves the
// change committed and its push nowhere. push.json keeps the last event whose push it holds
// (handledSeq); the next start reads the changes committed after it from the replay window: task
// endings, and schedule updates (a scheduled run that did not run, or a missed one that asks Run or
// Skip), which nothing else would ever announce.
// Approvals and questions are not looked for: after a crash their task is interrupted, so they no
// longer wait for anyone (the interrupted task is pushed instead).
import { isEndedTaskState, type Schedule, type ServerEvent, type Task } from '../../../shared/src/index.js';
import type { EventLog, KeptEvent } from '../store/event-log.js';
import { REPLAY_WINDOW } from '../store/journal.js';

export type WindowEvents = Pick<EventLog, 'framesSince' | 'ready'>;

export interface MissedEnding {
  task: Task;
  /** When its event was committed. */
  at: number;
}

export interface MissedScheduleUpdate {
  schedule: Schedule;
  /** When its event was committed. */
  at: number;
}

export interface MissedChanges {
  /** Each task's last state, for the tasks whose last state is an ending. */
  endings: MissedEnding[];
  /**
   * Every schedule update, oldest first: each may have asked for its own push (one per occurrence),
   * so a later update of the same schedule does not stand for an earlier one.
   */
  schedules: MissedScheduleUpdate[];
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

/** Most events are neither task nor schedule updates: only those frames are parsed. */
const TASK_UPDATED = '"kind":"task.updated"';
const SCHEDULE_UPDATED = '"kind":"schedule.updated"';

function changesIn(frames: KeptEvent[]): MissedChanges {
  const last = new Map<string, MissedEnding>();
  const schedules: MissedScheduleUpdate[] = [];
  for (const k of frames) {
    let frame: Buffer;
    try {
      frame = k.frame;
    } catch {
      continue; // a part of the window that cannot be read back (it is a cache; the journal is the truth)
    }
    if (!frame.includes(TASK_UPDATED) && !frame.includes(SCHEDULE_UPDATED)) continue;
    const { at, event } = JSON.parse(frame.toString('utf8')) as { at: number; event: ServerEvent };
    if (event.kind === 'task.updated') last.set(event.task.id, { task: event.task, at });
    else if (event.kind === 'schedule.updated') schedules.push({ schedule: event.schedule, at });
  }
  return { endings: [...last.values()].filter((e) => isEndedTaskState(e.task.state)), schedules };
}

/** The task endings and schedule updates committed after event `from` (up to `upTo`). */
export async function changesAfter(events: WindowEvents, from: number, upTo: number): Promise<MissedChanges> {
  if (from >= upTo) return { endings: [], schedules: [] };
  return changesIn(await framesAfter(events, from, upTo));
}
