// What the schedule edit form sends: only the fields the user changed. Sending the rhythm with a
// rename made the computer treat it as a new time (the next run moved; a one-off that had run
// could not be renamed). The computer compares by value too; this keeps a rename a rename.
import type { CatchUpRule, Schedule, ScheduleWhen } from '../../../shared/src/index.js';

/** The form as the user left it (text and name trimmed; no limit typed: undefined). */
export interface ScheduleFormValues {
  text: string;
  title: string;
  when: ScheduleWhen;
  catchUp: CatchUpRule;
  maxCostUsd?: number;
}

export interface ScheduleEdit {
  text?: string;
  title?: string;
  when?: ScheduleWhen;
  catchUp?: CatchUpRule;
  /** null removes the schedule's own limit. */
  maxCostUsd?: number | null;
}

/** Two rhythms are the same when every field is (each kind's fields are plain values). */
function sameWhen(a: ScheduleWhen, b: ScheduleWhen): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const keys = Object.keys(x);
  return keys.length === Object.keys(y).length && keys.every((k) => x[k] === y[k]);
}

export function scheduleEdit(initial: Schedule, form: ScheduleFormValues): ScheduleEdit {
  const limit = form.maxCostUsd ?? null;
  return {
    ...(form.text !== initial.text ? { text: form.text } : {}),
    // An emptied name is not sent: the schedule keeps the one it has.
    ...(form.title && form.title !== initial.title ? { title: form.title } : {}),
    ...(sameWhen(form.when, initial.when) ? {} : { when: form.when }),
    ...(form.catchUp !== initial.catchUp ? { catchUp: form.catchUp } : {}),
    // An emptied limit removes the schedule's own one (null), not leaves it in place.
    ...(limit !== (initial.maxCostUsd ?? null) ? { maxCostUsd: limit } : {}),
  };
}
