// A known secret's base64 (or hex) is redacted however an encoder wrapped its lines: short lines
// (`base64 -w4`, `-w7`, a last line under 8 characters), \r\n line ends, indented lines (a YAML
// block), and inside a JSON string where each line break is the two characters \n (an exported
// settings file, a jq or Python dump). Found before: only lines of 8 or more characters split on a
// real \n, so a file holding the API key this way passed fs_read to the model. Also its octal bytes
// (`od -b`, `\NNN` escapes). Only the span holding the secret is redacted, text without it is left
// as it was, and the work stays linear on 5 MB outputs.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { type KnownSecrets, REDACTED, redactText } from '../../src/tools/redact.js';
import { type ToolsHarness, textOf, toolsHarness } from './helpers.js';

const KEY = 'sk-ant-api03-Zq7Xv9Lm2Np4Rs6Tu8Wx0Yz1Ab3Cd5Ef7Gh9Ij-Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk_AAAA';
const secrets: KnownSecrets = { values: [KEY], tokenHashes: new Set() };
const CONFIG = JSON.stringify({ anthropic: { apiKey: KEY }, port: 8080 });

/** What the real `base64` prints for `input` with these options. */
const base64 = (input: string, ...args: string[]) => execFileSync('base64', args, { input, encoding: 'utf8' });

/**
 * The base64 characters only the key's bytes decide, for each place it can start in a group of 3
 * bytes, in both alphabets: any 12 of them in a row left in `text` (line breaks, \n escapes and
 * blanks taken out) is the key leaking.
 */
