// A file that holds a secret Errand knows (the API key, the push signing key, a connector's secret,
// a device token), in any form redaction finds, is kept from the model whole. Reading it shows the
// secret redacted; but an edit could break the secret into pieces redaction no longer finds (a
// space after every few characters), and an edit's "not found" or a search's match would answer
// guesses about it one character at a time. So the fs tools neither change nor search such a file.
import { type KnownSecrets, redactText } from './redact.js';

/** The secrets Errand knows right now. */
export type SecretsNow = () => KnownSecrets;

export const noSecrets: SecretsNow = () => ({ values: [], tokenHashes: new Set() });

/** Shorter secrets are not redacted (tools/runtime.ts), so they are not looked for here either. */
const MIN_SECRET = 8;

/** Does `data` hold a known secret, as redaction would find it in a tool's output? */
export function holdsSecret(data: Buffer, secrets: KnownSecrets): boolean {
  const values = secrets.values.filter((v) => v.length >= MIN_SECRET);
  if (!values.length && !secrets.tokenHashes.size) return false;
  const text = data.toString('utf8');
  return redactText(text, { values, tokenHashes: secrets.tokenHashes }) !== text;
}

/** The sentence for the model: what it cannot do with the file, and who can. */
export const holdsSecretWords = (file: string) =>
  `${file} holds a secret Errand keeps from the model (an API key, signing key or token it knows)`;
