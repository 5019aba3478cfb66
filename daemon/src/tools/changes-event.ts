// What devices are told when a task's change list changes: the list itself while it is short, only
// its length past that. Apart from the change journal, which keeps the list but sends nothing.
import type { ChangeEntry, ServerEvent } from '../../../shared/src/index.js';
import { MAX_EVENT_BYTES } from '../store/journal.js';

/**
 * The most a changes.updated event's list may weigh (serialized): a quarter of an event. The list is
 * sent again after every step that changes files, and every device replays the event log.
 */
export const MAX_CHANGES_EVENT_BYTES = MAX_EVENT_BYTES / 4;

/**
 * The changes.updated event for a task's change list: the whole list while it is short; past that,
 * only its length, and the client fetches the list with task.changes.
 */
export function changesUpdated(
  taskId: string,
  changes: ChangeEntry[],
): Extract<ServerEvent, { kind: 'changes.updated' }> {
  let bytes = 2; // the brackets
  for (const c of changes) {
    bytes += Buffer.byteLength(JSON.stringify(c)) + 1;
    if (bytes > MAX_CHANGES_EVENT_BYTES)
      return { kind: 'changes.updated', taskId, changes: [], count: changes.length, omitted: true };
  }
  return { kind: 'changes.updated', taskId, changes, count: changes.length };
}
