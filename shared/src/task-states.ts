// Task-state vocabulary shared by daemon and app, free of schema code (the app's first load stays light).

export const TASK_STATES = ['queued', 'running', 'waiting', 'done', 'failed', 'cancelled', 'interrupted'] as const;
/** The same union as the protocol's TaskState (entities.ts builds its schema from TASK_STATES). */
type TaskState = (typeof TASK_STATES)[number];

/** States in which a task still holds its thread: it runs, waits for the person, or waits its turn. */
export const ACTIVE_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>(['queued', 'running', 'waiting']);
/** States a task reaches when it has stopped (interrupted can still be resumed). */
export const ENDED_TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  'done',
  'failed',
  'cancelled',
  'interrupted',
]);
/**
 * Why a task is interrupted after a crash (set by the daemon's recovery). Such a task does not resume by
 * itself: the phone is told (a push), where a task a clean stop cut off resumes on the next start.
 */
export const CRASH_REASONS = {
  running: 'Errand stopped unexpectedly while this task was running',
  notStarted: 'Errand stopped unexpectedly before this task started',
} as const;
export const isCrashReason = (reason: string | undefined): boolean =>
  reason === CRASH_REASONS.running || reason === CRASH_REASONS.notStarted;

export const isActiveTaskState = (s: string): boolean => ACTIVE_TASK_STATES.has(s as TaskState);
export const isEndedTaskState = (s: string): boolean => ENDED_TASK_STATES.has(s as TaskState);

/** What a thread's chip shows: the most urgent task state in it (waiting for you > running > queued > the latest). */
const URGENCY: TaskState[] = ['waiting', 'running', 'queued'];

export function mostUrgentState(states: Iterable<TaskState>, latest?: TaskState): TaskState | undefined {
  let best = -1;
  for (const s of states) {
    const u = URGENCY.indexOf(s);
    if (u !== -1 && (best === -1 || u < best)) best = u;
  }
  return best === -1 ? latest : URGENCY[best];
}
