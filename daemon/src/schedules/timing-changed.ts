// Whether an edit changed when a schedule runs. The phone sends the rhythm it shows as a new object
// even when only the name changed, so rhythms are compared by value (key order aside), never by
// reference: a rename must not move the next run or be checked as a new time.
import type { Schedule } from '../../../shared/src/index.js';
import { canonicalJson } from '../tools/util.js';

type Timing = Pick<Schedule, 'when' | 'timeZone'>;

export function timingChanged(before: Timing, after: Timing): boolean {
  return before.timeZone !== after.timeZone || canonicalJson(before.when) !== canonicalJson(after.when);
}
