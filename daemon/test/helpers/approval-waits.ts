// Waiting on a phone's socket for what a task asks next: its next approval, or its end.
import type { Approval } from '../../../shared/src/index.js';
import type { WsTestClient } from './ws-client.js';

const ENDED = ['done', 'failed', 'cancelled', 'interrupted'];

/** The next approval of `taskId` not in `seen`, or the task ending first (then undefined); bounded. */
export async function nextApprovalOrEnd(
  phone: WsTestClient,
  taskId: string,
  seen: Set<string>,
  timeoutMs = 30_000,
): Promise<Approval | undefined> {
  const f = await phone.waitFor(
    (fr) =>
      fr.type === 'event' &&
      ((fr.event.kind === 'approval.requested' &&
        fr.event.approval.taskId === taskId &&
        !seen.has(fr.event.approval.id)) ||
        (fr.event.kind === 'task.updated' && fr.event.task.id === taskId && ENDED.includes(fr.event.task.state))),
    timeoutMs,
  );
  if (f.type !== 'event' || f.event.kind !== 'approval.requested') return undefined;
  seen.add(f.event.approval.id);
  return f.event.approval;
}
