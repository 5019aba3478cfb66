// Redaction of known secrets in tool output, checked against the plain definition: every
// token-shaped run is scanned window by window and any window whose sha256 is a paired device's
// token hash is replaced (the reference below hashes every window, the daemon skips windows that
// cannot be a token). Random texts with real tokens in every shape must come out identical.
import crypto from 'node:crypto';
import { expect, it } from 'vitest';
import { hashToken } from '../../src/store/devices.js';
import { type KnownSecrets, REDACTED, redactBlocks, redactText } from '../../src/tools/redact.js';

const newToken = () => crypto.randomBytes(32).toString('base64url'); // as store/devices.ts makes them

/** The definition: hash every 43-character window of every run of 43+ token characters. */
function reference(text: string, s: KnownSecrets): string {
  let out = text;
  for (const secret of s.values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (!s.tokenHashes.size) return out;
  let budget = 2_000_000;
  return out.replace(/[A-Za-z0-9_-]{43,}/g, (run) => {
    if (budget < run.length) return run;
    budget -= run.length;
    let r = '';
    let kept = 0;
    for (let i = 0; i + 43 <= run.length; ) {
      if (
        s.tokenHashes.has(
          crypto
            .createHash('sha256')
            .update(run.slice(i, i + 43))
            .digest('hex'),
        )
      ) {
        r += run.slice(kept, i) + REDACTED;
        i += 43;
        kept = i;
      } else i++;
    }
    return r + run.slice(kept);
  });
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
const pick = <T>(a: readonly T[] | string): T | string => a[crypto.randomInt(a.length)];
const randomRun = (n: number) => Array.from({ length: n }, () => pick(ALPHABET)).join('');

it('catches a token alone, glued to other token characters, twice in a row, in JSON, base64 and URLs', () => {
  const t = newToken();
  const u = newToken();
  const s: KnownSecrets = { values: [], tokenHashes: new Set([hashToken(t), hashToken(u)]) };
  const cases = [
    t,
    `device token: ${t}\n`,
    `raw=abc${t}_42`,
    `${t}${u}`,
    `${t}${t}`,
    `{"token":"${t}"}`,
    `https://host/ws?token=${t}&x=1`,
    `${randomRun(5000)}${t}${randomRun(777)}`,
    `-${t}-`,
    `é${t}日本`,
  ];
  for (const c of cases) {
    const got = redactText(c, s);
    expect(got).not.toContain(t);
    expect(got).not.toContain(u);
    expect(got).toContain(REDACTED);
    expect(got).toBe(reference(c, s));
  }
  // A token with one character changed is not a token.
  const other = `${t.slice(0, 20)}${t[20] === 'A' ? 'B' : 'A'}${t.slice(21)}`;
  expect(redactText(other, s)).toBe(other);
});

it('catches tokens ending with each of the 16 characters a token can end with', () => {
  const tokens = Array.from({ length: 16 }, (_, k) => {
    const bytes = crypto.randomBytes(32);
    bytes[31] = (bytes[31] & 0xf0) | k; // the last character encodes the low 4 bits
    return bytes.toString('base64url');
  });
  expect(new Set(tokens.map((t) => t.at(-1))).size).toBe(16);
  const s: KnownSecrets = { values: [], tokenHashes: new Set(tokens.map(hashToken)) };
  for (const t of tokens) {
    expect(redactText(`x${t}y`, s)).toBe(`x${REDACTED}y`);
    expect(redactText(`x${t}y`, s)).toBe(reference(`x${t}y`, s));
  }
});

it('redacts secrets in clear and leaves everything else byte for byte', () => {
  const s: KnownSecrets = { values: ['sk-ant-secret-1234', 'hunter2hunter2'], tokenHashes: new Set() };
  expect(redactText('key sk-ant-secret-1234 and hunter2hunter2.', s)).toBe(`key ${REDACTED} and ${REDACTED}.`);
  const prose = 'The quick brown fox jumps over the lazy dog; '.repeat(500);
  const withTokens: KnownSecrets = { values: [], tokenHashes: new Set([hashToken(newToken())]) };
  expect(redactText(prose, withTokens)).toBe(prose);
  const blocks = redactBlocks(
    [
      { type: 'text', text: 'a hunter2hunter2 b' },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'hunter2hunter2' } },
    ] as never,
    s,
  );
  expect(blocks).toEqual([
    { type: 'text', text: `a ${REDACTED} b` },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'hunter2hunter2' } },
  ]);
});

it('gives the same output as hashing every window, on random texts with tokens in random places', () => {
  const tokens = Array.from({ length: 4 }, newToken);
  const s: KnownSecrets = { values: ['clear-secret-value'], tokenHashes: new Set(tokens.map(hashToken)) };
  const pieces = () =>
    [
      () => pick(tokens) as string,
      () => randomRun(crypto.randomInt(1, 120)),
      () => pick([' ', '\n', '.', '/', '=', '"', 'é', '+']) as string,
      () => 'clear-secret-value',
      () => (pick(tokens) as string).slice(0, crypto.randomInt(1, 43)),
    ][crypto.randomInt(5)]();
  for (let n = 0; n < 300; n++) {
    const text = Array.from({ length: crypto.randomInt(1, 30) }, pieces).join('');
    expect(redactText(text, s)).toBe(reference(text, s));
  }
});

it('keeps the bound on hashing work: a run beyond what is left of the budget is skipped, later runs are not', () => {
  const t = newToken();
  const s: KnownSecrets = { values: [], tokenHashes: new Set([hashToken(t)]) };
  const big = `${randomRun(2_000_000 - 43 - 42)}${t}`; // one character more than the budget left after the first token
  const text = `${t} ${big} ${t}`;
  const got = redactText(text, s);
  expect(got).toBe(reference(text, s));
  expect(got).toBe(`${REDACTED} ${big} ${REDACTED}`);
});
