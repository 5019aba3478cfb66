// A damaged snapshot (disk damage; a crash mid-snapshot only leaves a temp file) refuses start. When
// the journal no longer holds the records it was made from, every tool says the same honest thing:
// restore from a backup; `errand repair` says it cannot rebuild it and changes nothing, instead of
// "nothing to repair". (When the journal still holds them: test/store/snapshot-rebuild-and-mark.test.ts.)
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, expect, it } from 'vitest';
import { homePaths } from '../../src/config/paths.js';
import { openStore } from '../../src/store/index.js';
import { listSnapshots } from '../../src/store/journal.js';
import { ensureBuilt } from '../agent/build.js';
import { runErrand } from '../helpers/cli.js';
import { tempHome } from '../helpers/daemon.js';

const homes: string[] = [];
beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/src/cli/main.js'))).toBe(true);
}, 180_000);
afterEach(() => {
  for (const h of homes.splice(0)) fs.rmSync(h, { recursive: true, force: true });
});

it('a cut-short snapshot: start, doctor and repair name it and the fix; nothing is changed', async () => {
  const home = tempHome();
  homes.push(home);
  // Small segments, none kept for replay: the snapshot of the clean stop drops the ones it covers.
  const store = await openStore(homePaths(home), { journal: { segmentBytes: 600, keepForReplayBytes: 0 } });
  for (let i = 0; i < 3; i++)
    await store.threads.create('Kept in the snapshot', (d) => {
      d.items.push({ kind: 'user', id: `u${i}`, taskId: `t${i}`, text: 'x'.repeat(1000), createdAt: i });
    });
  await store.close();
  const wal = path.join(home, 'store', 'wal');
  const snap = path.join(wal, listSnapshots(wal).at(-1)!);
  const text = fs.readFileSync(snap);
  fs.writeFileSync(snap, text.subarray(0, text.length - 20));
  const before = fs.readFileSync(snap);
  const env = { ERRAND_HOME: home };

  const refused = await runErrand(['start'], env);
  expect(refused.code).toBe(65);
  expect(refused.stderr).toContain(snap);
  expect(refused.stderr).toContain('Restore the store folder from a backup');
  expect(refused.stderr).not.toMatch(/Run `errand repair`/);

  const doctor = await runErrand(['doctor', '--json'], env);
  const check = (
    JSON.parse(doctor.stdout) as { checks: Array<{ id: string; status: string; fix?: string }> }
  ).checks.find((c) => c.id === 'journal');
  expect(check).toMatchObject({ status: 'fail', fix: expect.stringContaining('cannot rebuild this snapshot') });

  expect((await runErrand(['repair', '--check'], env)).code).toBe(1);
  const repair = await runErrand(['repair'], env);
  expect(repair.code).toBe(1);
  expect(repair.stdout).toContain('Not repaired');
  expect(repair.stdout).toContain('cannot rebuild the snapshot');
  expect(fs.readFileSync(snap).equals(before)).toBe(true);
});
