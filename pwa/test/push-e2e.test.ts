// The notifications switch end to end: subscribe from settings, the host accepts the subscription,
// "Send test push" leaves the real daemon as an encrypted Web Push request, the outcome shows in the
// switch, and that payload, delivered to the service worker, shows the notification.
// Only the browser's push service is faked (PushManager.subscribe never settles in this sandbox):
// the page gets a subscription whose keys this test holds, so it can decrypt what the daemon sends.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { decryptPush, FakePushService, makeSubscriber, verifyVapid } from '../../daemon/test/push/push-service.js';
import type { PushOutcome } from '../../shared/src/index.js';
import { type Browser, ensureBuilt, launch, pairThroughUi, readKv, shot } from './helpers/browser.js';

describe('notifications switch and test push, end to end', () => {
  let svc: FakePushService;
  let td: TestDaemon;
  let b: Browser;
  const sub = makeSubscriber();
  const storedOutcomes = () =>
    (JSON.parse(fs.readFileSync(path.join(td.home, 'store', 'push.json'), 'utf8')) as { outcomes: PushOutcome[] })
      .outcomes;

  /** Deliver bytes to the service worker as the push service would (CDP). */
  async function swDelivery(origin: string): Promise<(data: string) => Promise<unknown>> {
    const cdp = await b.context.newCDPSession(b.page);
    const regs = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        if (e.registrations.length) resolve(e.registrations);
      });
    });
    await cdp.send('ServiceWorker.enable');
    const reg = (await regs).find((r) => r.scopeURL === `${origin}/`)!;
    return (data) => cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId: reg.registrationId, data });
  }

  beforeAll(async () => {
    await ensureBuilt();
    svc = await FakePushService.start();
    td = await startTestDaemon({
      config: { push: { subject: 'mailto:owner@example.org' } },
      push: { transport: svc.transport() },
    });
    b = await launch();
    await b.context.grantPermissions(['notifications'], { origin: td.url });
    await b.context.addInitScript((fake: { endpoint: string; keys: { p256dh: string; auth: string } }) => {
      let current: unknown = null;
      const make = (key: ArrayBuffer | null) => ({
        endpoint: fake.endpoint,
        expirationTime: null,
        options: { applicationServerKey: key, userVisibleOnly: true },
        toJSON: () => ({ endpoint: fake.endpoint, expirationTime: null, keys: fake.keys }),
        getKey: () => null,
        unsubscribe: async () => {
          current = null;
          return true;
        },
      });
      PushManager.prototype.subscribe = async (opts?: PushSubscriptionOptionsInit) => {
        const k = opts?.applicationServerKey;
        current = make(
          k instanceof Uint8Array ? (k as Uint8Array<ArrayBuffer>).slice().buffer : k instanceof ArrayBuffer ? k : null,
        );
        return current as PushSubscription;
      };
      PushManager.prototype.getSubscription = async () => current as PushSubscription | null;
    }, sub.subscription);
    await pairThroughUi(b.page, td, 'Push phone');
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await td?.stop();
    await svc?.close();
  });

  it('subscribes, sends a test push, the service worker shows it and confirms it: the switch says delivered', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Settings' }).click();
    const toggle = page.getByRole('switch', { name: 'Notifications' });
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    expect(await toggle.isChecked()).toBe(false);
    await toggle.click();
    await expect.poll(() => toggle.isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Send test push' }).click();
    await svc.waitFor(1, 10_000);
    const payload = decryptPush(svc.received[0], sub);
    expect(payload).toMatchObject({ type: 'test', title: 'Errand test notification' });
    expect(payload.receipt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    await page.getByText(/waiting for this device to confirm it/).waitFor();

    // The same bytes, delivered to the service worker as the push service would: it shows the
    // notification and posts the receipt, so the waiting test push reports delivered.
    const deliver = await swDelivery(td.url);
    const notes = () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => `${n.tag}|${n.title}`),
      );
    await deliver(JSON.stringify(payload));
    await expect
      .poll(notes, { timeout: 4000 })
      .toEqual(['errand-test|Errand test notification'])
      .catch(() => deliver(JSON.stringify(payload)));
    await expect.poll(notes).toEqual(['errand-test|Errand test notification']);
    await page.getByText('Test push delivered to this device.').waitFor();
    await expect.poll(() => page.getByLabel('Last push').innerText()).toMatch(/^Test push delivered just now/);
    await expect
      .poll(() =>
        storedOutcomes()
          .filter((o) => o.pushId === payload.receipt)
          .map((o) => o.result),
      )
      .toEqual(['accepted', 'delivered']);
    await shot(page, '33-settings-push-on');

    // Turning it off unsubscribes (push.unsubscribe to the host, then the browser subscription).
    await toggle.click();
    await expect.poll(() => toggle.isChecked()).toBe(false);
    expect(await page.getByRole('button', { name: 'Send test push' }).count()).toBe(0);
  });
  it("after the computer's push keys are replaced, the app renews its subscription when it reconnects", async () => {
    const { page } = b;
    const toggle = page.getByRole('switch', { name: 'Notifications' });
    await expect.poll(() => toggle.isEnabled()).toBe(true);
    await toggle.click();
    await expect.poll(() => toggle.isChecked()).toBe(true);
    const home = td.home;
    const port = td.port;
    const storedKeys = () =>
      (
        JSON.parse(fs.readFileSync(path.join(home, 'store', 'push.json'), 'utf8')) as {
          subscriptions: { vapidKey?: string }[];
        }
      ).subscriptions.map((s) => s.vapidKey);
    const oldKey = (JSON.parse(fs.readFileSync(path.join(home, 'vapid.json'), 'utf8')) as { publicKey: string })
      .publicKey;
    await expect.poll(storedKeys).toEqual([oldKey]);
    await td.stop();

    const webpush = (await import('web-push')).default;
    const fresh = webpush.generateVAPIDKeys();
    fs.writeFileSync(
      path.join(home, 'vapid.json'),
      JSON.stringify({ schema: 1, publicKey: fresh.publicKey, privateKey: fresh.privateKey, createdAt: Date.now() }),
      { mode: 0o600 },
    );
    td = await startTestDaemon({
      home,
      config: { port, push: { subject: 'mailto:owner@example.org' } },
      push: { transport: svc.transport() },
    });
    // No tap needed: the app notices on reconnecting and subscribes again with the new key.
    await expect.poll(storedKeys, { timeout: 30_000 }).toEqual([fresh.publicKey]);

    const before = svc.received.length;
    await page.getByRole('button', { name: 'Send test push' }).click();
    await svc.waitFor(before + 1, 10_000);
    const got = svc.received[before];
    verifyVapid(got.headers.authorization, sub.subscription.endpoint, {
      subject: 'mailto:owner@example.org',
      publicKey: fresh.publicKey,
    });
    expect(decryptPush(got, sub)).toMatchObject({ type: 'test' });
  }, 90_000);

  it('a subscription the browser lost silently is made again when the app next opens', async () => {
    const { page } = b;
    const stored = () =>
      (
        JSON.parse(fs.readFileSync(path.join(td.home, 'store', 'push.json'), 'utf8')) as {
          subscriptions: { createdAt: number }[];
        }
      ).subscriptions.map((s) => s.createdAt);
    const [before] = stored();
    expect(before).toBeGreaterThan(0);
    // The browser (or its push service) dropped the subscription; the computer still holds it.
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      await (await reg.pushManager.getSubscription())?.unsubscribe();
    });
    await page.reload();
    await expect.poll(stored, { timeout: 30_000 }).toEqual([expect.any(Number)]);
    await expect.poll(() => stored()[0], { timeout: 30_000 }).toBeGreaterThan(before);
    expect(
      await page.evaluate(async () => !!(await (await navigator.serviceWorker.ready).pushManager.getSubscription())),
    ).toBe(true);
  }, 60_000);

  it('with the computer off, the receipt waits in IndexedDB and arrives when the app reconnects', async () => {
    const { page } = b;
    const thread = await td.daemon.ctx.store.threads.create('Receipt offline', () => undefined);
    const before = svc.received.length;
    await td.daemon.ctx.emit({
      kind: 'question.asked',
      question: { id: 'q_off', taskId: 'tsk_off', threadId: thread.meta.id, text: 'Which?', createdAt: Date.now() },
    });
    await svc.waitFor(before + 1, 10_000);
    const payload = decryptPush(svc.received[before], sub);
    expect(payload).toMatchObject({ type: 'question', receipt: expect.any(String) });
    await td.daemon.idle();
    const { home, port, url } = td;
    await td.stop();

    const deliver = await swDelivery(url);
    const key = `push-receipt:${payload.receipt}:delivered`;
    await deliver(JSON.stringify(payload));
    await expect
      .poll(() => readKv(page, key), { timeout: 6000 })
      .toMatchObject({ pushId: payload.receipt, state: 'delivered' })
      .catch(() => deliver(JSON.stringify(payload)));
    await expect.poll(() => readKv(page, key)).toMatchObject({ pushId: payload.receipt, state: 'delivered' });

    td = await startTestDaemon({
      home,
      config: { port, push: { subject: 'mailto:owner@example.org' } },
      push: { transport: svc.transport() },
    });
    await expect
      .poll(
        () =>
          storedOutcomes()
            .filter((o) => o.pushId === payload.receipt)
            .map((o) => o.result),
        {
          timeout: 30_000,
        },
      )
      .toEqual(['accepted', 'delivered']);
    await expect.poll(() => readKv(page, key)).toBeUndefined();
  }, 90_000);

  it('a tap with no window open lands on the thread, also when the phone starts the app at its start page', async () => {
    const title = 'Tapped from the lock screen';
    const thread = await td.daemon.ctx.store.threads.create(title, () => undefined);
    const id = thread.meta.id;
    const tag = `thread-${id}`;
    const deliver = await swDelivery(td.url);
    const data = JSON.stringify({ type: 'task.done', title, body: 'Done.', threadId: id, url: `/#thread=${id}`, tag });
    const sw = b.context.serviceWorkers().find((w) => w.url().startsWith(td.url))!;
    const shown = () =>
      sw.evaluate(
        async (t) =>
          (await (self as unknown as ServiceWorkerGlobalScope).registration.getNotifications({ tag: t })).length,
        tag,
      );
    await deliver(data);
    await expect
      .poll(shown, { timeout: 4000 })
      .toBe(1)
      .catch(() => deliver(data));
    await expect.poll(shown).toBe(1);

    // Close the app: only a blank page (another origin) keeps the browser open.
    const blank = await b.context.newPage();
    await b.page.close();
    b.page = blank;
    await sw.evaluate(async (t) => {
      const g = self as unknown as ServiceWorkerGlobalScope;
      const [n] = await g.registration.getNotifications({ tag: t });
      g.dispatchEvent(new NotificationEvent('notificationclick', { notification: n }));
    }, tag);
    const pending = () =>
      sw.evaluate(
        () =>
          new Promise<unknown>((resolve) => {
            const req = indexedDB.open('errand');
            req.onsuccess = () => {
              const g = req.result.transaction('kv', 'readonly').objectStore('kv').get('pending-open');
              g.onsuccess = () => {
                resolve(g.result);
                req.result.close();
              };
            };
          }),
      );
    const opened = () => b.context.pages().find((p) => p.url().includes(`#thread=${id}`));
    // Chromium opens the link itself when it may; the phone may instead start the app at its start page.
    await expect.poll(async () => !!opened() || !!(await pending()), { timeout: 10_000 }).toBe(true);
    let app = opened();
    if (!app) {
      app = await b.context.newPage();
      await app.goto(`${td.url}/`);
    }
    await expect.poll(() => new URL(app.url()).hash, { timeout: 15_000 }).toBe(`#thread=${id}`);
    await app.getByText(title).first().waitFor({ timeout: 15_000 });
  }, 60_000);
});
