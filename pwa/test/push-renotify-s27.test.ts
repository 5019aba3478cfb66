// A push for a thread replaces the thread's earlier notification (one tag per thread). Under the
// Notifications standard a replacement alerts (sound, vibration) only with `renotify`: so every push
// Errand sends carries it, and a "done" after a "Needs your OK" still makes the phone buzz. And once
// the app shows a thread, that thread's notifications are closed (a "Needs your OK" answered in the
// app does not stay on the lock screen); other threads' stay. Chromium, the real service worker, the
// real daemon; pushes delivered to the worker through the DevTools protocol.
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../../daemon/test/helpers/model-server.js';
import { type Browser, ensureBuilt, launch, pairThroughUi } from './helpers/browser.js';

interface Note {
  tag: string;
  title: string;
  renotify: boolean;
}

describe('notifications of a thread: they buzz when replaced, and close when the thread is shown', () => {
  let td: TestDaemon;
  let model: ModelServer;
  let b: Browser;
  let deliver: (data: object) => Promise<unknown>;

  beforeAll(async () => {
    await ensureBuilt();
    model = await startModelServer(() => reply(text('All done.')));
    td = await startTestDaemon({
      config: { anthropic: { apiKey: 'sk-test-key', baseUrl: model.url, model: 'claude-sonnet-4-6' } },
    });
    b = await launch();
    await b.context.grantPermissions(['notifications'], { origin: td.url });
    await pairThroughUi(b.page, td, 'Renotify phone');
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
    await model?.close();
    if (td) fs.rmSync(td.home, { recursive: true, force: true });
  });

  const notes = (): Promise<Note[]> =>
    b.page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({
        tag: n.tag,
        title: n.title,
        renotify: (n as Notification & { renotify: boolean }).renotify,
      })),
    );

  /** A push as the daemon builds it (daemon/src/push/payload.ts). */
  const push = (type: string, title: string, threadId: string) => ({
    type,
    title,
    body: 'Open Errand to see it.',
    threadId,
    url: `/#thread=${threadId}`,
    tag: `thread-${threadId}`,
  });

  /** Deliver, again if the worker's start-up swallowed the first one (headless Chromium can). */
  async function show(data: ReturnType<typeof push>): Promise<void> {
    await deliver(data);
    await expect
      .poll(async () => (await notes()).some((n) => n.tag === data.tag && n.title === data.title), { timeout: 4000 })
      .toBe(true)
      .catch(() => deliver(data));
    await expect.poll(async () => (await notes()).some((n) => n.tag === data.tag && n.title === data.title)).toBe(true);
  }

  it('a done push that replaces the thread\'s "Needs your OK" alerts again (renotify), as every kind does', async () => {
    const driver = await td.connect();
    const a = await driver.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'Tidy my notes' });
    const bThread = await driver.send<{ thread: { id: string } }>({ type: 'thread.create', text: 'Sort receipts' });
    const A = a.thread.id;
    const B = bThread.thread.id;
    await b.page.evaluate(() => {
      location.hash = '';
    });

    await show(push('approval', 'Needs your OK · Errand task', A));
    await show(push('task.done', 'Task done', A));
    await show(push('task.failed', 'Failed · Errand task', B));
    expect((await notes()).sort((x, y) => x.tag.localeCompare(y.tag))).toEqual(
      [
        { tag: `thread-${A}`, title: 'Task done', renotify: true },
        { tag: `thread-${B}`, title: 'Failed · Errand task', renotify: true },
      ].sort((x, y) => x.tag.localeCompare(y.tag)),
    );

    // The person opens thread A in the app (not through the notification): its notification closes,
    // thread B's stays.
    await b.page.evaluate((id) => {
      location.hash = `#thread=${id}`;
    }, A);
    await expect.poll(async () => (await notes()).map((n) => n.tag)).toEqual([`thread-${B}`]);
  }, 60_000);
});
