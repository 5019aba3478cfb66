// A kill -9 leaves exactly what is on disk, nothing of what was in memory. These tests take that
// state as a copy of the home folder at the instant they choose and start another daemon (in this
// process, from source) on the copy, so the moment of the "crash" is exact rather than a race.
// holdPushJsonWrites keeps push.json as it is on disk while a change is committed, as a crash right
// after that commit would find it (the write that would record the change's push has not landed).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** What a kill -9 now would leave: a copy of the home folder (not the lock or the control socket). */
export function crashCopy(home: string): string {
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-crash-copy-'));
  fs.cpSync(home, copy, {
    recursive: true,
    filter: (src) => !['daemon.lock', 'control.sock'].includes(path.relative(home, src)),
  });
  return copy;
}

/** Until `release`, a new push.json in `home` is not put in place (its write waits just before the rename). */
export function holdPushJsonWrites(home: string): { release(): void } {
  const target = path.join(fs.realpathSync(home), 'store', 'push.json');
  const rename = fsp.rename;
  let open!: () => void;
  const held = new Promise<void>((resolve) => {
    open = resolve;
  });
  fsp.rename = async (from, to) => {
    if (path.resolve(String(to)) === target) await held;
    return rename(from, to);
  };
  return {
    release() {
      fsp.rename = rename;
      open();
    },
  };
}
