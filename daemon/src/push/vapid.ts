// The daemon's VAPID key pair: made on first start, kept in the home folder (0600). Only the
// public key ever leaves this module's callers (push.key); the private key is never logged or sent.
import fs from 'node:fs';
import { z } from 'zod';
import { StoreCorruptError, writeFileDurably } from '../store/durable-file.js';
import type { Logger } from '../util/log.js';
import { PARSE_ONCE } from '../util/parse-once.js';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

const VapidFile = z.object({
  schema: z.literal(1),
  publicKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .refine((k) => {
      const b = Buffer.from(k, 'base64url');
      return b.length === 65 && b[0] === 4;
    }, 'not a P-256 public key'),
  privateKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .refine((k) => Buffer.from(k, 'base64url').length === 32, 'not a P-256 private key'),
  createdAt: z.number(),
});

/** Read the key pair, or create it when the file does not exist. A damaged file is never replaced. */
export async function loadOrCreateVapidKeys(file: string, log: Logger): Promise<VapidKeys> {
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new StoreCorruptError(file, `cannot be read (${(err as Error).message})`, false);
  }
  if (text !== undefined) {
    let parsed: z.infer<typeof VapidFile>;
    try {
      parsed = VapidFile.parse(JSON.parse(text), PARSE_ONCE);
    } catch {
      // Replacing the keys would silently break every phone's subscription: refuse instead.
      throw new StoreCorruptError(file, 'does not hold a valid VAPID key pair', false);
    }
    const mode = fs.statSync(file).mode & 0o777;
    if (mode & 0o077) {
      fs.chmodSync(file, 0o600);
      log.warn('push keys file was readable by others; set to 0600', { file });
    }
    return { publicKey: parsed.publicKey, privateKey: parsed.privateKey };
  }
  const webpush = (await import('web-push')).default; // only on first start
  const keys = webpush.generateVAPIDKeys();
  const record: z.infer<typeof VapidFile> = {
    schema: 1,
    publicKey: keys.publicKey,
    privateKey: keys.privateKey,
    createdAt: Date.now(),
  };
  await writeFileDurably(file, JSON.stringify(record, null, 2) + '\n', false); // created 0600
  log.info('push keys created', { file });
  return { publicKey: keys.publicKey, privateKey: keys.privateKey };
}
