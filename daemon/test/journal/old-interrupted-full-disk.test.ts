// A task left interrupted (a crash cut it off, nobody resumed it) owes the disk nothing at later
// starts: recovery rewrote its thread at every start, so a start on a full disk refused (74).
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { startModelServer } from '../helpers/model-server.js';
import { canMountSmallDisk, fill, smallDisk } from '../helpers/small-disk.js';
import { Homes } from './helpers.js';

it.runIf(canMountSmallDisk)('a home holding a task left interrupted starts on a full disk and warns', async () => {
  const homes = new Homes();
  const mnt = smallDisk()!;
  const model = await startModelServer(() => ({ kind: 'hang' }));
  const env = {
    ERRAND_LOG_LEVEL: 'error',
    ANTHROPIC_BASE_URL: model.url,
    ANTHROPIC_API_KEY: 'sk-test-key',
    ERRAND_MODEL: 'claude-sonnet-4-6',
  };
  try {
    const home = path.join(mnt.dir, 'home');
    fs.mkdirSync(path.join(home, 'store'), { recursive: true, mode: 0o700 });
    const { DeviceStore } = await import('../../src/store/devices.js');
    const { token } = await (await DeviceStore.open(path.join(home, 'store'))).add('Phone', undefined);
    const d = await homes.start(home, env);
    const ws = await homes.connect(d.url, token, 0);
    await ws.send({ type: 'thread.create', text: 'A long job' });
    await model.waitForRequests(1, 15_000);
    d.child.kill('SIGKILL');
    await d.exited;
    const marked = await homes.start(home, env); // records it interrupted (room enough)
    marked.child.kill('SIGTERM');
    expect((await marked.exited).code).toBe(0);
    const free = fill(path.join(mnt.dir, 'filler'));
    const full = await homes.start(home, env);
    expect(full.output()).toMatch(/warning: the disk is full at/);
    full.child.kill('SIGTERM');
    expect((await full.exited).code).toBe(0);
    free();
  } finally {
    await homes.cleanup();
    await model.close();
    mnt.release();
  }
});
