// A shell command's snapshot does not read again a file whose stat signature (with its ctime, which
// only the kernel sets) is the same as when it was kept. These pin what makes that safe: a change
// that keeps size and mtime (touch -d) is still seen, and so is one made in the moments around the
// keeping, whose ctime could share a timestamp tick with it.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { diffSnapshot, statSignature, takeSnapshot } from '../../src/tools/shell-journal.js';

let dir: string;
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const noSkip = () => false;

async function keep(root: string) {
  const result = await takeSnapshot(root, noSkip);
  if (!result.ok) throw new Error(result.reason);
  return result.snapshot;
}

describe('shell snapshot signatures', () => {
  it('sees a same-size rewrite with the old mtime put back on a file kept long after it last changed', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-sig-'));
    const file = path.join(dir, 'settled.txt');
    fs.writeFileSync(file, 'aaaa');
    const snap = await keep(dir);
    // As if the file had last changed well before it was kept (outside the racy window).
    snap.takenAt = Date.now() + 60_000;
    const { mtimeNs } = fs.statSync(file, { bigint: true });
    const mtime = `@${mtimeNs / 1_000_000_000n}.${(mtimeNs % 1_000_000_000n).toString().padStart(9, '0')}`;
    fs.writeFileSync(file, 'bbbb');
    execFileSync('touch', ['-m', '-d', mtime, file]); // the mtime to the nanosecond, as it was
    expect(fs.statSync(file, { bigint: true }).mtimeNs).toBe(mtimeNs);
    const { changes } = await diffSnapshot(snap, noSkip);
    expect(changes.modified.map((m) => [m.path, m.before.toString()])).toEqual([[file, 'aaaa']]);
  });

  it('compares a file kept within the racy window even when its signature did not change', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-sig-'));
    const fresh = path.join(dir, 'fresh.txt');
    const settled = path.join(dir, 'settled.txt');
    fs.writeFileSync(fresh, 'one');
    fs.writeFileSync(settled, 'old');
    const snap = await keep(dir);
    fs.writeFileSync(fresh, 'two');
    fs.writeFileSync(settled, 'new');
    // A rewrite within the same timestamp tick as the keeping leaves the signature as it was: here
    // both files' kept signatures are set to what they are now.
    for (const f of [fresh, settled]) snap.files.get(f)!.sig = statSignature(fs.lstatSync(f));
    const { changes } = await diffSnapshot(snap, noSkip);
    // fresh.txt changed moments before it was kept, so it is compared all the same.
    expect(changes.modified.map((m) => [m.path, m.before.toString()])).toContainEqual([fresh, 'one']);
    // Counter-check that the signature is what decides otherwise: a file kept as settled is trusted.
    const later = await keep(dir);
    later.takenAt = Date.now() + 60_000;
    fs.writeFileSync(settled, 'NEW');
    later.files.get(settled)!.sig = statSignature(fs.lstatSync(settled));
    const after = await diffSnapshot(later, noSkip);
    expect(after.changes.modified.map((m) => m.path)).not.toContain(settled);
  });
});
