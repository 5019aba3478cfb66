// Known secrets never leave in a tool's output (stored, replayed to phones, sent to the model).
// Secrets the daemon holds in clear (API key, push signing key, connector secrets) are matched as
// text; device tokens are stored only as hashes, so every token-shaped run in the output is hashed
// and compared with the paired devices' hashes.
import type { ToolResultBlock } from '../agent/tool-runtime.js';
import { sha256 } from './util.js';

export const REDACTED = '[redacted]';

/** A device token: 32 random bytes in base64url (store/devices.ts). */
const TOKEN_LEN = 43;
const TOKEN_RUN = /[A-Za-z0-9_-]{43,}/g;
/** How many characters of token-shaped runs one text may have hashed (a bound on the work). */
const WINDOW_BUDGET = 2_000_000;

export interface KnownSecrets {
  /** Secrets in clear (8 characters or more). */
  values: string[];
  /** sha256 (hex) of each paired device's token. */
  tokenHashes: ReadonlySet<string>;
}

function redactTokensIn(run: string, hashes: ReadonlySet<string>, budget: { left: number }): string {
  if (budget.left < run.length) return run;
  budget.left -= run.length;
  let out = '';
  let kept = 0;
  for (let i = 0; i + TOKEN_LEN <= run.length; ) {
    if (hashes.has(sha256(run.slice(i, i + TOKEN_LEN)))) {
      out += run.slice(kept, i) + REDACTED;
      i += TOKEN_LEN;
      kept = i;
    } else i++;
  }
  return out + run.slice(kept);
}

export function redactText(text: string, secrets: KnownSecrets): string {
  let out = text;
  for (const secret of secrets.values) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  if (secrets.tokenHashes.size) {
    const budget = { left: WINDOW_BUDGET };
    out = out.replace(TOKEN_RUN, (run) => redactTokensIn(run, secrets.tokenHashes, budget));
  }
  return out;
}

export function redactBlocks(blocks: ToolResultBlock[], secrets: KnownSecrets): ToolResultBlock[] {
  if (!secrets.values.length && !secrets.tokenHashes.size) return blocks;
  return blocks.map((b) => (b.type === 'text' ? { ...b, text: redactText(b.text, secrets) } : b));
}
