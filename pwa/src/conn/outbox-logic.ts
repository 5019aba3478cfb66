// Pure outbox rules, kept apart from I/O so they are easy to test.

export interface OutboxFile {
  name: string;
  type: string;
  blob: Blob;
}

export interface OutboxEntry {
  /** The command id: the same on every resend, so the host runs it once. */
  id: string;
  createdAt: number;
  type: 'thread.create' | 'thread.send';
  threadId?: string;
  text: string;
  /** Files still to upload (kept as Blobs in IndexedDB while offline). */
  files: OutboxFile[];
  /** Files already uploaded: their ids and names. */
  uploaded: { id: string; name: string }[];
  state: 'pending' | 'failed';
  error?: string;
}

/** Errors worth retrying later with the same id; anything else is shown to the user as failed. */
const RETRYABLE = new Set(['offline', 'timeout', 'unavailable', 'rate_limited', 'internal', 'upload_unavailable']);
export const isRetryable = (code: string): boolean => RETRYABLE.has(code);

/** What to send next: the oldest pending entry (order matters: a follow-up after its thread). */
export function nextToSend(entries: readonly OutboxEntry[]): OutboxEntry | undefined {
  let best: OutboxEntry | undefined;
  for (const e of entries) if (e.state === 'pending' && (!best || e.createdAt < best.createdAt)) best = e;
  return best;
}

export function toCommand(
  e: OutboxEntry,
):
  | { id: string; type: 'thread.create'; text: string; attachmentIds?: string[] }
  | { id: string; type: 'thread.send'; threadId: string; text: string; attachmentIds?: string[] } {
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

/** Entries to show in a thread (or, for a thread being created, under its pending id). */
export function entriesFor(entries: readonly OutboxEntry[], threadId: string): OutboxEntry[] {
  return entries
    .filter((e) => (e.type === 'thread.send' ? e.threadId === threadId : `pending:${e.id}` === threadId))
    .sort((a, b) => a.createdAt - b.createdAt);
}
