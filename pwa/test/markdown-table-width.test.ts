// A Markdown table on a 320 px phone, in a message and in the file viewer. One too wide to fit even
// squeezed scrolls sideways at a readable width: its prose column was one word a line (every column
// 72 px, a row 194 px tall). One that fits by wrapping still fits. And the edge with more to scroll is
// shaded, so a cut that falls on a column border still shows there is more.
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { reply, text, toolUse } from '../../daemon/test/helpers/model-server.js';
import { lowContrast, type PhoneRig, shot, startPhoneRig, tooSmall } from './helpers/browser.js';
import { decodePng } from './helpers/png.js';

const REPORT = [
  '# Quarterly report',
  '',
  '| Region | Q2 | Q3 | Change | Notes |',
  '|---|---:|---:|---:|---|',
  '| North-east | 1,200 | 1,450 | +20.8% | Best quarter since the new office opened in March |',
  '| South | 800 | 790 | -1.2% | Flat |',
].join('\n');
// Fits at 320 px with its prose wrapped: made wider, it would scroll for nothing.
const FITS = [
  '| Step | What happens |',
  '|---|---|',
  '| 1 | The report is written from the sales figures of the quarter |',
  '| 2 | It is checked |',
].join('\n');

let rig: PhoneRig | undefined;
let threadUrl = '';
beforeAll(async () => {
  rig = await startPhoneRig('Table phone');
  const { page } = rig.b;
  const { model } = rig;
  await page.setViewportSize({ width: 320, height: 640 });
  model.push(
    reply(toolUse('fs_write', { path: 'report.md', content: `${REPORT}\n` })),
    reply(text(`Here it is:\n\n${REPORT}\n\nAnd the costs:\n\n${FITS}`)),
  );
  await page.getByRole('button', { name: 'New task' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('Write the report');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('.task-footer .chip-done').waitFor({ timeout: 20_000 });
  threadUrl = page.url();
}, 120_000);
afterAll(async () => {
  await rig?.close();
});

/** A table's wrapper, its table and the widths and lines that matter. */
const measure = (wrap: Locator) =>
  wrap.evaluate((w) => {
    const table = w.querySelector('table')!;
    const lines = (el: Element) => {
      const r = document.createRange();
      r.selectNodeContents(el);
      return new Set([...r.getClientRects()].map((x) => Math.round(x.top))).size;
    };
    const cells = [...table.querySelectorAll('td')];
    return {
      wrap: w.clientWidth,
      table: Math.round(table.getBoundingClientRect().width),
      columns: [...table.rows[0].cells].map((c) => Math.round(c.getBoundingClientRect().width)),
      /** The most lines any prose cell takes. */
      proseLines: Math.max(...cells.filter((c) => !c.classList.contains('nb')).map(lines)),
      numbersOnOneLine: cells.filter((c) => c.classList.contains('nb')).every((c) => lines(c) === 1),
    };
  });

async function readableWhenScrolling(wrap: Locator, where: string): Promise<void> {
  // It scrolls (it cannot fit), its notes read as a sentence: 10 rem or more, two lines at most
  // (squeezed, they were 72 px and nine lines). Its numbers stay on one line.
  await expect
    .poll(
      async () => {
        const m = await measure(wrap);
        return { scrolls: m.table > m.wrap, notesWide: m.columns[4] >= 160, proseLines: m.proseLines };
      },
      { message: where },
    )
    .toEqual({ scrolls: true, notesWide: true, proseLines: 2 });
  expect({ where, numbersOnOneLine: (await measure(wrap)).numbersOnOneLine }).toEqual({
    where,
    numbersOnOneLine: true,
  });
}

it('a table that must scroll lays out at a readable width; one that fits by wrapping still fits', async () => {
  const { page } = rig!.b;
  const [report, fits] = [
    page.locator('.msg-assistant .table-wrap').first(),
    page.locator('.msg-assistant .table-wrap').nth(1),
  ];
  await readableWhenScrolling(report, 'message');
  const small = await measure(fits);
  expect({ fits: small.table <= small.wrap, wraps: small.proseLines > 1 }).toEqual({ fits: true, wraps: true });
  await report.scrollIntoViewIfNeeded();
  await shot(page, 'table-width-message-320');

  // Turned sideways there is room: the same table fits again, laid out as any other.
  await page.setViewportSize({ width: 640, height: 360 });
  await expect
    .poll(async () => {
      const m = await measure(report);
      return m.table <= m.wrap;
    })
    .toBe(true);
  await page.setViewportSize({ width: 320, height: 640 });
  await readableWhenScrolling(report, 'message, upright again');

  await page.getByRole('link', { name: 'Open report.md (result file)' }).first().click();
  const inFile = page.locator('.file-md .table-wrap');
  await inFile.waitFor();
  await readableWhenScrolling(inFile, 'file viewer');
  await shot(page, 'table-width-file-320');

  // At both phone sizes, light and dark: nothing scrolls sideways but the table, targets are a
  // finger's size, text is readable.
  for (const [where, url] of [
    ['file', page.url()],
    ['message', threadUrl],
  ] as const) {
    await page.goto(url);
    await page.locator('.table-wrap').first().waitFor();
    for (const size of [
      { width: 320, height: 640 },
      { width: 360, height: 780 },
    ])
      for (const colorScheme of ['light', 'dark'] as const) {
        await page.setViewportSize(size);
        await page.emulateMedia({ colorScheme });
        const at = `${where} ${size.width} ${colorScheme}`;
        const sideways = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
        expect({ at, sideways, small: await tooSmall(page), low: await lowContrast(page) }).toEqual({
          at,
          sideways: 0,
          small: [],
          low: [],
        });
      }
  }
  await page.emulateMedia({ colorScheme: null });
  await page.setViewportSize({ width: 320, height: 640 });
});

/**
 * Whether each edge of the table's scrolling box is shaded: a few columns of pixels just inside it
 * differ from the colour under the table (the median down the box, so glyphs and borders do not count).
 */
async function shadedEdges(page: Page, wrap: Locator): Promise<{ left: boolean; right: boolean }> {
  const box = (await wrap.boundingBox())!;
  // The first solid background from the box outwards: its own, the bubble of a message, the page.
  const under = await wrap.evaluate((w) => {
    for (let e: Element | null = w; e; e = e.parentElement) {
      const m = /rgba?\(([^)]+)\)/.exec(getComputedStyle(e).backgroundColor);
      const [r, g, b, a = 1] = (m?.[1] ?? '0 0 0 0')
        .split(/[\s,/]+/)
        .filter(Boolean)
        .map(Number);
      if (a === 1) return [r, g, b];
    }
    return [255, 255, 255];
  });
  const png = decodePng(await page.screenshot({ clip: box, scale: 'css' }));
  const differs = (x: number) => {
    const column = Array.from({ length: png.height }, (_, y) => {
      const [r, g, b] = png.at(x, y);
      return Math.abs(r - under[0]) + Math.abs(g - under[1]) + Math.abs(b - under[2]);
    }).sort((a, b) => a - b);
    return column[Math.floor(column.length / 2)] > 15;
  };
  const edge = (xs: number[]) => xs.filter(differs).length >= 2;
  return { left: edge([2, 4, 6]), right: edge([png.width - 3, png.width - 5, png.width - 7]) };
}

it('shades the edge with more to scroll, in a message and in the file viewer, light and dark', async () => {
  const { page } = rig!.b;
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.goto(threadUrl);
    const inMessage = page.locator('.msg-assistant .table-wrap').first();
    await inMessage.waitFor();
    await inMessage.scrollIntoViewIfNeeded();
    for (const [where, wrap] of [
      ['message', inMessage],
      ['file', page.locator('.file-md .table-wrap')],
    ] as const) {
      if (where === 'file') {
        await page.getByRole('link', { name: 'Open report.md (result file)' }).first().click();
        await wrap.waitFor();
      }
      await expect.poll(() => wrap.evaluate((w) => w.scrollWidth > w.clientWidth)).toBe(true);
      const at = `${where} ${colorScheme}`;
      await wrap.evaluate((w) => {
        w.scrollLeft = 0;
      });
      expect({ at, ...(await shadedEdges(page, wrap)) }).toEqual({ at, left: false, right: true });
      await shot(page, `table-edge-${where}-start-${colorScheme}`);
      // Scrolled to its end: the shade moves to the left edge. A table that fits has none.
      await wrap.evaluate((w) => {
        w.scrollLeft = w.scrollWidth;
      });
      expect({ at, ...(await shadedEdges(page, wrap)) }).toEqual({ at, left: true, right: false });
      await shot(page, `table-edge-${where}-end-${colorScheme}`);
    }
    await page.goto(threadUrl);
    const fits = page.locator('.msg-assistant .table-wrap').nth(1);
    await fits.scrollIntoViewIfNeeded();
    expect({ colorScheme, ...(await shadedEdges(page, fits)) }).toEqual({ colorScheme, left: false, right: false });
  }
  await page.emulateMedia({ colorScheme: null });
});
