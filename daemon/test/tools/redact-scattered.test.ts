// A known secret is redacted from what common programs make of the file holding it: hex dumps with
// offsets and ASCII columns (xxd, hexdump -C, od), characters spaced out (od -c, sed), lines split
// (fold), reversed (rev). The real programs run on a real file; redaction stays linear on big outputs
// and leaves text without the secret as it was.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type KnownSecrets, REDACTED, redactText } from '../../src/tools/redact.js';
import { runApproved, type ToolsHarness, textOf, toolsHarness } from './helpers.js';

const KEY = 'sk-ant-api03-Zq7Xv9Lm2Np4Rs6Tu8Wx0Yz1Ab3Cd5Ef7Gh9Ij';
const secrets: KnownSecrets = { values: [KEY], tokenHashes: new Set() };
const letters = KEY.replace(/[^A-Za-z0-9]/g, '');

let dir = '';
let file = '';
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-scattered-'));
  file = path.join(dir, 'config.json');
  fs.writeFileSync(file, `${JSON.stringify({ shell: { sandbox: 'off' }, anthropic: { apiKey: KEY } }, null, 2)}\n`);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });

/** Any 6 characters of the key in a row (8 bytes of hex), once separators are taken out, forwards or reversed, in clear or hex. */
function leaksKey(text: string): string | undefined {
  const plain = text.replace(/[^A-Za-z0-9]/g, '');
  const reversed = [...plain].reverse().join('');
  const hex = text.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  const keyHex = Buffer.from(KEY).toString('hex');
  for (let i = 0; i + 6 <= letters.length; i++) {
    const part = letters.slice(i, i + 6);
    if (plain.includes(part) || reversed.includes(part)) return part;
  }
  for (let i = 0; i + 16 <= keyHex.length; i += 2)
    if (hex.includes(keyHex.slice(i, i + 16))) return keyHex.slice(i, i + 16);
  return undefined;
}

it('redacts the key from xxd, hexdump -C, od, sed, fold and rev output of the file', () => {
  const outputs: Record<string, string> = {
    xxd: run('xxd', [file]),
    'xxd -u -g1': run('xxd', ['-u', '-g1', file]),
    'xxd -c 24 -g 4': run('xxd', ['-c', '24', '-g', '4', file]),
    'hexdump -C': run('hexdump', ['-C', file]),
    'od -c': run('od', ['-c', file]),
    'od -An -c': run('od', ['-An', '-c', file]),
    'od -A x -t x1z': run('od', ['-A', 'x', '-t', 'x1z', file]),
    'od -t x1': run('od', ['-t', 'x1', file]),
    'sed spaced': run('sed', ['s/./& /g', file]),
    'fold -w 7': run('fold', ['-w', '7', file]),
    'fold -w 7 | cat -n': run('bash', ['-c', `fold -w 7 ${file} | cat -n`]),
    rev: run('rev', [file]),
  };
  for (const [name, output] of Object.entries(outputs)) {
    expect(leaksKey(output), `${name} holds the key before redaction`).toBeDefined();
    const out = redactText(output, secrets);
    expect(leaksKey(out), `${name}:\n${out}`).toBeUndefined();
    expect(out, name).toContain(REDACTED);
    // What comes before the key is kept.
    expect(out.split('\n')[0], name).toBe(output.split('\n')[0]);
  }
});

it('leaves text without the key as it was, dumps and prose alike', () => {
  // Source code and random bytes: a file that does not hold the key.
  const source = new URL('../../src/tools/redact.ts', import.meta.url).pathname;
  const other = Buffer.concat([crypto.randomBytes(4000), fs.readFileSync(source)]);
  const otherFile = path.join(dir, 'other.bin');
  fs.writeFileSync(otherFile, other);
  const texts = [
    run('xxd', [otherFile]),
    run('hexdump', ['-C', otherFile]),
    run('od', ['-c', otherFile]),
    fs.readFileSync(source, 'utf8'),
    run('bash', ['-c', `sed 's/./& /g' ${source} | rev`]),
    run('bash', ['-c', `fold -w 7 ${source} | cat -n`]),
  ];
  for (const text of texts) expect(redactText(text, secrets)).toBe(text);
});

it('stays linear on 5 MB outputs: one line of near matches, spaced, and a dump', () => {
  // A dot every 16 letters: 24 of the key's characters in a row are redacted as a part of it.
  const nearMiss = letters.slice(0, -1).replace(/.{16}/g, '$&.');
  const inputs = [
    nearMiss.repeat(Math.ceil(5_000_000 / nearMiss.length)),
    `${[...nearMiss].join(' ')} `.repeat(Math.ceil(2_500_000 / nearMiss.length)),
    'a '.repeat(2_500_000),
    `${'0'.repeat(8)}: ${'6162 '.repeat(1_000_000)}`,
    run('xxd', ['-l', '1200000', '/dev/zero']),
  ];
  for (const text of inputs) {
    const started = performance.now();
    expect(redactText(text, secrets)).toBe(text);
    // Quadratic work on 5 MB would take hours; the linear passes take well under a second each
    // on an idle machine (the bound leaves room for a busy one).
    expect(performance.now() - started, `${text.length} characters`).toBeLessThan(5000);
  }
  // A key inside a 5 MB output is still found, once.
  const big = `${'x'.repeat(2_500_000)}\n${[...KEY].join(' ')}\n${'y'.repeat(2_500_000)}`;
  const started = performance.now();
  const out = redactText(big, secrets);
  expect(performance.now() - started).toBeLessThan(5000);
  expect(out.split(REDACTED)).toHaveLength(2);
  expect(leaksKey(out)).toBeUndefined();
});

let h: ToolsHarness | undefined;
afterAll(async () => h?.close());

it('an approved shell command that dumps the config shows no key to the model', async () => {
  h = await toolsHarness({ config: { anthropic: { apiKey: KEY } } });
  const cfg = path.join(h.home, 'config.json');
  for (const argv of [
    ['xxd', cfg],
    ['od', '-c', cfg],
    ['rev', cfg],
    ['bash', '-c', `fold -w 7 ${cfg}`],
  ]) {
    const t = textOf(await runApproved(h, 'shell', { argv }, h.task()));
    expect(t, argv.join(' ')).toContain(REDACTED);
    expect(leaksKey(t), `${argv.join(' ')}:\n${t}`).toBeUndefined();
  }
});
