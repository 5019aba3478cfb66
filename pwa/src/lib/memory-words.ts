// Settings → Memory in words: how many files there are, and whether the list shows them all. The
// agent reads every file, so a list the daemon cut (to keep its reply small) says so, and "Delete
// all" names every file it deletes, not only those shown.
// Before the shared module builds its schemas (see zod-config.ts): this file is loaded early.
import '../conn/zod-config.js';
import { MAX_MEMORY_FILES, type MemoryListResult, type MemoryWriter } from '../../../shared/src/index.js';
import { visibleProse, visibleText } from '../../../shared/src/visible-text.js';

const count = (n: number) => n.toLocaleString('en');

export interface MemoryListWords {
  /** How many files there are in all (an older daemon's reply: the entries it sent). */
  total: number;
  /** "Showing 1,000 of 1,153 …" when the list is cut, else undefined. */
  showing?: string;
  /** The clear button once confirmed. */
  clearAll: string;
}

export function memoryListWords(list: MemoryListResult): MemoryListWords {
  const total = Math.max(list.total ?? 0, list.entries.length);
  const cut = list.truncated === true || total > list.entries.length;
  return {
    total,
    showing: cut
      ? `Showing ${count(list.entries.length)} of ${count(total)} memory files (the first by name). Memory holds at most ${count(MAX_MEMORY_FILES)}: the agent adds none until some are deleted.`
      : undefined,
    clearAll: `Delete all ${count(total)} now`,
  };
}

/**
 * Who last saved a note, in words. A note the model saved must not read as one the person saved:
 * "Saved by a task in " + the thread's title (a link, while the thread exists). Thread titles and
 * device names are shown with their hidden and direction-changing characters made visible.
 */
export interface MemoryWriterWords {
  text: string;
  /** The thread to link to, after `text`, named `title`. */
  thread?: { id: string; title: string };
  /** Written by a task: shown apart, as the model's. */
  byTask: boolean;
}

export function memoryWriterWords(by: MemoryWriter | undefined, thisDeviceId?: string): MemoryWriterWords | undefined {
  switch (by?.kind) {
    case undefined:
      return undefined; // an older daemon: it does not say
    case 'task':
      return by.threadTitle === undefined
        ? { text: 'Saved by a task in a thread since deleted', byTask: true }
        : {
            text: 'Saved by a task in ',
            thread: { id: by.threadId, title: visibleProse(by.threadTitle) || '(untitled)' },
            byTask: true,
          };
    case 'device':
      return {
        text: by.deviceId === thisDeviceId ? 'Saved on this phone' : `Saved on ${visibleText(by.deviceName)}`,
        byTask: false,
      };
    case 'computer':
      return { text: 'Saved with errand on your computer', byTask: false };
    case 'outside':
      return { text: 'Changed outside Errand', byTask: false };
    case 'unknown':
      return { text: 'Saved outside Errand (who saved it is not known)', byTask: false };
  }
}
