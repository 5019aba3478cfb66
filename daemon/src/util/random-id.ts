// Random ids (threads, tasks, items, runs) from a pool of bytes of the system's CSPRNG: each
// crypto.randomBytes call costs ~20-40 µs here (a trip through OpenSSL), several per task; one
// 4 KB draw serves hundreds of ids. Secrets (device tokens, keys) still draw their own bytes.
import crypto from 'node:crypto';

const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let used = 0;

/** `bytes` random bytes (at most the pool's size) as base64url. */
export function randomId(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = crypto.randomBytes(POOL_BYTES);
    used = 0;
  }
  const out = pool.toString('base64url', used, used + bytes);
  // Never handed out twice.
  pool.fill(0, used, used + bytes);
  used += bytes;
  return out;
}
