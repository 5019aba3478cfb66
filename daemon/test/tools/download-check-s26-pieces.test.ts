// The download check (fileHoldsSecret before the answer, secretGuard as it is sent) looks at a file
// in small pieces and lets the event loop go between them, so other clients are answered while a
// large file is looked at; and it finds what redaction of the whole text finds, even a key whose
// halves are further apart than the bytes one piece reaches back (blanks or lines between them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { throughGuard } from '../helpers/downloads.js';

/** Every text the check redacts: its length, and how many event-loop turns had gone by. */
const looks: Array<{ length: number; turn: number }> = [];
let turn = 0;
vi.mock('../../src/tools/secret-files.js', async (original) => {
  const real = await original<typeof import('../../src/tools/secret-files.js')>();
  return {
    ...real,
    redactedText: (data: Buffer, secrets: Parameters<typeof real.redactedText>[1]) => {
      looks.push({ length: data.length, turn });
      return real.redactedText(data, secrets);
    },
  };
});

const { fileHoldsSecret, secretGuard } = await import('../../src/tools/secret-views.js');
const { redactText } = await import('../../src/tools/redact.js');

const KEY = 'sk-ant-api03-SECRETSECRETSECRET0123456789';
const secrets = { values: [KEY], tokenHashes: new Set<string>() };
const MB = 1 << 20;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-dl-pieces-'));
  looks.length = 0;
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

async function holds(content: string | Buffer): Promise<boolean> {
  const file = path.join(dir, 'f.txt');
  fs.writeFileSync(file, content);
  const handle = await fs.promises.open(file, 'r');
  try {
    return await fileHoldsSecret(handle, (await handle.stat()).size, secrets);
  } finally {
    await handle.close();
  }
}

const guarded = (chunks: Buffer[]) => throughGuard(secretGuard(secrets), chunks);

/** `KEY` split in two with `gap` between its halves, the first half ending `before` bytes short of `at`. */
function split(gap: string, at: number, before: number) {
  const a = KEY.slice(0, 22);
  const b = KEY.slice(22);
  const text = `${'.'.repeat(at - before - a.length)}${a}${gap}${b}\n${'.'.repeat(1000)}\n`;
  return { text, a, b };
}

it('finds a key split by more blanks or lines than a piece reaches back, across any read boundary', async () => {
  for (const gap of [' '.repeat(9000), ' '.repeat(100_000), '\n'.repeat(20_000), ' \t\n'.repeat(400_000)]) {
    for (const at of gap.length > MB ? [MB] : [MB, 64 * 1024 * 3]) {
      const { text } = split(gap, at, 8300);
      // What redaction of the whole text finds (task.file shows it [redacted]) ...
      expect(redactText(text, secrets)).toContain('[redacted]');
      // ... the download check finds too.
      expect(await holds(text), `gap ${gap.length} at ${at}`).toBe(true);
    }
  }
  // Nothing found where nothing is.
  expect(await holds(`${'.'.repeat(MB)}${KEY.slice(0, 22)}${' '.repeat(9000)}\n${'.'.repeat(MB)}`)).toBe(false);
});

it('cuts a download before the second half of a key split by many blanks leaves', async () => {
  const a = KEY.slice(0, 22);
  const b = KEY.slice(22);
  const filler = Buffer.alloc(100_000, 'x');
  // 4 KB of blanks: within the bytes held back, so neither half leaves.
  const near = await guarded([
    filler,
    Buffer.from(`key ${a}`),
    Buffer.alloc(4000, ' '),
    Buffer.from(`${b} end`),
    filler,
  ]);
  expect(near.error?.message).toMatch(/holds a secret/);
  expect(near.sent).not.toContain(a);
  expect(near.sent).not.toContain(b);
  // 1 MB of lines, in 64 KB chunks: the first half has left (only the seam is held back), the rest never does.
  const lines = Buffer.alloc(MB, '\n');
  const chunks = [filler, Buffer.from(`key ${a}`)];
  for (let at = 0; at < lines.length; at += 65536) chunks.push(lines.subarray(at, at + 65536));
  const far = await guarded([...chunks, Buffer.from(`${b} end`), filler]);
  expect(far.error?.message).toMatch(/holds a secret/);
  expect(far.sent).not.toContain(b);
  // Without a key, every byte goes out as it was, in order.
  const clean = [filler, Buffer.from(`key ${a}`), lines, Buffer.from('no second half'), filler];
  const passed = await guarded(clean);
  expect(passed.error).toBeUndefined();
  expect(passed.sent).toBe(Buffer.concat(clean).toString('latin1'));
});

it('looks at a large file in small pieces and lets other work run between them', async () => {
  // Another client's work: one step per event-loop turn, counted while the check runs.
  let running = true;
  const tick = () => {
    turn++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  // 8 MB of base64 lines.
  const text = Buffer.alloc(6 * MB, 7)
    .toString('base64')
    .replace(/.{76}/g, '$&\n');
  try {
    expect(await holds(text)).toBe(false);
  } finally {
    running = false;
  }
  expect(looks.length).toBeGreaterThan(8);
  // Each look is a piece (64 KB) and what it reaches back into: a few ms of work, not a megabyte's.
  expect(Math.max(...looks.map((l) => l.length))).toBeLessThanOrEqual(64 * 1024 + 8192 + 512);
  // And other work ran between any two looks.
  for (let i = 1; i < looks.length; i++) expect(looks[i].turn, `look ${i}`).toBeGreaterThan(looks[i - 1].turn);
});
