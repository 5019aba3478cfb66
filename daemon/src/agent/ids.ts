// Ids of threads' tasks, items and questions: random, url-safe. A leaf module, so the loop can
// name the items it streams without importing the thread records.
import { randomId } from '../util/random-id.js';

const rand = (n = 9) => randomId(n);

/** Task ids carry their thread id, so a command naming a task finds its thread without a search. */
export const newTaskId = (threadId: string) => `${threadId}.t${rand()}`;
export const threadOfTask = (taskId: string): string => taskId.split('.')[0] ?? '';
export const newItemId = (prefix: 'msg' | 'itm' | 'ntc') => `${prefix}_${rand()}`;
export const newQuestionId = () => `q_${rand()}`;
