// Known secrets are redacted in every form a tool may print them: as is, inside a JSON string (once,
// twice, with non-ASCII as \uXXXX as Python writes it) and URL-encoded; and redacting stays one
// search per form over a large output.
import { expect, it } from 'vitest';
import { type KnownSecrets, REDACTED, redactText, secretForms } from '../../src/tools/redact.js';

const PASSWORD = 'Xq7"p4ss\\w0rd/Zr8 é!\n';
const secrets: KnownSecrets = { values: [PASSWORD, 'ghp_plainToken123456'], tokenHashes: new Set() };

it('redacts a secret with a quote, a backslash, a space, a newline and non-ASCII in each form it is printed in', () => {
  const printed = [
    JSON.stringify({ DB_PASSWORD: PASSWORD }), // JSON.stringify(process.env), as server-everything's get-env
    JSON.stringify({ DB_PASSWORD: PASSWORD }, null, 2),
    JSON.stringify({ dump: JSON.stringify({ DB_PASSWORD: PASSWORD }) }), // JSON holding JSON
    '{"DB_PASSWORD": "Xq7\\"p4ss\\\\w0rd/Zr8 \\u00e9!\\n"}', // Python's json.dumps
    `https://db.example/?password=${encodeURIComponent(PASSWORD)}&x=1`,
    `password=${new URLSearchParams({ p: PASSWORD }).toString().slice(2)}`, // a form body
    `plain: ${PASSWORD} and ghp_plainToken123456`,
  ];
  for (const text of printed) {
    const out = redactText(text, secrets);
    expect(out, text).not.toContain('p4ss');
    expect(out, text).toContain(REDACTED);
  }
  expect(redactText(JSON.stringify({ DB_PASSWORD: PASSWORD }), secrets)).toBe(`{"DB_PASSWORD":"${REDACTED}"}`);
});

it('a plain token has one form, and text without secrets comes out unchanged', () => {
  expect(secretForms('ghp_plainToken123456')).toEqual(['ghp_plainToken123456']);
  const prose = 'The quick brown fox said "p4 ss" \\ and / left. '.repeat(100);
  expect(redactText(prose, secrets)).toBe(prose);
});

it('redacts 64 KB outputs with many secrets quickly (the forms are worked out once per set of secrets)', () => {
  const many: KnownSecrets = {
    values: Array.from({ length: 50 }, (_, i) => `pa"ss\\word-${i}-${'x'.repeat(8)}`),
    tokenHashes: new Set(),
  };
  const output = `${'lorem ipsum dolor sit amet '.repeat(2400)}${JSON.stringify({ k: many.values[7] })}`;
  redactText(output, many); // warm up
  const started = performance.now();
  for (let i = 0; i < 200; i++) expect(redactText(output, many)).toContain(`{"k":"${REDACTED}"}`);
  // 200 × 64 KB × 50 secrets (250 forms) in one pass each: well under a millisecond a call; the bound is generous.
  expect(performance.now() - started).toBeLessThan(2_000);
});
