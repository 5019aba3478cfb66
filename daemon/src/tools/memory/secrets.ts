// Memory and the personal instructions never hold a secret Errand knows (the API key, the push
// signing key, a connector's secret, a device token): they are read by every later task and shown
// on every paired phone. A note or a name holding one is refused, whoever writes it (the model or a
// device); a note written beside Errand (an editor on the computer) is shown redacted.
import type { KnownSecrets } from '../redact.js';
import { holdsSecret, redactedText } from '../secret-files.js';

/** Does `text` hold a known secret, in any form redaction finds? */
export const holdsKnownSecret = (text: string, secrets: KnownSecrets): boolean =>
  holdsSecret(Buffer.from(text, 'utf8'), secrets);

/** `text` without the known secrets, for a device. */
export const withoutSecrets = (text: string, secrets: KnownSecrets): string =>
  redactedText(Buffer.from(text, 'utf8'), secrets) ?? text;

/** For the model: why a memory change was not made, and what to do instead. */
export const secretInMemory = (where: 'note' | 'name') =>
  `Refused: this would put a secret Errand knows (an API key, signing key or token) into a memory ${where}, which every later task reads and every paired phone shows. Errand never stores its own secrets in memory: ${where === 'note' ? 'write the note without it' : 'name the note without it'}.`;

/** For a device: why a note or the instructions were not saved, and what to do. */
export const secretNotSaved = (what: string) =>
  `${what} not saved: it holds a secret Errand knows (an API key, signing key or token). Remove the key; Errand never stores its own secrets in notes.`;