function leaksBase64(text: string): string | undefined {
  const joined = text.replace(/\\[nr]|\s/g, '').replace(/\\\//g, '/');
  const bytes = Buffer.from(KEY);
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const own = encoded.slice([0, 2, 3][shift], Math.floor((shift + bytes.length) / 3) * 4);
    for (const alphabet of [own, own.replace(/\+/g, '-').replace(/\//g, '_')])
      for (let i = 0; i + 12 <= alphabet.length; i++)
        if (joined.includes(alphabet.slice(i, i + 12))) return alphabet.slice(i, i + 12);
  }
  return undefined;
}

it('redacts the key in base64 wrapped at any width, with \\r\\n line ends or indented', () => {
  const crlf = (s: string) => s.replace(/\n/g, '\r\n');
  const indented = (s: string) => `data: |\n${s.replace(/^/gm, '    ')}`;
  const outputs: Record<string, string> = {
    'base64 -w4': base64(KEY, '-w4'),
    'base64 -w7': base64(KEY, '-w7'),
    'base64 -w10 (last line under 8)': base64(KEY, '-w10'),
    'base64 -w6, \\r\\n': crlf(base64(KEY, '-w6')),
    'base64 of the config': base64(CONFIG),
    'base64 -w5 of the config': base64(CONFIG, '-w5'),
    'base64 of the config, in a YAML block': indented(base64(CONFIG, '-w20')),
    'base64 -w1': base64(KEY, '-w1'),
  };
  for (const [name, output] of Object.entries(outputs)) {
    expect(leaksBase64(output), `${name} holds the key before redaction`).toBeDefined();
    const out = redactText(output, secrets);
    expect(out, name).toContain(REDACTED);
    expect(leaksBase64(out), `${name}:\n${out}`).toBeUndefined();
  }
});

it('redacts the key in base64 inside a JSON string, its line breaks written as \\n', () => {
  const exported = (data: string) => JSON.stringify({ file: 'app.json', encoding: 'base64', data }, null, 2);
  const outputs: Record<string, string> = {
    'the audit: a settings file exported as JSON': exported(base64(CONFIG)),
    'base64 -w12 in JSON': JSON.stringify({ data: base64(KEY, '-w12') }),
    'base64 -w4 in JSON': JSON.stringify({ data: base64(KEY, '-w4') }),
    '\\r\\n line ends in JSON': JSON.stringify({ data: base64(CONFIG, '-w16').replace(/\n/g, '\r\n') }),
    'JSON in JSON (\\\\n)': JSON.stringify({ inner: JSON.stringify({ data: base64(CONFIG, '-w16') }) }),
    "PHP's json_encode (\\/ for /)": JSON.stringify({ data: base64(`/////${KEY}`, '-w20') }).replace(/\//g, '\\/'),
  };
  for (const [name, output] of Object.entries(outputs)) {
    expect(leaksBase64(output), `${name} holds the key before redaction`).toBeDefined();
    const out = redactText(output, secrets);
    expect(out, name).toContain(REDACTED);
    expect(leaksBase64(out), `${name}:\n${out}`).toBeUndefined();
    expect(() => JSON.parse(out), name).not.toThrow(); // the redaction stays inside the string
  }
});

it('redacts only the span holding the key: the lines before and after it are kept as they were', () => {
  const before = 'x'.repeat(120);
  const after = 'y'.repeat(120);
  const output = base64(`${before}${KEY}${after}`, '-w6');
  const out = redactText(output, secrets);
  expect(out.split(REDACTED)).toHaveLength(2);
  const lines = output.split('\n');
  // 120 bytes are 160 characters: the first 26 lines of 6 only hold `before`, the last ones only `after`.
  expect(out.startsWith(lines.slice(0, 26).join('\n'))).toBe(true);
  expect(out.endsWith(lines.slice(-26).join('\n'))).toBe(true);
});

it("redacts the key's octal bytes: od -b and \\NNN escapes", () => {
  const octal = [...Buffer.from(KEY)].map((b) => b.toString(8).padStart(3, '0'));
  const od = execFileSync('od', ['-b'], { input: `token: ${KEY}\n`, encoding: 'utf8' });
  const outputs: Record<string, string> = {
    'od -b': od,
    'od -An -b': execFileSync('od', ['-An', '-b'], { input: KEY, encoding: 'utf8' }),
    '\\NNN (3 digits)': `printf '${octal.map((o) => `\\${o}`).join('')}'`,
    '\\NNN (as few digits as it takes)': [...Buffer.from(KEY)].map((b) => `\\${b.toString(8)}`).join(''),
  };
  /** 8 bytes of the key in a row, as octal digits, in `text` once the offset column of od is taken out. */
  const leaksOctal = (text: string) => {
    const digits = text.replace(/^[0-7]{7}/gm, '').replace(/[^0-7]/g, '');
    const all = octal.join('');
    for (let i = 0; i + 24 <= all.length; i += 3) if (digits.includes(all.slice(i, i + 24))) return true;
    return false;
  };
  for (const [name, output] of Object.entries(outputs)) {
    expect(leaksOctal(output), `${name} holds the key before redaction`).toBe(true);
    const out = redactText(output, secrets);
    expect(out, name).toContain(REDACTED);
    expect(leaksOctal(out), `${name}:\n${out}`).toBe(false);
  }
  expect(redactText(od, secrets).split('\n')[0]).toMatch(/^0000000 164 157 153 145 156 072 040/); // "token: " is kept
});

it('leaves base64, JSON and prose without the key as they were', () => {
  const random = crypto.randomBytes(20_000);
  const texts = [
    base64(random.toString('latin1'), '-w4'),
    base64(random.toString('latin1')),
    JSON.stringify({ data: random.toString('base64').replace(/.{76}/g, '$&\n') }, null, 2),
    execFileSync('od', ['-b'], { input: random, encoding: 'utf8' }),
    fs.readFileSync(new URL('../../src/tools/redact.ts', import.meta.url), 'utf8'),
    'line one\n  line two\r\nline three\\nline four\n'.repeat(500),
  ];
  for (const text of texts) expect(redactText(text, secrets)).toBe(text);
});

it('stays linear on 5 MB outputs dense with line breaks and escapes', () => {
  const inputs = [
    '\n'.repeat(5_000_000), // one pattern repeating its group overflowed the stack on this
    '\\n'.repeat(2_500_000),
    `\n${' '.repeat(5_000_000)}x`,
    `${' '.repeat(5_000_000)}\nx`,
    'a\n'.repeat(2_500_000),
    'ab\\/'.repeat(1_250_000),
    crypto.randomBytes(3_700_000).toString('base64').replace(/.{4}/g, '$&\n'),
  ];
  for (const text of inputs) {
    const started = performance.now();
    expect(redactText(text, secrets)).toBe(text);
    // Linear passes take a fraction of a second each; the bound leaves room for a busy machine.
    expect(performance.now() - started, `${text.length} characters`).toBeLessThan(5000);
  }
  // The key wrapped inside a 5 MB output is found, once.
  const big = `${'lorem ipsum\n'.repeat(200_000)}${base64(CONFIG, '-w4')}${'dolor sit\n'.repeat(200_000)}`;
  const started = performance.now();
  const out = redactText(big, secrets);
  expect(performance.now() - started).toBeLessThan(5000);
  expect(out.split(REDACTED)).toHaveLength(2);
  expect(leaksBase64(out)).toBeUndefined();
});

let h: ToolsHarness | undefined;
afterAll(async () => h?.close());

it("fs_read of a settings file exported as JSON, the key's base64 inside, shows the model no key", async () => {
  h = await toolsHarness({ config: { anthropic: { apiKey: KEY } } });
  const exported = JSON.stringify({ file: 'app.json', encoding: 'base64', data: base64(CONFIG) }, null, 2);
  fs.writeFileSync(path.join(h.tools.roots.workspace, 'export.json'), exported);
  const read = textOf(await h.run('fs_read', { path: 'export.json' }));
  expect(read).toContain(REDACTED);
  expect(leaksBase64(read), read).toBeUndefined();
  // And the file counts as holding the key: the model cannot reshape it until redaction misses it.
  const edit = await h.run('fs_edit', { path: 'export.json', old_text: '\\n', new_text: ' ', replace_all: true });
  expect(textOf(edit)).toMatch(/holds a secret Errand keeps from the model/);
});
