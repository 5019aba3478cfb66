// What a shell command changed, as the change journal's entries: new folders as mkdir, new files as
// create, changed files as write (their content before kept as a blob), deleted files as trash (their
// content before put in a trash slot, so undo and the trash restore them like a file a tool deleted).
// Apart from the journal, which writes them as one line once they are built.
import { writeAtomic } from './journal-io.js';
import { type JournalEntry, newChangeId, type TaskRecords } from './journal-records.js';
import type { TrashSlots } from './journal-trash.js';
import type { ExternalChanges } from './shell-journal.js';
import { sha256 } from './util.js';

/** The entries for a shell run's changes, with the content before each kept (blobs, trash slots). */
export async function externalEntries(
  taskId: string,
  changes: ExternalChanges,
  records: TaskRecords,
  trash: TrashSlots,
): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  const add = (entry: JournalEntry) => out.push(entry);
  for (const dir of changes.dirs)
    add({ id: newChangeId(), taskId, op: 'mkdir', path: dir, at: Date.now(), kind: 'dir' });
  for (const c of changes.created)
    add({
      id: newChangeId(),
      taskId,
      op: 'create',
      path: c.path,
      at: Date.now(),
      kind: 'file',
      afterSha: c.afterSha,
    });
  for (const c of changes.modified) {
    const beforeBlob = await records.saveBlob(taskId, c.before);
    add({
      id: newChangeId(),
      taskId,
      op: 'write',
      path: c.path,
      at: Date.now(),
      kind: 'file',
      beforeBlob,
      beforeMode: c.mode,
      afterSha: c.afterSha,
    });
  }
  for (const c of changes.deleted) {
    const id = newChangeId();
    const trashPath = await trash.newSlot(taskId, c.path, id);
    await writeAtomic(trashPath, c.before, c.mode);
    add({
      id,
      taskId,
      op: 'trash',
      path: c.path,
      at: Date.now(),
      kind: 'file',
      trashPath,
      afterSha: sha256(c.before),
    });
  }
  return out;
}
