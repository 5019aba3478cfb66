// A connector secret printed the way Python prints a value (repr: a logged dict, a KeyError, an
// f"{x!r}", os.environ, os.environb) is redacted too. Python doubles backslashes but leaves `"` as
// is, so the JSON forms missed it: `environ({'DB_PASSWORD': 'Xq7"p4ss\\w0rd!Zr8'})` reached the model.
// The outputs below are what CPython 3.13 prints for these values.
import { expect, it } from 'vitest';
import { type KnownSecrets, REDACTED, redactText, secretForms } from '../../src/tools/redact.js';

const AUDIT = 'Xq7"p4ss\\w0rd!Zr8'; // the audit's password: a quote and a backslash
const APOSTROPHE = "it's-a-s3cret\\path"; // repr writes it in double quotes, escaping nothing but `\`
const MIXED = 'mixed\'both"q\\é\tend\u200b!'; // both quotes, non-ASCII, a tab, an invisible character
const secrets: KnownSecrets = { values: [AUDIT, APOSTROPHE, MIXED], tokenHashes: new Set() };

it('redacts each secret in the forms Python repr prints it in (str and bytes, in dicts and lists)', () => {
  const printed = [
    String.raw`environ({'DB_PASSWORD': 'Xq7"p4ss\\w0rd!Zr8', 'HOME': '/root'})`,
    String.raw`KeyError: 'Xq7"p4ss\\w0rd!Zr8'`,
    String.raw`b'Xq7"p4ss\\w0rd!Zr8'`,
    String.raw`{'K': "it's-a-s3cret\\path"}`,
    String.raw`b"it's-a-s3cret\\path"`,
    String.raw`['mixed\'both"q\\é\tend\u200b!']`,
    String.raw`b'mixed\'both"q\\\xc3\xa9\tend\xe2\x80\x8b!'`,
  ];
  for (const text of printed) {
    const out = redactText(text, secrets);
    expect(out, text).toContain(REDACTED);
    for (const part of ['p4ss', 's3cret', 'both']) expect(out, text).not.toContain(part);
  }
  expect(redactText(printed[0], secrets)).toBe(`environ({'DB_PASSWORD': '${REDACTED}', 'HOME': '/root'})`);
});

it('redacts a secret whose quotes alone are escaped (hand-written escaping)', () => {
  expect(redactText(String.raw`password="Xq7\"p4ss\w0rd!Zr8"`, secrets)).toBe(`password="${REDACTED}"`);
  expect(redactText(String.raw`pw: 'it\'s-a-s3cret\path'`, secrets)).toBe(`pw: '${REDACTED}'`);
});

it('a plain secret still has one form, and redacting stays one cached pattern', () => {
  expect(secretForms('plain-ascii-token-123')).toEqual(['plain-ascii-token-123']);
  const big = `${'lorem ipsum dolor sit amet '.repeat(2400)}${String.raw`{'K': 'Xq7"p4ss\\w0rd!Zr8'}`}`;
  redactText(big, secrets);
  const started = performance.now();
  for (let i = 0; i < 200; i++) expect(redactText(big, secrets)).toContain(`{'K': '${REDACTED}'}`);
  expect(performance.now() - started).toBeLessThan(2_000);
});
