// The commands that read whole files into memory (task.file, task.diff, step.output) take turns in
// the whole daemon: two at once, the rest wait, and a device with one read waiting is not stuck
// behind another device's pile. Other commands never wait for them.
import { expect, it } from 'vitest';
import { CommandRouter } from '../../src/server/command-router.js';
import type { CommandContext } from '../../src/util/command-context.js';

const from = (deviceId: string) =>
  ({
    device: { id: deviceId, name: deviceId },
    address: undefined,
    connectionId: `conn-${deviceId}`,
  }) as CommandContext;

/** Reads that record when they start and finish only when the test lets them. */
function gatedReads() {
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  const read = (label: string) =>
    new Promise<void>((resolve) => {
      started.push(label);
      finishers.set(label, resolve);
    });
  return {
    started,
    read,
    waiting: (label: string) => finishers.has(label),
    finish: (label: string) => finishers.get(label)!(),
  };
}

it('two heavy reads run at once; waiting devices take turns, so one read is not stuck behind another device’s pile', async () => {
  const router = new CommandRouter();
  const reads = gatedReads();
  router.register('task.file', async (cmd) => {
    await reads.read(cmd.path);
    return { file: { kind: 'binary', path: cmd.path, size: 0 } } as never;
  });
  router.register('step.output', async (cmd) => {
    await reads.read(cmd.stepId);
    return { text: '' };
  });
  router.register('ping', async () => ({ pong: 1 }));

  const flood = ['a1', 'a2', 'a3', 'a4', 'a5'].map((p) =>
    router.dispatch({ id: `id-${p}-0000`, type: 'task.file', taskId: 'tsk_1', path: p }, from('flooder')),
  );
  const other = router.dispatch(
    { id: 'id-b1-00000', type: 'step.output', threadId: 'thr_1', stepId: 'b1' },
    from('phone'),
  );
  await new Promise((r) => setImmediate(r));
  expect(reads.started).toEqual(['a1', 'a2']);
  // Cheap commands are not held up by the reads.
  expect(await router.dispatch({ id: 'id-ping-0000', type: 'ping' }, from('flooder'))).toEqual({ pong: 1 });

  // Turns go round the devices waiting: the flooder's next, then the phone's, not the flooder's pile first.
  reads.finish('a1');
  await flood[0];
  await new Promise((r) => setImmediate(r));
  expect(reads.started).toEqual(['a1', 'a2', 'a3']);
  reads.finish('a2');
  await flood[1];
  await new Promise((r) => setImmediate(r));
  expect(reads.started).toEqual(['a1', 'a2', 'a3', 'b1']);
  reads.finish('b1');
  await other;

  for (const label of ['a3', 'a4', 'a5']) {
    await expect.poll(() => reads.waiting(label)).toBe(true);
    reads.finish(label);
  }
  await Promise.all(flood);
  expect(reads.started).toEqual(['a1', 'a2', 'a3', 'b1', 'a4', 'a5']);
});

it('a heavy read that fails frees its turn', async () => {
  const router = new CommandRouter();
  let running = 0;
  let most = 0;
  router.register('task.diff', async (cmd) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setImmediate(r));
    running--;
    if (cmd.path.startsWith('bad')) throw new Error('unreadable');
    return {} as never;
  });
  const results = await Promise.allSettled(
    ['bad1', 'bad2', 'bad3', 'ok1', 'ok2'].map((p) =>
      router.dispatch({ id: `id-${p}-0000`, type: 'task.diff', taskId: 'tsk_1', path: p }, from('phone')),
    ),
  );
  expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled']);
  expect(most).toBe(2);
});
