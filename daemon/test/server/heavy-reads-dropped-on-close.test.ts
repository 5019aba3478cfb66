// A heavy read waiting for its turn is dropped when its connection closes: nobody is left to get its
// answer, and a device that sends a pile of reads, closes its socket and reconnects in a loop would
// otherwise leave the host reading long after every one of its sockets was gone. A read already
// running finishes; another device's waiting read gets the freed turn.
import { expect, it } from 'vitest';
import { CommandRouter } from '../../src/server/command-router.js';
import type { CommandContext } from '../../src/util/command-context.js';

const from = (deviceId: string) =>
  ({
    device: { id: deviceId, name: deviceId },
    address: undefined,
    connectionId: `conn-${deviceId}`,
  }) as CommandContext;

function routerWithGatedReads() {
  const router = new CommandRouter();
  const started: string[] = [];
  const finishers = new Map<string, () => void>();
  router.register('task.file', async (cmd) => {
    started.push(cmd.path);
    await new Promise<void>((resolve) => finishers.set(cmd.path, resolve));
    return { file: { kind: 'binary', path: cmd.path, size: 0 } } as never;
  });
  const read = (path: string, deviceId: string, signal?: AbortSignal) =>
    router.dispatch({ id: `id-${path}-0000`, type: 'task.file', taskId: 'tsk_1', path }, from(deviceId), signal);
  return { started, read, finish: (path: string) => finishers.get(path)!() };
}

const turn = () => new Promise((r) => setImmediate(r));

it('reads still waiting when their connection closes never run; the running ones finish; the next turn goes to another device', async () => {
  const { started, read, finish } = routerWithGatedReads();
  const flooderSocket = new AbortController();
  const pile = ['a1', 'a2', 'a3', 'a4', 'a5'].map((p) => read(p, 'flooder', flooderSocket.signal));
  const phone = read('b1', 'phone', new AbortController().signal);
  await turn();
  expect(started).toEqual(['a1', 'a2']);

  flooderSocket.abort(); // the flooder's socket closed
  const dropped = await Promise.allSettled(pile.slice(2));
  expect(dropped.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  expect((dropped[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'unavailable' });

  finish('a1');
  await pile[0]; // a read that was running finishes and is answered as usual
  await turn();
  expect(started).toEqual(['a1', 'a2', 'b1']);
  finish('a2');
  finish('b1');
  await Promise.all([pile[1], phone]);
  await turn();
  expect(started).toEqual(['a1', 'a2', 'b1']);

  // The slots are free again: a new read starts at once, and one from a closed connection never does.
  const late = read('a6', 'flooder', flooderSocket.signal);
  await expect(late).rejects.toMatchObject({ code: 'unavailable' });
  const next = read('c1', 'phone');
  await turn();
  expect(started).toEqual(['a1', 'a2', 'b1', 'c1']);
  finish('c1');
  await next;
});
