// Known secrets are redacted once a tool has encoded them with the bytes around them: base64 at any
// place in the encoded bytes (standard and URL-safe), and hex (lower and upper case).
import crypto from 'node:crypto';
import { expect, it } from 'vitest';
import { type KnownSecrets, REDACTED, redactText } from '../../src/tools/redact.js';

const API_KEY = 'sk-ant-api03-Zr8Xq7p4ssw0rd-é';
const secrets: KnownSecrets = { values: [API_KEY], tokenHashes: new Set() };
const bytes = Buffer.from(API_KEY, 'utf8');

/** The base64 characters made only of the secret's bits, when it starts `at` bytes into the encoded bytes. */
function secretOnlyChars(encoded: string, at: number): string {
  const first = Math.ceil((at * 8) / 6);
  const end = Math.floor(((at + bytes.length) * 8) / 6);
  return encoded.slice(first, end);
}

it('redacts a secret inside base64, wherever it sits in the encoded bytes, in both alphabets', () => {
  for (let at = 0; at < 9; at++) {
    for (const tail of [0, 1, 2, 5]) {
      const data = Buffer.concat([crypto.randomBytes(at), bytes, crypto.randomBytes(tail)]);
      for (const encoded of [data.toString('base64'), data.toString('base64url')]) {
        const inner = secretOnlyChars(encoded, at);
        const out = redactText(`payload: ${encoded}\n`, secrets);
        expect(out, `at ${at}, tail ${tail}`).toContain(REDACTED);
        // At most the two characters at each end that the secret shares with its neighbours are left.
        expect(out).not.toContain(inner.slice(2, -2));
      }
    }
  }
});

it('redacts a password in an HTTP Basic header and a secret in hex, either case', () => {
  const header = `Authorization: Basic ${Buffer.from(`alice:${API_KEY}`).toString('base64')}`;
  expect(redactText(header, secrets)).toContain(REDACTED);
  expect(redactText(header, secrets)).toMatch(/^Authorization: Basic YWxpY2U6/); // "alice:" is kept
  const hex = Buffer.from(`KEY=${API_KEY}\n`).toString('hex');
  for (const dump of [hex, hex.toUpperCase()]) {
    const out = redactText(dump, secrets);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain(bytes.toString('hex').slice(0, 16));
  }
});

it('leaves base64 and hex without the secret as it was', () => {
  const other = crypto.randomBytes(3000);
  for (const text of [other.toString('base64'), other.toString('base64url'), other.toString('hex')])
    expect(redactText(text, secrets)).toBe(text);
});

it('redacts a secret in base64 and hex wrapped as encoders print them (76, 64 and 60 columns)', () => {
  const longKey = `sk-ant-api03-${'Zr8Xq7p4ssw0rdAbCdEfGhIjKlMnOpQrStUvWxYz0123456789'.repeat(2)}-AAA`;
  const long: KnownSecrets = { values: [longKey], tokenHashes: new Set() };
  const wrap = (s: string, cols: number) => s.match(new RegExp(`.{1,${cols}}`, 'g'))!.join('\n');
  const data = Buffer.from(`ANTHROPIC_API_KEY=${longKey}\nOTHER=1\n`);
  for (const [printed, encoded] of [
    [wrap(data.toString('base64'), 76), data.toString('base64')], // base64
    [`-----BEGIN DATA-----\n${wrap(data.toString('base64'), 64)}\n-----END DATA-----`, data.toString('base64')],
    [wrap(data.toString('hex'), 60), data.toString('hex')], // xxd -p
  ]) {
    const out = redactText(printed, long);
    expect(out).toContain(REDACTED);
    // No run of the secret's encoding is left, wrapped or not.
    const left = out.replace(/\n/g, '');
    const middle = encoded.slice(Math.floor(encoded.length / 3), Math.floor(encoded.length / 3) + 24);
    expect(left).not.toContain(middle);
  }
  const plain = 'line one\nline two\n'.repeat(50);
  expect(redactText(plain, long)).toBe(plain);
});

it('stays linear on a long unbroken run of base64 characters (a big output of one line)', () => {
  const run = `${'x'.repeat(2_000_000)}\nDONE`;
  const started = performance.now();
  expect(redactText(run, secrets)).toBe(run);
  // One pass: milliseconds. A pattern that backtracks over the run took minutes.
  expect(performance.now() - started).toBeLessThan(2_000);
});
