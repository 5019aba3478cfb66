// The computer may send a push a second time with the same receipt id (its first attempt seemed to
// fail, or a restart cut it short) although the phone already shows it. The service worker still shows
// it (a push must always show something) but without `renotify`: the same news does not buzz twice.
// Another push for the thread (another receipt id) still buzzes. Chromium, the real service worker,
// the real daemon; pushes delivered to the worker through the DevTools protocol.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type Browser, ensureBuilt, launch, pairThroughUi } from './helpers/browser.js';

interface Note {
  tag: string;
  title: string;
  renotify: boolean;
  receipt?: string;
}

describe('a push sent again with the same receipt id: shown, without a second buzz', () => {
  let td: TestDaemon;
  let b: Browser;
  let deliver: (data: object) => Promise<unknown>;

  beforeAll(async () => {
    await ensureBuilt();
    td = await startTestDaemon();
    b = await launch();
    await b.context.grantPermissions(['notifications'], { origin: td.url });
    await pairThroughUi(b.page, td, 'Same receipt phone');
    await b.page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    const cdp = await b.context.newCDPSession(b.page);
    const regs = new Promise<{ registrationId: string; scopeURL: string }[]>((resolve) => {
      cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => {
        if (e.registrations.length) resolve(e.registrations);
      });
    });
    await cdp.send('ServiceWorker.enable');
    const reg = (await regs).find((r) => r.scopeURL === `${td.url}/`)!;
    deliver = (data) =>
      cdp.send('ServiceWorker.deliverPushMessage', {
        origin: td.url,
        registrationId: reg.registrationId,
        data: JSON.stringify(data),
      });
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await td?.stop();
    if (td) fs.rmSync(td.home, { recursive: true, force: true });
  });

  const notes = (): Promise<Note[]> =>
    b.page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
        tag: n.tag,
        title: n.title,
        renotify: (n as Notification & { renotify: boolean }).renotify,
        receipt: (n.data as { receipt?: string } | null)?.receipt,
      })),
    );
  const noteOf = async (tag: string) => (await notes()).find((n) => n.tag === tag);

  /** A push as the daemon sends it (daemon/src/push/payload.ts), with its receipt id. */
  const push = (title: string, threadId: string, receipt: string) => ({
    type: 'task.done',
    title,
    body: 'Finished. Open Errand to see the answer.',
    threadId,
    url: `/#thread=${threadId}`,
    tag: `thread-${threadId}`,
    receipt,
  });

  it('the same push again replaces itself without renotify; a new one for the thread buzzes', async () => {
    // The worker is awake first (headless Chromium can swallow a push that starts it): a push for
    // another thread, delivered again until it shows.
    const warm = push('Warm up', 'th_warm', 'W'.repeat(22));
    await deliver(warm);
    await expect
      .poll(async () => !!(await noteOf(warm.tag)), { timeout: 4000 })
      .toBe(true)
      .catch(() => deliver(warm));
    await expect.poll(async () => !!(await noteOf(warm.tag))).toBe(true);

    const first = push('Task done', 'th_a', 'A'.repeat(22));
    await deliver(first);
    await expect
      .poll(() => noteOf(first.tag))
      .toMatchObject({ title: 'Task done', renotify: true, receipt: first.receipt });

    // Sent again, same receipt id: still shown (replaced), but it does not buzz.
    await deliver(first);
    await expect
      .poll(() => noteOf(first.tag))
      .toMatchObject({ title: 'Task done', renotify: false, receipt: first.receipt });

    // Another push for the same thread is news: it buzzes.
    const next = push('Failed · Errand task', 'th_a', 'B'.repeat(22));
    await deliver(next);
    await expect
      .poll(() => noteOf(next.tag))
      .toMatchObject({ title: 'Failed · Errand task', renotify: true, receipt: next.receipt });
    expect((await notes()).filter((n) => n.tag === first.tag)).toHaveLength(1);
  }, 60_000);
});
