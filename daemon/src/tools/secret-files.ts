// A file that holds a secret Errand knows (the API key, the push signing key, a connector's secret,
// a device token), in any form redaction finds, is kept from the model whole. Reading it shows the
// secret redacted; but an edit could break the secret into pieces redaction no longer finds (a
// space after every few characters), and an edit's "not found" or a search's match would answer
// guesses about it one character at a time. So the fs tools neither change nor search such a file.
import { type KnownSecrets, REDACTED, redactText } from './redact.js';

/** The secrets Errand knows right now. */
export type SecretsNow = () => KnownSecrets;

export const noSecrets: SecretsNow = () => ({ values: [], tokenHashes: new Set() });

/** Shorter secrets are not redacted (tools/runtime.ts), so they are not looked for here either. */
const MIN_SECRET = 8;

/** Does `data` hold a known secret, as redaction would find it in a tool's output? */
export function holdsSecret(data: Buffer, secrets: KnownSecrets): boolean {
  return redactedText(data, secrets) !== undefined;
}

/**
 * `data` as text with the known secrets redacted, or undefined when it holds none. A redaction that
 * fails counts as holding one (kept from the model), never as clean.
 */
export function redactedText(data: Buffer, secrets: KnownSecrets): string | undefined {
  const values = secrets.values.filter((v) => v.length >= MIN_SECRET);
  if (!values.length && !secrets.tokenHashes.size) return undefined;
  const text = data.toString('utf8');
  try {
    const red = redactText(text, { values, tokenHashes: secrets.tokenHashes });
    return red !== text ? red : undefined;
  } catch {
    return REDACTED;
  }
}

/** The sentence for the model: what it cannot do with the file, and who can. */
export const holdsSecretWords = (file: string) =>
  `${file} holds a secret Errand keeps from the model (an API key, signing key or token it knows)`;
