// A known secret shown in part (a long prefix, a suffix, any 24 characters of it in a row), in
// another case, with every character \u-escaped (JSON) or as HTML numeric entities, is redacted like
// the secret itself; text that only shares a few characters with it is left alone.
import crypto from 'node:crypto';
import { expect, it } from 'vitest';
import { type KnownSecrets, REDACTED, redactText } from '../../src/tools/redact.js';

const KEY = 'sk-ant-api03-SECRETSECRETSECRET0123456789';
/**
 * Random, but not ending in a letter of " after": the text around a part below is "before … after",
 * and the key's last letter there would be found a space away (a scattered match, rightly taking
 * " a" too), which the exact comparisons here do not expect.
 */
function randomKey(): string {
  for (;;) {
    const key = `sk-ant-api03-${crypto.randomBytes(60).toString('base64url')}`;
    if (!/[aefrt]$/i.test(key)) return key;
  }
}
const RANDOM = randomKey();
const SHORT = 'mail-token-7f3a9c2e'; // 19 characters: redacted whole (and in any case), not in part
const secrets: KnownSecrets = { values: [KEY, RANDOM, SHORT], tokenHashes: new Set() };

const unicodeEscaped = (s: string) => [...s].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

it('redacts long parts of a long secret, wherever they start, and in any case', () => {
  for (const secret of [KEY, RANDOM]) {
    const cases = [
      secret.slice(0, -1),
      secret.slice(1),
      secret.slice(0, 24),
      secret.slice(-24),
      secret.slice(5, 29),
      secret.slice(7, 40),
      secret.toUpperCase(),
      secret.toLowerCase(),
      secret.slice(3, 30).toUpperCase(),
    ];
    for (const part of cases) {
      const out = redactText(`before ${part} after`, secrets);
      expect(out, part).toContain(REDACTED);
      // Nothing of the part is left beside the mark (the whole run is taken, not 24 characters of it).
      expect(out, part).toBe(`before ${REDACTED} after`);
    }
    // Twice, and glued to other text (characters outside the secrets' alphabet, so none extends a part).
    const two = redactText(`<${secret.slice(2, 30)}|${secret.slice(-25)}>`, secrets);
    expect(two).toBe(`<${REDACTED}|${REDACTED}>`);
  }
});

it('leaves text that shares fewer than 24 characters in a row with a secret', () => {
  for (const text of [
    `prefix ${KEY.slice(0, 23)} rest`,
    'sk-ant-api03- is how keys start',
    `${RANDOM.slice(0, 20)}...${RANDOM.slice(-20)}`,
    `${SHORT.slice(0, -1)} and ${SHORT.slice(1)}`,
  ])
    expect(redactText(text, secrets)).toBe(text);
});

it('redacts a shorter secret in another case, whole', () => {
  expect(redactText(`t=${SHORT.toUpperCase()};`, secrets)).toBe(`t=${REDACTED};`);
});

it('redacts a secret with every character \\u-escaped or as HTML numeric entities', () => {
  for (const secret of [KEY, RANDOM, SHORT]) {
    const points = [...secret].map((c) => c.charCodeAt(0));
    const cases = [
      unicodeEscaped(secret),
      unicodeEscaped(secret).replace(/\\u([0-9a-f]{4})/g, (_, h: string) => `\\u${h.toUpperCase()}`),
      points.map((p) => `&#${p};`).join(''),
      points.map((p) => `&#x${p.toString(16)};`).join(''),
      points.map((p) => `&#x${p.toString(16).toUpperCase()};`).join(''),
    ];
    for (const form of cases) {
      const out = redactText(`{"k":"${form}"}`, secrets);
      expect(out, form).toBe(`{"k":"${REDACTED}"}`);
    }
  }
});

it('stays fast on large outputs with many secrets', () => {
  const many: KnownSecrets = {
    values: [...secrets.values, ...Array.from({ length: 20 }, () => crypto.randomBytes(48).toString('base64url'))],
    tokenHashes: new Set(),
  };
  const text = `${'The quick brown fox, 12 times; '.repeat(40_000)}${KEY.slice(3)}`;
  redactText('warm up', many);
  const started = performance.now();
  const out = redactText(text, many);
  expect(out.endsWith(REDACTED)).toBe(true);
  // Generous: ~1.2 MB takes tens of ms; a pattern gone quadratic takes minutes.
  expect(performance.now() - started).toBeLessThan(3_000);
});
