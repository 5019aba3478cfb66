// Settings → Memory in words: how many files there are, and whether the list shows them all. The
// agent reads every file, so a list the daemon cut (to keep its reply small) says so, and "Delete
// all" names every file it deletes, not only those shown.
// Before the shared module builds its schemas (see zod-config.ts): this file is loaded early.
import '../conn/zod-config.js';
import { MAX_MEMORY_FILES, type MemoryListResult } from '../../../shared/src/index.js';

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
