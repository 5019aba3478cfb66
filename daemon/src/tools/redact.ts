// Known secrets never leave in a tool's output (stored, replayed to phones, sent to the model).
// Secrets the daemon holds in clear (API key, push signing key, connector secrets) are matched as
// text; device tokens are stored only as hashes, so every token-shaped window of the output that
// could be a token is hashed and compared with the paired devices' hashes.
import crypto from 'node:crypto';
import type { ToolResultBlock } from '../agent/tool-runtime.js';

export const REDACTED = '[redacted]';

/** A device token: 32 random bytes in base64url (store/devices.ts), so 43 characters. */
const TOKEN_LEN = 43;
/** How many characters of token-shaped runs one text may have hashed (a bound on the work). */
const WINDOW_BUDGET = 2_000_000;

/** 1 for the base64url alphabet (the characters a token is made of). */
const TOKEN_CHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-') TOKEN_CHAR[c.charCodeAt(0)] = 1;
/**
 * 1 for the characters a token can end with: 32 bytes are 256 bits, and the 43rd character holds
 * the last 4 bits followed by two zero bits, so it is one of 16 characters. Windows ending with any
 * other character cannot be a token and are not hashed (3 of 4 windows of random text).
 */
const TOKEN_LAST = new Uint8Array(128);
for (const c of 'AEIMQUYcgkosw048') TOKEN_LAST[c.charCodeAt(0)] = 1;

export interface KnownSecrets {
  /** Secrets in clear (8 characters or more). */
  values: string[];
  /** sha256 (hex) of each paired device's token. */
  tokenHashes: ReadonlySet<string>;
}

const isTokenChar = (c: number) => c < 128 && TOKEN_CHAR[c] === 1;

/** `run` (token characters only) with every window whose hash is a device's replaced. */
function redactTokensIn(run: string, hashes: ReadonlySet<string>): string {
  let out = '';
  let kept = 0;
  for (let i = 0; i + TOKEN_LEN <= run.length; ) {
    const last = run.charCodeAt(i + TOKEN_LEN - 1);
    if (TOKEN_LAST[last] === 1 && hashes.has(crypto.hash('sha256', run.slice(i, i + TOKEN_LEN), 'hex'))) {
      out += run.slice(kept, i) + REDACTED;
      i += TOKEN_LEN;
      kept = i;
    } else i++;
  }
  return out + run.slice(kept);
}

/** Every maximal run of 43 or more token characters, redacted, within the window budget. */
function redactTokens(text: string, hashes: ReadonlySet<string>): string {
  let budget = WINDOW_BUDGET;
  let out = '';
  let kept = 0;
  let start = -1;
  const n = text.length;
  // One pass over the text (cheaper than a regex on prose, where runs are short words).
  for (let i = 0; i <= n; i++) {
    if (i < n && isTokenChar(text.charCodeAt(i))) {
      if (start < 0) start = i;
      continue;
    }
    if (start >= 0 && i - start >= TOKEN_LEN && budget >= i - start) {
      budget -= i - start;
      const run = text.slice(start, i);
      const red = redactTokensIn(run, hashes);
      if (red !== run) {
        out += text.slice(kept, start) + red;
        kept = i;
      }
    }
    start = -1;
  }
  return kept ? out + text.slice(kept) : text;
}

export function redactText(text: string, secrets: KnownSecrets): string {
  let out = text;
  for (const secret of secrets.values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (secrets.tokenHashes.size) out = redactTokens(out, secrets.tokenHashes);
  return out;
}

export function redactBlocks(blocks: ToolResultBlock[], secrets: KnownSecrets): ToolResultBlock[] {
  if (!secrets.values.length && !secrets.tokenHashes.size) return blocks;
  return blocks.map((b) => (b.type === 'text' ? { ...b, text: redactText(b.text, secrets) } : b));
}
