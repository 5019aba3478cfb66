// The VAPID subject Apple accepts: the https publicUrl by default, a configured contact when given,
// and a placeholder (mailto:…@localhost) named as one on the phone's push.key reply.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PushOutcome } from '../../../shared/src/index.js';
import { subjectProblem, vapidSubject } from '../../src/push/subject.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decryptPush, FakePushService, makeSubscriber, postReceipt, verifyVapid } from './push-service.js';

describe('vapidSubject', () => {
  it('prefers push.subject, then the https publicUrl, else the named placeholder', () => {
    expect(vapidSubject({ push: { subject: 'mailto:me@mydomain.net' } })).toEqual({
      subject: 'mailto:me@mydomain.net',
      source: 'config',
    });
    expect(vapidSubject({ publicUrl: 'https://box.tail1234.ts.net/app', push: {} })).toEqual({
      subject: 'https://box.tail1234.ts.net',
      source: 'publicUrl',
    });
    const d = vapidSubject({ push: {} });
    expect(d).toMatchObject({ subject: 'mailto:errand@localhost', source: 'default' });
    expect(d.problem).toMatch(/placeholder/);
  });
  it('names placeholders and private addresses', () => {
    for (const bad of [
      'mailto:errand@localhost',
      'mailto:me@box.local',
      'mailto:me@nodot',
      'mailto:',
      'https://localhost',
      'https://192.168.1.4',
      'https://nas.lan',
    ])
      expect(subjectProblem(bad), bad).toBeDefined();
    for (const good of ['mailto:owner@example.org', 'mailto:a@b.co', 'https://errand.example.com'])
      expect(subjectProblem(good), good).toBeUndefined();
  });
});

describe('the subject pushes are signed with', () => {
  let svc: FakePushService | undefined;
  let td: TestDaemon | undefined;
  afterEach(async () => {
    await td?.stop();
    td = undefined;
    await svc?.close();
    svc = undefined;
  });

  it('is the https publicUrl when no contact is configured; the phone is told of no problem', async () => {
    svc = await FakePushService.start();
    td = await startTestDaemon({ push: { transport: svc.transport() } });
    const dev = await td.pairDevice('iPhone');
    const phone = await td.connect({ token: dev.token });
    // `errand expose url` sets publicUrl (after pairing here, so the test pairs over loopback).
    fs.writeFileSync(
      path.join(td.home, 'config.json'),
      JSON.stringify({ port: 0, publicUrl: 'https://errand-box.tail1234.ts.net' }),
    );
    td.daemon.ctx.reloadConfig();
    const key = await phone.send<{ publicKey: string; subjectProblem?: string }>({ type: 'push.key' });
    expect(key.subjectProblem).toBeUndefined();
    const sub = makeSubscriber('https://web.push.apple.com/QGsubject');
    await phone.send({ type: 'push.subscribe', subscription: sub.subscription });
    const replied = phone.send<PushOutcome>({ type: 'push.test' });
    await svc.waitFor(1);
    const { receipt } = decryptPush(svc.received[0], sub);
    await postReceipt(td.url, { pushId: receipt, state: 'delivered' });
    expect(await replied).toMatchObject({ status: 201, result: 'delivered' });
    verifyVapid(svc.received[0].headers.authorization, sub.subscription.endpoint, {
      subject: 'https://errand-box.tail1234.ts.net',
      publicKey: key.publicKey,
    });
  });

  it('is a placeholder without publicUrl or contact, and push.key says so', async () => {
    td = await startTestDaemon();
    const dev = await td.pairDevice('iPhone');
    const phone = await td.connect({ token: dev.token });
    const key = await phone.send<{ subjectProblem?: string }>({ type: 'push.key' });
    expect(key.subjectProblem).toMatch(/placeholder Apple refuses/);
  });
});
