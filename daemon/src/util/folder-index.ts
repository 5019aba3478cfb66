// The names in a folder its only writer keeps track of: listed once when first asked, then kept up
// to date by that writer. A lookup per task on the daemon's thread (is there a file for it?) waits
// behind the disk's flushes under load; most tasks have none.
import fs from 'node:fs';

export class FolderIndex {
  private names: Set<string> | undefined;

  /** `keyOf` turns an entry's name into its key (undefined: not counted). */
  constructor(
    private readonly dir: string,
    private readonly keyOf: (name: string) => string | undefined = (name) => name,
  ) {}

  private listed(): Set<string> {
    if (!this.names) {
      let entries: string[] = [];
      try {
        entries = fs.readdirSync(this.dir);
      } catch {
        /* no folder yet: nothing in it */
      }
      this.names = new Set(entries.map(this.keyOf).filter((k): k is string => k !== undefined));
    }
    return this.names;
  }

  has(key: string): boolean {
    return this.listed().has(key);
  }

  /** The writer made an entry for `key` (call before making it, so a listing cannot miss it). */
  add(key: string): void {
    this.listed().add(key);
  }

  /** The writer removed the entry for `key`. */
  delete(key: string): void {
    this.listed().delete(key);
  }
}
