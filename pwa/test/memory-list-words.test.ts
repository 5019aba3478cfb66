// Settings → Memory says when the daemon cut its list ("Showing 1,000 of 1,153 …"), and "Delete all"
// names every file it deletes, not only those shown; an older daemon's reply (no total) reads as before.
import { describe, expect, it } from 'vitest';
import type { MemoryEntry } from '../../shared/src/index.js';
import { memoryListWords } from '../src/lib/memory-words.js';

const entries = (n: number): MemoryEntry[] =>
  Array.from({ length: n }, (_, i) => ({ path: `/memories/n/${i}.md`, bytes: 1, modifiedAt: 1 }));

describe('memory list words', () => {
  it('a cut list says how many it shows of how many, and Delete all names the true count', () => {
    const w = memoryListWords({ entries: entries(1000), enabled: true, total: 1153, truncated: true });
    expect(w.showing).toBe(
      'Showing 1,000 of 1,153 memory files (the first by name). Memory holds at most 500: the agent adds none until some are deleted.',
    );
    expect(w.clearAll).toBe('Delete all 1,153 now');
    expect(w.total).toBe(1153);
  });

  it('a whole list says nothing more', () => {
    const w = memoryListWords({ entries: entries(2), enabled: true, total: 2, truncated: false });
    expect(w).toEqual({ total: 2, showing: undefined, clearAll: 'Delete all 2 now' });
  });

  it("an older daemon's reply (entries only) reads as all there is", () => {
    expect(memoryListWords({ entries: entries(3), enabled: true })).toEqual({
      total: 3,
      showing: undefined,
      clearAll: 'Delete all 3 now',
    });
  });
});
