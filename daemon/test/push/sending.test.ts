// Real Web Push sending (web-push request building, the daemon's https transport) to a local push
// service; the test decrypts each body as the browser would and checks the VAPID signature.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { PushOutcome } from '../../../shared/src/index.js';
import { jobForEvent, type PushJob, testJob } from '../../src/push/payload.js';
import { PushSender, type RetryPolicy, retryAfterMs } from '../../src/push/sender.js';
import { PushStore } from '../../src/push/store.js';
import { httpsTransport } from '../../src/push/transport.js';
import { loadOrCreateVapidKeys, type VapidKeys } from '../../src/push/vapid.js';
import { StoreCorruptError } from '../../src/store/durable-file.js';
import { createLogger } from '../../src/util/log.js';
import { decryptPush, FakePushService, makeSubscriber, type Subscriber, verifyVapid } from './push-service.js';

const SUBJECT = 'mailto:owner@example.org';
const log = createLogger({});

let svc: FakePushService;
beforeAll(async () => {
  svc = await FakePushService.start();
});
afterAll(async () => {
  await svc.close();
});

interface Rig {
  dir: string;
  store: PushStore;
  keys: VapidKeys;
  sender: PushSender;
  outcomes: PushOutcome[];
  sub: Subscriber;
}

let rig: Rig;
async function makeRig(retry: Partial<RetryPolicy> = {}, endpoint?: string): Promise<Rig> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-push-'));
  const store = await PushStore.open(dir);
  const keys = await loadOrCreateVapidKeys(path.join(dir, 'vapid.json'), log);
  const outcomes: PushOutcome[] = [];
  const sender = new PushSender({
    store,
    transport: svc.transport(),
    keys,
    subject: () => SUBJECT,
    log,
    report: (o) => {
      outcomes.push(o);
      void store.addOutcome(o);
    },
    retry: { baseDelayMs: 40, ...retry },
  });
  const sub = makeSubscriber(endpoint);
  await store.set({ deviceId: 'dev_a', ...sub.subscription, createdAt: Date.now() });
  return { dir, store, keys, sender, outcomes, sub };
}

const doneJob = (): PushJob =>
  jobForEvent(
    {
      kind: 'task.updated',
      task: {
        id: 'tsk_9',
        threadId: 'thr_9',
        state: 'done',
        messageId: 'm',
        createdAt: 1,
        turns: 2,
        costUsd: 0,
        usage: { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 },
        resultSummary: 'Report written: Q3-report.md',
      },
    },
    () => 'Q3 sales',
    Date.now(),
    'full',
  )!;

beforeEach(() => {
  svc.received.length = 0;
  svc.respond = () => ({ status: 201 });
});
afterEach(() => rig?.sender.stop());

