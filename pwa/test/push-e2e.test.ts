// The notifications switch end to end: subscribe from settings, the host accepts the subscription,
// "Send test push" leaves the real daemon as an encrypted Web Push request, the outcome shows in the
// switch, and that payload, delivered to the service worker, shows the notification.
// Only the browser's push service is faked (PushManager.subscribe never settles in this sandbox):
// the page gets a subscription whose keys this test holds, so it can decrypt what the daemon sends.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setPushTransportForTests } from '../../daemon/src/push/index.js';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { decryptPush, FakePushService, makeSubscriber } from '../../daemon/test/push/push-service.js';
import { type Browser, ensureBuilt, launch, pairThroughUi, shot } from './helpers/browser.js';

describe('notifications switch and test push, end to end', () => {
  let svc: FakePushService;
  let td: TestDaemon;
  let b: Browser;
  const sub = makeSubscriber();

  beforeAll(async () => {
    await ensureBuilt();
    svc = await FakePushService.start();
    setPushTransportForTests(svc.transport());
    td = await startTestDaemon({ config: { push: { subject: 'mailto:owner@example.org' } } });
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
    setPushTransportForTests(undefined);
    await svc?.close();
  });

  it('subscribes, sends a test push, shows its outcome, and the service worker shows it', async () => {
    const { page, context } = b;
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
    await expect.poll(() => page.getByLabel('Last push').innerText()).toMatch(/^Test push sent just now/);
    await shot(page, '33-settings-push-on');

    // The same bytes, delivered to the service worker as the push service would.
    const cdp = await context.newCDPSession(page);
    const regs = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        if (e.registrations.length) resolve(e.registrations);
      });
    });
    await cdp.send('ServiceWorker.enable');
    const reg = (await regs).find((r) => r.scopeURL === `${td.url}/`)!;
    const deliver = () =>
      cdp.send('ServiceWorker.deliverPushMessage', {
        origin: td.url,
        registrationId: reg.registrationId,
        data: JSON.stringify(payload),
      });
    const notes = () =>
      page.evaluate(async () =>
        (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => `${n.tag}|${n.title}`),
      );
    await deliver();
    await expect.poll(notes, { timeout: 4000 }).toEqual(['errand-test|Errand test notification']).catch(deliver);
    await expect.poll(notes).toEqual(['errand-test|Errand test notification']);
    await cdp.detach();

    // Turning it off unsubscribes (push.unsubscribe to the host, then the browser subscription).
    await toggle.click();
    await expect.poll(() => toggle.isChecked()).toBe(false);
    expect(await page.getByRole('button', { name: 'Send test push' }).count()).toBe(0);
  });
});
