// The computer's home is restored from a backup taken before this phone saw a new thread and a
// rename; while the phone is offline the restored host numbers new events past the last one the
// phone saw. Coming back, the phone's list equals the store's: the phone sends the time of its
// last event with its number, the host sees it is not its own event of that number and sends a
// snapshot. (Resumed by number alone, it kept the thread and the name the store no longer has.)
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../daemon/test/helpers/daemon.js';
import { type ModelServer, reply, startModelServer, text } from '../../daemon/test/helpers/model-server.js';
import type { WsTestClient } from '../../daemon/test/helpers/ws-client.js';
import type { ThreadSummary } from '../../shared/src/index.js';
import { type Browser, ensureBuilt, launch, pairThroughUi, shot } from './helpers/browser.js';

let model: ModelServer;
let td: TestDaemon | undefined;
let b: Browser | undefined;
let desk: WsTestClient | undefined;
let deskToken = '';
const env = () => ({ ANTHROPIC_API_KEY: 'test-key', ANTHROPIC_BASE_URL: model.url });

beforeAll(async () => {
  await ensureBuilt();
  model = await startModelServer(() => reply(text('Done.')));
  td = await startTestDaemon({ env: env() });
  b = await launch();
  await pairThroughUi(b.page, td, 'Restored home phone');
  deskToken = (await td.pairDevice('Desk')).token;
}, 120_000);
afterAll(async () => {
  desk?.close();
  await b?.context.setOffline(false).catch(() => undefined);
  await b?.close();
  await td?.stop();
  await model?.close();
});

/** Stop the host and start it again on the same home and port, with the desk connected anew. */
async function restart(between: () => void = () => undefined): Promise<void> {
  desk?.close();
  const { home, port } = td!;
  await td!.stop();
  td = undefined;
  between();
  td = await startTestDaemon({ home, env: env(), config: { port } });
  desk = await td.connect({ token: deskToken });
}

const titlesShown = async () => (await b!.page.locator('.thread-row .row-title').allInnerTexts()).sort();

it('after a restore from an older backup, the list the phone shows equals the store', async () => {
  const { page, context } = b!;
  const store = path.join(td!.home, 'store');
  const backup = path.join(td!.home, 'store-backup');
  desk = await td!.connect({ token: deskToken });
  const first = await desk.send<{ thread: ThreadSummary }>({ type: 'thread.create', text: 'Before the backup' });
  await page.locator('.thread-row', { hasText: 'Before the backup' }).waitFor({ timeout: 20_000 });

  await restart(() => fs.cpSync(store, backup, { recursive: true }));
  await desk!.send({ type: 'thread.create', text: 'Made after the backup' });
  await desk!.send({ type: 'thread.rename', threadId: first.thread.id, title: 'Renamed after the backup' });
  await page.locator('.thread-row', { hasText: 'Made after the backup' }).waitFor({ timeout: 30_000 });
  await page.locator('.thread-row', { hasText: 'Renamed after the backup' }).waitFor({ timeout: 30_000 });
  const phoneSaw = td!.daemon.ctx.store.events.lastSeq;

  // The phone goes offline; the store is put back as the backup had it; the host goes on past the
  // number the phone saw.
  await context.setOffline(true);
  await page.locator('.banner-offline').waitFor({ timeout: 15_000 });
  await restart(() => {
    fs.rmSync(store, { recursive: true });
    fs.cpSync(backup, store, { recursive: true });
    fs.rmSync(backup, { recursive: true });
  });
  for (let i = 0; i < 40 && td!.daemon.ctx.store.events.lastSeq <= phoneSaw + 2; i++)
    await desk!.send({ type: 'thread.create', text: `New after the restore ${i}` });
  expect(td!.daemon.ctx.store.events.lastSeq).toBeGreaterThan(phoneSaw);
  const truth = (await desk!.send<ThreadSummary[]>({ type: 'threads.list' }))
    .filter((t) => t.state === 'active')
    .map((t) => t.title)
    .sort();
  expect(truth).toContain('Before the backup');

  await context.setOffline(false);
  await page.evaluate(() => dispatchEvent(new Event('online')));
  await page.locator('.banner-offline').waitFor({ state: 'detached', timeout: 20_000 });
  await expect.poll(titlesShown, { timeout: 20_000 }).toEqual(truth);
  expect(await page.getByText('after the backup').count()).toBe(0);
  await shot(page, 'restored-home-list');
}, 150_000);
