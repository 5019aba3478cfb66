// What a command asks, as a short hash: its type and fields, without its id. Remembered with the
// reply, it tells a true resend (same fields, the phone's outbox after a lost reply) from an id
// reused for a different command, which must not get the first command's reply as its own.
// Keys are sorted, so the order a client writes them in does not matter; the hash is fed piece by
// piece, so a long message is serialized once and never copied into one big string.
import crypto from 'node:crypto';

type Hash = ReturnType<typeof crypto.createHash>;

export function commandFingerprint(cmd: { id: string; type: string }): string {
  const { id: _id, ...fields } = cmd;
  const hash = crypto.createHash('sha256');
  feed(hash, fields);
  return hash.digest('base64url');
}

/** Canonical JSON of `value` into `hash`: object keys sorted, absent (undefined) fields left out. */
function feed(hash: Hash, value: unknown): void {
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, i) => {
      if (i) hash.update(',');
      feed(hash, item ?? null);
    });
    hash.update(']');
    return;
  }
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((k) => record[k] !== undefined)
      .sort();
    hash.update('{');
    keys.forEach((k, i) => {
      hash.update(`${i ? ',' : ''}${JSON.stringify(k)}:`);
      feed(hash, record[k]);
    });
    hash.update('}');
    return;
  }
  hash.update(JSON.stringify(value) ?? 'null');
}
