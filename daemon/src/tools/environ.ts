// Secrets leave the daemon's environment once read. A command run without the sandbox runs as the
// same user and can read /proc/<daemon pid>/environ, which shows the environment the process was
// started with, whatever process.env says later: so the secret bytes are also blanked in that
// original block (a process may write its own /proc/self/mem). Connectors get their secrets
// explicitly from secrets.json; children get a scrubbed environment.
import fs from 'node:fs';

/** Names of variables that hold secrets (API keys, tokens, passwords, credentials, agent sockets). */
export const SECRET_ENV_NAME = /key|token|secret|passw|credential|auth|cookie|private/i;

/** The environment block's start and end in this process's memory (fields 50 and 51 of /proc/self/stat). */
function environBlock(): { start: number; end: number } | undefined {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const start = Number(fields[50 - 3]);
    const end = Number(fields[51 - 3]);
    return Number.isSafeInteger(start) && end > start ? { start, end } : undefined;
  } catch {
    return undefined;
  }
}

/** Overwrite `NAME=value` entries of the original environment block with zero bytes. */
function blankOriginal(names: Set<string>): boolean {
  const block = environBlock();
  if (!block || names.size === 0) return names.size === 0;
  let fd: number | undefined;
  try {
    fd = fs.openSync('/proc/self/mem', 'r+');
    const buf = Buffer.alloc(block.end - block.start);
    fs.readSync(fd, buf, 0, buf.length, block.start);
    let ok = true;
    for (let at = 0; at < buf.length; ) {
      let end = buf.indexOf(0, at);
      if (end < 0) end = buf.length;
      const entry = buf.subarray(at, end).toString('latin1');
      const name = entry.slice(0, entry.indexOf('='));
      if (names.has(name)) {
        const zeros = Buffer.alloc(end - at);
        if (fs.writeSync(fd, zeros, 0, zeros.length, block.start + at) !== zeros.length) ok = false;
      }
      at = end + 1;
    }
    return ok;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/**
 * Take the secrets out of this process's environment: returns a copy of the whole environment
 * (secrets included, for the configuration to read) and removes every secret variable from
 * process.env and from the original block. `blanked` is false when the original block could not be
 * cleared (not Linux, or /proc/self/mem not writable).
 */
export function takeSecretsFromEnvironment(env: NodeJS.ProcessEnv = process.env): {
  env: Record<string, string>;
  removed: string[];
  blanked: boolean;
} {
  const copy: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) copy[k] = v;
  const removed = Object.keys(copy).filter((k) => SECRET_ENV_NAME.test(k));
  for (const k of removed) delete env[k];
  const blanked = process.platform === 'linux' ? blankOriginal(new Set(removed)) : removed.length === 0;
  return { env: copy, removed, blanked };
}
