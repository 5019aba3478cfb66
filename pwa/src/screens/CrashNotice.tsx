// The durable notice the computer writes into a thread when it restarts after a crash that cut a task
// off: "Errand stopped unexpectedly while this task was running. Resume it to continue from its last
// checkpoint." The first sentence stays true for good; the instruction only while Resume is offered.
import type { ThreadItem } from '../../../shared/src/index.js';
import { CRASH_REASONS } from '../../../shared/src/task-states.js';
import { appStore } from '../state/app.js';
import { useStore } from '../state/store.js';
import { useLaterMessageRan } from './Cards.js';

type NoticeItem = Extract<ThreadItem, { kind: 'notice' }>;

/** The notice carries no marker of its own: it is known by the crash reason it starts with. */
export const isCrashNotice = (item: NoticeItem): boolean =>
  item.taskId !== undefined && item.text.startsWith(CRASH_REASONS.running);

/** What happened, without "Resume it…" once the task was resumed, retried, or a later message ran. */
export const CRASH_FACT = `${CRASH_REASONS.running}.`;

export function CrashNotice({ item, threadId }: { item: NoticeItem; threadId: string }) {
  const task = useStore(appStore, (s) => s.details[threadId]?.tasks[item.taskId ?? '']);
  const laterRan = useLaterMessageRan(threadId, task);
  const threadDeleted = useStore(appStore, (s) => s.threads[threadId]?.state === 'deleted');
  // The same conditions under which the task's footer offers Resume.
  const resumable = task?.state === 'interrupted' && !laterRan && !threadDeleted;
  return <p class="item-notice">{resumable ? item.text : CRASH_FACT}</p>;
}