describe('web push sending', () => {
  it('delivers an aes128gcm body the subscriber can decrypt, signed with a valid VAPID JWT', async () => {
    rig = await makeRig();
    const outcome = await rig.sender.send('dev_a', doneJob());
    expect(outcome).toMatchObject({
      deviceId: 'dev_a',
      result: 'accepted',
      status: 201,
      kind: 'task.done',
      threadId: 'thr_9',
    });
    expect(svc.received).toHaveLength(1);
    const push = svc.received[0];
    expect(push.host).toBe('fcm.googleapis.com');
    expect(push.path).toBe(new URL(rig.sub.subscription.endpoint).pathname);
    expect(push.headers['content-encoding']).toBe('aes128gcm');
    expect(push.headers.ttl).toBe('86400');
    expect(push.headers.urgency).toBe('normal');
    expect(push.body.includes(Buffer.from('Report written'))).toBe(false); // encrypted on the wire
    expect(decryptPush(push, rig.sub)).toEqual({
      type: 'task.done',
      title: 'Q3 sales',
      body: 'Report written: Q3-report.md',
      threadId: 'thr_9',
      url: '/#thread=thr_9',
      tag: 'thread-thr_9',
    });
    const claims = verifyVapid(push.headers.authorization, rig.sub.subscription.endpoint, {
      subject: SUBJECT,
      publicKey: rig.keys.publicKey,
    });
    expect(claims.aud).toBe('https://fcm.googleapis.com');
    // The private key never travels.
    expect(JSON.stringify(push.headers)).not.toContain(rig.keys.privateKey);
  });

  it("signs for the endpoint's own origin at other push services too", async () => {
    rig = await makeRig({}, 'https://web.push.apple.com/QGx1y2z3');
    await rig.sender.send('dev_a', testJob());
    const push = svc.received[0];
    expect(push.host).toBe('web.push.apple.com');
    expect(
      verifyVapid(push.headers.authorization, rig.sub.subscription.endpoint, {
        subject: SUBJECT,
        publicKey: rig.keys.publicKey,
      }).aud,
    ).toBe('https://web.push.apple.com');
    expect(decryptPush(push, rig.sub)).toMatchObject({ type: 'test', tag: 'errand-test' });
  });

  it.each([404, 410])('%i removes the subscription and says so', async (status) => {
    rig = await makeRig();
    svc.respond = () => ({ status, body: 'subscription expired' });
    const outcome = await rig.sender.send('dev_a', doneJob());
    expect(outcome).toMatchObject({ result: 'removed', status });
    expect(rig.store.get('dev_a')).toBeUndefined();
    // Durable: a reopened store has no subscription either, and keeps the outcome.
    await rig.store.flush();
    const reopened = await PushStore.open(rig.dir);
    expect(reopened.get('dev_a')).toBeUndefined();
    expect(reopened.outcomes('dev_a').at(-1)).toMatchObject({ result: 'removed', status });
    expect(await rig.sender.send('dev_a', doneJob())).toBeUndefined();
    expect(svc.received).toHaveLength(1);
  });

  it('429 waits as long as Retry-After says, then sends again', async () => {
    rig = await makeRig();
    let n = 0;
    svc.respond = () => (++n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 201 });
    const first = await rig.sender.send('dev_a', doneJob());
    // Not failed: it waits, and goes in a second.
    expect(first).toMatchObject({ result: 'retrying', status: 429 });
    expect(first!.detail).toMatch(/retrying in 1 s/);
    await svc.waitFor(2, 5000);
    const gap = svc.received[1].at - svc.received[0].at;
    expect(gap).toBeGreaterThanOrEqual(950);
    expect(gap).toBeLessThan(3000);
    await expect.poll(() => rig.outcomes.length).toBe(2);
    expect(rig.outcomes[1]).toMatchObject({ result: 'accepted', status: 201 });
    // The retry is a fresh request that still decrypts and verifies.
    expect(decryptPush(svc.received[1], rig.sub)).toMatchObject({ type: 'task.done' });
    verifyVapid(svc.received[1].headers.authorization, rig.sub.subscription.endpoint, {
      subject: SUBJECT,
      publicKey: rig.keys.publicKey,
    });
  });

  it('429 holds back every push to that push service until Retry-After, not only the one it answered', async () => {
    rig = await makeRig();
    let n = 0;
    svc.respond = () => (++n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 201 });
    await rig.sender.send('dev_a', doneJob());
    const second = await rig.sender.send('dev_a', testJob());
    expect(second).toMatchObject({ result: 'retrying', detail: 'the push service asked to wait; sending in 1 s' });
    expect(svc.received).toHaveLength(1);
    await svc.waitFor(3, 5000);
    for (const r of svc.received.slice(1)) expect(r.at - svc.received[0].at).toBeGreaterThanOrEqual(950);
    await expect.poll(() => rig.outcomes.filter((o) => o.result === 'accepted').length).toBe(2);
  });

  it('429 with a Retry-After beyond the limit gives up instead', async () => {
    rig = await makeRig({ maxRetryAfterMs: 60_000 });
    svc.respond = () => ({ status: 429, headers: { 'retry-after': '7200' } });
    expect(await rig.sender.send('dev_a', doneJob())).toMatchObject({
      result: 'failed',
      status: 429,
      detail: expect.stringMatching(/gave up/),
    });
    expect(rig.sender.pendingRetries()).toBe(0);
  });

  it('server errors retry a few times with growing backoff, then give up', async () => {
    rig = await makeRig({ attempts: 3, baseDelayMs: 40 });
    svc.respond = () => ({ status: 503, body: 'overloaded' });
    await rig.sender.send('dev_a', doneJob());
    await svc.waitFor(3, 5000);
    await expect.poll(() => rig.outcomes.length).toBe(3);
    expect(rig.outcomes.map((o) => o.result)).toEqual(['retrying', 'retrying', 'failed']);
    expect(rig.outcomes[0].detail).toMatch(/retrying/);
    expect(rig.outcomes[2].detail).toMatch(/gave up after 3 attempts/);
    const [a, b, c] = svc.received.map((r) => r.at);
    expect(b - a).toBeGreaterThanOrEqual(25); // 40 ms ±20%
    expect(c - b).toBeGreaterThanOrEqual(120); // 160 ms ±20%
    // It gave up: no retry is scheduled, so no fourth request can come.
    expect(rig.sender.pendingRetries()).toBe(0);
    expect(svc.received).toHaveLength(3);
    expect(rig.store.get('dev_a')).toBeDefined();
  });

  it('a network failure retries, then succeeds', async () => {
    rig = await makeRig({ attempts: 3, baseDelayMs: 40 });
    let n = 0;
    svc.respond = () => (++n === 1 ? { status: 0, drop: true } : { status: 201 });
    const first = await rig.sender.send('dev_a', doneJob());
    expect(first).toMatchObject({
      result: 'retrying',
      detail: expect.stringMatching(/could not reach the push service.*retrying/),
    });
    expect(first!.status).toBeUndefined();
    await expect.poll(() => rig.outcomes.map((o) => o.result)).toEqual(['retrying', 'accepted']);
  });

  it('a redirect is not followed, and other client errors are final', async () => {
    rig = await makeRig();
    svc.respond = () => ({ status: 307, headers: { location: 'https://127.0.0.1:1/steal' } });
    expect(await rig.sender.send('dev_a', doneJob())).toMatchObject({
      result: 'failed',
      status: 307,
      detail: expect.stringMatching(/redirect/),
    });
    svc.respond = () => ({ status: 403, body: 'bad jwt' });
    expect(await rig.sender.send('dev_a', doneJob())).toMatchObject({
      result: 'failed',
      status: 403,
      detail: expect.stringMatching(/push keys not accepted/),
    });
    // Not retried: nothing is scheduled, so nothing more can be sent.
    expect(rig.sender.pendingRetries()).toBe(0);
    expect(svc.received).toHaveLength(2);
  });

  it('a stored subscription that no longer passes the allowlist is dropped, not sent to', async () => {
    rig = await makeRig();
    await rig.store.set({
      deviceId: 'dev_b',
      endpoint: 'https://10.0.0.1/push',
      keys: rig.sub.subscription.keys,
      createdAt: 1,
    });
    expect(await rig.sender.send('dev_b', doneJob())).toMatchObject({
      result: 'removed',
      detail: expect.stringMatching(/IP address/),
    });
    expect(rig.store.get('dev_b')).toBeUndefined();
    expect(svc.received).toHaveLength(0);
  });

  it("the https transport verifies the push service's certificate and host name", async () => {
    const request = {
      endpoint: 'https://fcm.googleapis.com/fcm/send/x',
      method: 'POST' as const,
      headers: {},
      body: Buffer.from('x'),
    };
    const untrusted = httpsTransport({ connectTo: { host: '127.0.0.1', port: svc.port }, timeoutMs: 3000 });
    await expect(untrusted(request)).rejects.toThrow(/self[- ]signed|certificate/i);
    untrusted.close();
    const trusted = httpsTransport({ connectTo: { host: '127.0.0.1', port: svc.port }, ca: svc.cert, timeoutMs: 3000 });
    // The certificate names fcm.googleapis.com etc.; another allowed host must still match it.
    await expect(trusted({ ...request, endpoint: 'https://other.notify.windows.com/w/x' })).rejects.toThrow(
      /altnames|does not match|hostname/i,
    );
    await expect(trusted(request)).resolves.toMatchObject({ status: 201 });
    await expect(trusted({ ...request, endpoint: 'http://fcm.googleapis.com/x' })).rejects.toThrow(/only speaks https/);
    trusted.close();
  });

  it('parses Retry-After as seconds or a date', () => {
    expect(retryAfterMs('120', 0)).toBe(120_000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs('soon', 0)).toBeUndefined();
    expect(retryAfterMs(undefined, 0)).toBeUndefined();
  });
});

describe('VAPID keys', () => {
  it('are made once, kept 0600, and reused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-vapid-'));
    const file = path.join(dir, 'vapid.json');
    const a = await loadOrCreateVapidKeys(file, log);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const b = await loadOrCreateVapidKeys(file, log);
    expect(b).toEqual(a);
    expect(Buffer.from(a.publicKey, 'base64url')).toHaveLength(65);
  });

  it('a damaged key file stops the start and is left as it is', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-vapid-'));
    const file = path.join(dir, 'vapid.json');
    fs.writeFileSync(file, '{"schema":1,"publicKey":"short"}', { mode: 0o600 });
    await expect(loadOrCreateVapidKeys(file, log)).rejects.toBeInstanceOf(StoreCorruptError);
    // No vapid.json.bak is ever kept: the fix names only what exists.
    const refused = await loadOrCreateVapidKeys(file, log).catch((e: Error) => e.message);
    expect(refused).toContain('Restore it from the backups folder');
    expect(refused).not.toContain('.bak');
    expect(fs.readFileSync(file, 'utf8')).toBe('{"schema":1,"publicKey":"short"}');
  });
});
