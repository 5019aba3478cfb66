// The audit log's tool-call entries are written at once and made durable together (group commit):
// every caller's synced() resolves once its entries are flushed, in order, none lost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { AuditLog } from '../../src/tools/audit.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempLog(): { log: AuditLog; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-audit-'));
  dirs.push(dir);
  const file = path.join(dir, 'audit.log');
  return { log: new AuditLog(file), file };
}

const entry = (i: number) => ({
  at: 1000 + i,
  taskId: `task_${i % 4}`,
  tool: 'fs_read',
  callId: `call_${i}`,
  args: { path: `f${i}` },
  decision: 'allow' as const,
  outcome: 'ok',
});

it('parallel calls share flushes; each synced() resolves with its entries on file, in order', async () => {
  const { log, file } = tempLog();
  await expect(log.synced()).resolves.toBeUndefined(); // nothing written yet
  const done = await Promise.all(
    Array.from({ length: 64 }, async (_, i) => {
      await new Promise((r) => setImmediate(r));
      log.write(entry(i));
      await log.synced();
      // Once it resolves, the entry is in the file.
      return fs.readFileSync(file, 'utf8').includes(`"callId":"call_${i}"`);
    }),
  );
  expect(done.every(Boolean)).toBe(true);
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  expect(lines.map((l) => JSON.parse(l).callId)).toEqual(Array.from({ length: 64 }, (_, i) => `call_${i}`));
  expect((fs.statSync(file).mode & 0o777).toString(8)).toBe('600');
  expect(await log.forTask('task_1')).toHaveLength(16);
  log.close();
});

it('append() is durable on return and settles callers waiting on earlier writes; close settles the rest', async () => {
  const { log, file } = tempLog();
  log.write(entry(1));
  const first = log.synced();
  log.append(entry(2));
  await expect(first).resolves.toBeUndefined();
  log.write(entry(3));
  const third = log.synced();
  log.close();
  await expect(third).resolves.toBeUndefined();
  expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
  // Reopens on the next entry.
  log.write(entry(4));
  await log.synced();
  expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(4);
  log.close();
});
