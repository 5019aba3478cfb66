// Task-state vocabulary shared by daemon and app, free of schema code (the app's first load stays light).
import type { TaskState } from './protocol/entities.js';

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
