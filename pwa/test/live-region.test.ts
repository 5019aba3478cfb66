// Screen readers hear a streamed answer once, not each chunk. Chromium's accessibility tree is not
// reachable here, so the page records what a screen reader would announce from its live regions:
// changes inside an aria-live region are announced (one announcement per batch of DOM changes) unless
// the region is aria-busy, in which case they are held and announced when aria-busy turns false.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type ScriptReply, text } from '../../daemon/test/helpers/model-server.js';
import { type PhoneRig, startPhoneRig } from './helpers/browser.js';

let rig: PhoneRig | undefined;
beforeAll(async () => {
  rig = await startPhoneRig('Live region phone');
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

interface Recorded {
  announcements: string[];
  /** Batches of changes made while their region was busy (held back until it is not): each would
   * have been an announcement of its own without aria-busy. */
  heldBatches: number;
}

/** Starts recording announcements from every live region on the page (those present now or later). */
function recordAnnouncements(): void {
  const w = window as unknown as { __announced: Recorded };
  w.__announced = { announcements: [], heldBatches: 0 };
  const pending = new Map<Element, string>();
  const regionOf = (n: Node | null): Element | null => {
    const el = n instanceof Element ? n : (n?.parentElement ?? null);
    const r = el?.closest('[aria-live]:not([aria-live="off"]), [role="log"], [role="status"], [role="alert"]');
    return r ?? null;
  };
  // One observer callback is one batch of DOM changes (one task of the page): a screen reader hears
  // a batch's changes together, so each batch with something to say is one announcement.
  new MutationObserver((records) => {
    let said = '';
    let held = false;
    for (const m of records) {
      if (m.type === 'attributes') {
        const el = m.target as Element;
        if (el.getAttribute('aria-busy') !== 'true' && pending.has(el)) {
          said += pending.get(el)!;
          pending.delete(el);
        }
        continue;
      }
      // A region inserted whole (a new screen) is not announced: only changes inside one that was there.
      const region = regionOf(m.target);
      if (!region) continue;
      const change =
        m.type === 'characterData'
          ? (m.target.textContent ?? '')
          : [...m.addedNodes].map((n) => n.textContent ?? '').join(' ');
      if (!change.trim()) continue;
      const busy = region.closest('[aria-busy="true"]');
      if (busy) {
        held = true;
        pending.set(busy, `${pending.get(busy) ?? ''} ${change}`);
      } else said += ` ${change}`;
    }
    if (held) w.__announced.heldBatches++;
    if (said.trim()) w.__announced.announcements.push(said.trim());
  }).observe(document.body, {
    subtree: true,
    childList: true,
    characterData: true,
    attributes: true,
    attributeFilter: ['aria-busy'],
  });
}

it('a streamed answer is announced once, whole', async () => {
  const { page } = rig!.b;
  const { model, td } = rig!;
  const words = Array.from({ length: 40 }, (_, i) => `Tok${String(i).padStart(2, '0')}`);
  const answer: ScriptReply = { content: [text(words.join(' '))], chunkDelayMs: 25 };
  // The answer starts only once the recorder listens.
  let listening!: () => void;
  const ready = new Promise<void>((r) => {
    listening = r;
  });
  model.setScript(async () => {
    await ready;
    return answer;
  });
  try {
    await page.goto(`${td.url}/#new`);
    await page.getByRole('textbox', { name: 'Message' }).fill('Tell me forty tokens');
    await page.getByRole('button', { name: 'Send' }).click();
    // The thread screen is up (its conversation log exists) before the answer starts.
    await page.getByRole('log', { name: 'Conversation' }).waitFor({ timeout: 10_000 });
    await page.evaluate(recordAnnouncements);
  } finally {
    listening();
  }
  await page.locator('.task-group .chip-done').waitFor({ timeout: 20_000 });
  await page.getByText('Tok39').waitFor();
  const rec = await page.evaluate(() => (window as unknown as { __announced: Recorded }).__announced);
  const aboutAnswer = rec.announcements.filter((a) => /Tok\d\d/.test(a));
  // The stream really came in pieces (in separate batches) while the log was busy …
  expect(rec.heldBatches).toBeGreaterThanOrEqual(2);
  // … and was announced once, with all of it.
  expect(aboutAnswer).toHaveLength(1);
  for (const w of words) expect(aboutAnswer[0]).toContain(w);
}, 60_000);
