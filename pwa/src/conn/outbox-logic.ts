// Pure outbox rules, kept apart from I/O so they are easy to test.

export interface OutboxFile {
  name: string;
  type: string;
  blob: Blob;
}

/** What every entry has: the command id, the same on every resend, so the host runs it once. */
interface Queued {
  id: string;
  createdAt: number;
  state: 'pending' | 'failed';
  error?: string;
}

/** A message: a new thread, or a follow-up in one. */
export interface OutboxEntry extends Queued {
  type: 'thread.create' | 'thread.send';
  threadId?: string;
  text: string;
  /** Files still to upload (kept as Blobs in IndexedDB while offline). */
  files: OutboxFile[];
  /** Files already uploaded: their ids and names. */
  uploaded: { id: string; name: string }[];
}

/** An answer to the agent's open question. The host takes one answer per question (a second is a conflict). */
export interface AnswerEntry extends Queued {
  type: 'task.answer';
  threadId: string;
  taskId: string;
  questionId: string;
  text: string;
}

export type Decision = 'approve' | 'deny' | 'allow_task';

/** An Approve, Deny or Allow for this task. The hash ties it to the exact action; the host takes one decision. */
export interface DecisionEntry extends Queued {
  type: 'approval.decide';
  threadId: string;
  approvalId: string;
  hash: string;
  decision: Decision;
  /** What the approval asked, to name it if the decision comes back refused after its card is gone. */
  summary: string;
  /** With a denial typed in the message box: what the agent should do instead. */
  note?: string;
}

/** The person's response to something the agent waits on: kept apart from messages (outbox.ts). */
export type ResponseEntry = AnswerEntry | DecisionEntry;
/** Anything waiting to be sent. */
export type QueuedEntry = OutboxEntry | ResponseEntry;

/** Errors worth retrying later with the same id; anything else is shown to the user as failed. */
const RETRYABLE = new Set(['offline', 'timeout', 'unavailable', 'rate_limited', 'internal', 'upload_unavailable']);
export const isRetryable = (code: string): boolean => RETRYABLE.has(code);

/** What to send next: the oldest pending entry (order matters: a follow-up after its thread, after an answer). */
export function nextToSend<E extends Queued>(entries: readonly E[]): E | undefined {
  let best: E | undefined;
  for (const e of entries) if (e.state === 'pending' && (!best || e.createdAt < best.createdAt)) best = e;
  return best;
}

export function toCommand(
  e: QueuedEntry,
):
  | { id: string; type: 'thread.create'; text: string; attachmentIds?: string[] }
  | { id: string; type: 'thread.send'; threadId: string; text: string; attachmentIds?: string[] }
  | { id: string; type: 'task.answer'; taskId: string; questionId: string; text: string }
  | { id: string; type: 'approval.decide'; approvalId: string; hash: string; decision: Decision; note?: string } {
  if (e.type === 'task.answer')
    return { id: e.id, type: 'task.answer', taskId: e.taskId, questionId: e.questionId, text: e.text };
  if (e.type === 'approval.decide')
    return {
      id: e.id,
      type: 'approval.decide',
      approvalId: e.approvalId,
      hash: e.hash,
      decision: e.decision,
      ...(e.note ? { note: e.note } : {}),
    };
  const attachmentIds = e.uploaded.length ? e.uploaded.map((u) => u.id) : undefined;
  if (e.type === 'thread.create')
    return { id: e.id, type: 'thread.create', text: e.text, ...(attachmentIds ? { attachmentIds } : {}) };
  return {
    id: e.id,
    type: 'thread.send',
    threadId: e.threadId!,
    text: e.text,
    ...(attachmentIds ? { attachmentIds } : {}),
  };
}

/** Messages to show in a thread (or, for a thread being created, under its pending id). */
export function entriesFor(entries: readonly OutboxEntry[], threadId: string): OutboxEntry[] {
  return entries
    .filter((e) => (e.type === 'thread.send' ? e.threadId === threadId : `pending:${e.id}` === threadId))
    .sort((a, b) => a.createdAt - b.createdAt);
}

/** The answer queued (or refused) for a question, if any. */
export const answerFor = (entries: readonly ResponseEntry[], questionId: string): AnswerEntry | undefined =>
  entries.find((e): e is AnswerEntry => e.type === 'task.answer' && e.questionId === questionId);

/** The decision queued (or refused) for an approval, if any. */
export const decisionFor = (entries: readonly ResponseEntry[], approvalId: string): DecisionEntry | undefined =>
  entries.find((e): e is DecisionEntry => e.type === 'approval.decide' && e.approvalId === approvalId);

/**
 * Answers and decisions the host refused whose card is gone (the question was answered from another
 * device, the approval expired while the phone was away): said in the thread, so the person learns
 * their answer or their Approve was not used. One whose card is still shown is said on the card.
 */
export function refusedFor(
  entries: readonly ResponseEntry[],
  threadId: string,
  shown: { questions: ReadonlySet<string>; approvals: ReadonlySet<string> },
): ResponseEntry[] {
  return entries
    .filter(
      (e) =>
        e.state === 'failed' &&
        ((e.type === 'task.answer' && e.threadId === threadId && !shown.questions.has(e.questionId)) ||
          (e.type === 'approval.decide' && e.threadId === threadId && !shown.approvals.has(e.approvalId))),
    )
    .sort((a, b) => a.createdAt - b.createdAt);
}

/** The button a decision came from, in the card's own words. */
export const DECISION_WORDS: Record<Decision, string> = {
  approve: 'Approve',
  deny: 'Deny',
  allow_task: 'Allow for this task',
};
