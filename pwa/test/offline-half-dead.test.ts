// A link that dies without closing. With the network gone (Chromium's offline mode, like a phone
// that lost its Wi-Fi, or a half-open TCP connection), `close()` leaves the socket in CLOSING and its
// close event may not come for minutes. The app must not wait for it: it says "Can't reach your
// computer" and shows the message as waiting, and when the network returns it delivers it once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reply, text } from '../../daemon/test/helpers/model-server.js';
import type { ThreadItem } from '../../shared/src/index.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig } from './helpers/browser.js';

describe('a half-dead connection', () => {
  let rig: PhoneRig;
  let threadId: string;

  beforeAll(async () => {
    rig = await startPhoneRig('Half-dead phone');
    watchSockets();
    // Before the app's own scripts: shorter heartbeat timings, and hiding the browser's `offline`
    // event (a half-open connection gives no such signal), each when the test asks for it.
    await rig.b.context.addInitScript(() => {
      try {
        const t = localStorage.getItem('test:timings');
        if (t) (window as unknown as { __errandTimings: unknown }).__errandTimings = JSON.parse(t);
        if (localStorage.getItem('test:hide-offline') === '1') {
          const w = window as unknown as { hiddenOffline: number };
          w.hiddenOffline = 0;
          addEventListener(
            'offline',
            (e) => {
              w.hiddenOffline++;
              e.stopImmediatePropagation();
            },
            { capture: true },
          );
        }
      } catch {
        /* no storage on this page */
      }
    });
    const { page } = rig.b;
    rig.model.push(reply(text('First answer.')));
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByRole('textbox', { name: 'Message' }).fill('First message');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.getByText('First answer.').waitFor({ timeout: 15_000 });
    await page.locator('.task-footer .chip-done').waitFor();
    threadId = new URLSearchParams(new URL(page.url()).hash.slice(1)).get('thread')!;
  }, 120_000);
  afterAll(async () => {
    await rig?.b.context.setOffline(false).catch(() => undefined);
    await rig?.close();
  });

  /** Sockets the app opened, and the pings it sent and had answered (observable, instead of waiting a while). */
  const seen = { sockets: 0, pingsAnswered: 0 };
  function watchSockets(): void {
    rig.b.page.on('websocket', (ws) => {
      seen.sockets++;
      const asked = new Set<string>();
      ws.on('framesent', (f) => {
        const m =
          typeof f.payload === 'string'
            ? /"type":"ping"[^}]*"id":"([^"]+)"|"id":"([^"]+)"[^}]*"type":"ping"/.exec(f.payload)
            : null;
        if (m) asked.add(m[1] ?? m[2]);
      });
      ws.on('framereceived', (f) => {
        if (typeof f.payload !== 'string') return;
        for (const id of asked)
          if (f.payload.includes(`"${id}"`)) {
            asked.delete(id);
            seen.pingsAnswered++;
          }
      });
    });
  }

  async function userCopies(message: string): Promise<number> {
    const c = await rig.td.connect();
    try {
      const r = await c.send<{ items: ThreadItem[] }>({ type: 'thread.get', threadId });
      return r.items.filter((i) => i.kind === 'user' && i.text === message).length;
    } finally {
      c.close();
    }
  }

  /** Network back: the message goes out once, is answered, and the banner goes. */
  async function deliveredOnce(message: string, answer: string): Promise<void> {
    const { page, context } = rig.b;
    rig.model.push(reply(text(answer)));
    await context.setOffline(false);
    await page.getByText(answer).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByText("Can't reach your computer").count()).toBe(0);
    await expect.poll(() => page.getByText('Waiting for your computer').count()).toBe(0);
    expect(await page.locator('.msg-user', { hasText: message }).count()).toBe(1);
    expect(await userCopies(message)).toBe(1);
    expect(rig.model.requests.filter((r) => JSON.stringify(r.body.messages).includes(message))).toHaveLength(1);
  }

  it("the browser's offline event: the banner and the waiting message at once, not after the close", async () => {
    const { page, context } = rig.b;
    // The production timings: a heartbeat every 20 s, 10 s to answer.
    await expect.poll(() => page.getByText("Can't reach your computer").count()).toBe(0);
    await context.setOffline(true);
    const message = 'Written with the network gone';
    await page.getByRole('textbox', { name: 'Message' }).fill(message);
    await page.getByRole('button', { name: 'Send' }).click();
    // Well before the first heartbeat could have noticed.
    await page.getByText("Can't reach your computer").waitFor({ timeout: 5000 });
    await page.getByText('Waiting for your computer').waitFor({ timeout: 2000 });
    // Retrying while offline leaves it so (each attempt fails, none is taken for a connection).
    const tries = seen.sockets;
    await expect.poll(() => seen.sockets, { timeout: 15_000 }).toBeGreaterThanOrEqual(tries + 2);
    expect(await page.getByText("Can't reach your computer").count()).toBe(1);
    expect(await page.getByText('Waiting for your computer').count()).toBe(1);
    expect(await page.getByText('Sending…').count()).toBe(0);
    // The waiting message stays readable (it was faded to 3.6:1 against its bubble).
    expect(await lowContrast(page)).toEqual([]);
    await shot(page, '24-offline-waiting');
    await deliveredOnce(message, 'Got the one written offline.');
  }, 60_000);

  it('a socket that goes silent with no close and no offline event is given up on by the heartbeat', async () => {
    const { page, context } = rig.b;
    await page.evaluate(() => {
      localStorage.setItem('test:timings', JSON.stringify({ pingEveryMs: 1500, pingTimeoutMs: 1500 }));
      localStorage.setItem('test:hide-offline', '1');
    });
    await context.setOffline(false);
    await page.reload();
    await page.getByText('First answer.').waitFor({ timeout: 15_000 });
    // Pings every 1.5 s are answered: no false alarm.
    const answered = seen.pingsAnswered;
    await expect.poll(() => seen.pingsAnswered, { timeout: 15_000 }).toBeGreaterThanOrEqual(answered + 2);
    expect(await page.getByText("Can't reach your computer").count()).toBe(0);

    await context.setOffline(true);
    expect(await page.evaluate(() => navigator.onLine)).toBe(false);
    // The app never heard of it: only the silence can tell it.
    await expect
      .poll(() => page.evaluate(() => (window as unknown as { hiddenOffline: number }).hiddenOffline))
      .toBe(1);
    const message = 'Written into a silent link';
    await page.getByRole('textbox', { name: 'Message' }).fill(message);
    await page.getByRole('button', { name: 'Send' }).click();
    // The unanswered ping (1.5 s + 1.5 s) gives up on the socket without its close event.
    await page.getByText("Can't reach your computer").waitFor({ timeout: 10_000 });
    await page.getByText('Waiting for your computer').waitFor({ timeout: 2000 });
    const retries = seen.sockets;
    await expect.poll(() => seen.sockets, { timeout: 15_000 }).toBeGreaterThanOrEqual(retries + 2);
    expect(await page.getByText('Waiting for your computer').count()).toBe(1);
    expect(await page.getByText('Sending…').count()).toBe(0);
    await deliveredOnce(message, 'Got the one sent into silence.');
  }, 60_000);
});
