// `errand push test --all` and `errand push outcomes` against a real daemon's control socket: each
// device says delivered or not within 10 s, and outcomes show each push's furthest step.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { PushSummary } from '../../../shared/src/index.js';
import type { CliIO } from '../../src/cli/command.js';
import { pushCommand } from '../../src/cli/commands/push.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt } from './push-service.js';

let svc: FakePushService;
let td: TestDaemon;
beforeAll(async () => {
  svc = await FakePushService.start();
  td = await startTestDaemon({
    config: { push: { subject: 'mailto:owner@example.org' } },
    push: { transport: svc.transport() },
  });
});
afterAll(async () => {
  await td.stop();
  await svc.close();
});

async function errandPush(positionals: string[], values: Record<string, string | boolean> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    env: {},
    interactive: false,
    confirm: async () => false,
  };
  const code = await pushCommand.run({ home: td.home, values, positionals }, io);
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

it('push test --all reports delivered per device within 10 s; outcomes show accepted → delivered', async () => {
  const subA = makeSubscriber('https://web.push.apple.com/QGcliA');
  const subB = makeSubscriber('https://fcm.googleapis.com/fcm/send/cliB');
  const a = await td.pairDevice('iPhone');
  const b = await td.pairDevice('Pixel');
  await (await td.connect({ token: a.token })).send({ type: 'push.subscribe', subscription: subA.subscription });
  await (await td.connect({ token: b.token })).send({ type: 'push.subscribe', subscription: subB.subscription });

  const running = errandPush(['test'], { all: true });
  // The iPhone shows it and says so; the Pixel is off.
  await svc.waitFor(2, 10_000);
  const toA = svc.received.find((p) => p.path.includes('QGcliA'))!;
  const { receipt } = decryptPush(toA, subA);
  expect((await postReceipt(td.url, { pushId: receipt, state: 'delivered' })).status).toBe(200);
  const r = await running;
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(`iPhone (${a.deviceId}): delivered`);
  expect(r.stdout).toMatch(new RegExp(`Pixel \\(${b.deviceId}\\): not delivered: .*did not confirm it within 10 s`));

  const human = await errandPush(['outcomes']);
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(new RegExp(`${a.deviceId}  test  delivered  \\[accepted \\S+, delivered \\S+\\]`));
  expect(human.stdout).toMatch(new RegExp(`${b.deviceId}  test  accepted by the push service, not confirmed`));
  const json = JSON.parse((await errandPush(['outcomes', a.deviceId], { json: true })).stdout) as PushSummary[];
  expect(json).toEqual([
    expect.objectContaining({ deviceId: a.deviceId, pushId: receipt, kind: 'test', state: 'delivered' }),
  ]);
  expect((await errandPush(['test'])).code).toBe(2);
}, 30_000);
