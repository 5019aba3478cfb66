// A stand-in push service for tests: a local https server with a self-signed certificate for the
// real push service host names, so the daemon's real https transport (pointed at it with
// connectTo + ca) checks TLS against "fcm.googleapis.com" as it would in production. Also: a
// browser-like subscriber (ECDH key + auth secret) that decrypts what arrives, and a VAPID check.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import ece from 'http_ece';
import { type HttpsTransport, httpsTransport } from '../../src/push/transport.js';

export const PUSH_HOSTS = [
  'fcm.googleapis.com',
  'web.push.apple.com',
  'updates.push.services.mozilla.com',
  'wns2-by3p.notify.windows.com',
];

export interface Subscriber {
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } };
  ecdh: crypto.ECDH;
  auth: Buffer;
}

/** What a browser makes when it subscribes: a P-256 key pair and a 16-byte auth secret. */
export function makeSubscriber(
  endpoint = `https://fcm.googleapis.com/fcm/send/${crypto.randomBytes(8).toString('hex')}`,
): Subscriber {
  const ecdh = crypto.createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = crypto.randomBytes(16);
  return {
    ecdh,
    auth,
    subscription: {
      endpoint,
      keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
    },
  };
}

export interface ReceivedPush {
  host: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  at: number;
}

/**
 * `drop: true` cuts the connection without an answer (a network failure); `hold: true` never answers
 * (a push service that hangs: the request stays open until the sender gives up or the service closes).
 */
export type Responder = (req: ReceivedPush) => {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  drop?: boolean;
  hold?: boolean;
};

/** Made once per process; the files are read into memory and removed at once (nothing left in /tmp). */
let made: { key: string; cert: string } | undefined;
/** A certificate for the push hosts (fcm.googleapis.com and the others), made once per process. */
export function certificate(): { key: string; cert: string } {
  if (!made) {
    const certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-push-cert-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        path.join(certDir, 'key.pem'),
        '-out',
        path.join(certDir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=fcm.googleapis.com',
        '-addext',
        `subjectAltName=${PUSH_HOSTS.map((h) => `DNS:${h}`).join(',')}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      made = {
        key: fs.readFileSync(path.join(certDir, 'key.pem'), 'utf8'),
        cert: fs.readFileSync(path.join(certDir, 'cert.pem'), 'utf8'),
      };
    } finally {
      fs.rmSync(certDir, { recursive: true, force: true });
    }
  }
  return made;
}

export class FakePushService {
  readonly received: ReceivedPush[] = [];
  respond: Responder = () => ({ status: 201 });
  private waiters: Array<{ n: number; resolve: () => void }> = [];
  private transports: HttpsTransport[] = [];

  private constructor(
    private readonly server: https.Server,
    readonly port: number,
    readonly cert: string,
  ) {}

  static async start(): Promise<FakePushService> {
    const { key, cert } = certificate();
    let svc: FakePushService | undefined;
    const server = https.createServer({ key, cert }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const got: ReceivedPush = {
          host: req.headers.host ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks),
          at: performance.now(),
        };
        svc!.received.push(got);
        const answer = svc!.respond(got);
        if (answer.drop) {
          req.socket.destroy();
          return;
        }
        if (answer.hold) {
          svc!.waiters = svc!.waiters.filter((w) => (svc!.received.length >= w.n ? (w.resolve(), false) : true));
          return;
        }
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body ?? '');
        svc!.waiters = svc!.waiters.filter((w) => (svc!.received.length >= w.n ? (w.resolve(), false) : true));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    svc = new FakePushService(server, (server.address() as { port: number }).port, cert);
    return svc;
  }

  /** The daemon's real https transport, connecting here instead of to the real push service. */
  transport(): HttpsTransport {
    const t = httpsTransport({ connectTo: { host: '127.0.0.1', port: this.port }, ca: this.cert, timeoutMs: 5000 });
    this.transports.push(t);
    return t;
  }

  /** Wait until `n` requests in all have arrived. */
  waitFor(n: number, timeoutMs = 5000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`push service got ${this.received.length} of ${n} requests`)),
        timeoutMs,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    for (const t of this.transports) t.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Decrypt an aes128gcm push body as the subscriber's browser would, and parse the JSON inside. */
export function decryptPush(push: ReceivedPush, sub: Subscriber): Record<string, unknown> {
  const plain = ece.decrypt(push.body, { version: 'aes128gcm', privateKey: sub.ecdh, authSecret: sub.auth });
  return JSON.parse(plain.toString('utf8')) as Record<string, unknown>;
}

/**
 * Check the VAPID Authorization header as a push service does: `vapid t=<jwt>, k=<key>`, an ES256
 * JWT signed by that key, aud = the endpoint's origin, exp in the future (≤ 24 h), sub = subject.
 */
export function verifyVapid(
  authorization: string | undefined,
  endpoint: string,
  expected: { subject: string; publicKey: string },
): { aud: string; exp: number; sub: string } {
  const m = /^vapid t=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+), k=([A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!m) throw new Error(`not a VAPID authorization header: ${authorization}`);
  const [, jwt, k] = m;
  if (k !== expected.publicKey) throw new Error("VAPID key is not the daemon's public key");
  const [h, p, s] = jwt.split('.');
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string };
  if (header.alg !== 'ES256') throw new Error(`JWT alg ${header.alg}`);
  const raw = Buffer.from(k, 'base64url');
  const key = crypto.createPublicKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: raw.subarray(1, 33).toString('base64url'),
      y: raw.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
  const ok = crypto.verify(
    'sha256',
    Buffer.from(`${h}.${p}`),
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s, 'base64url'),
  );
  if (!ok) throw new Error('VAPID JWT signature does not verify');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as { aud: string; exp: number; sub: string };
  if (claims.aud !== new URL(endpoint).origin)
    throw new Error(`JWT aud ${claims.aud} is not ${new URL(endpoint).origin}`);
  const now = Math.floor(Date.now() / 1000);
  if (!(claims.exp > now && claims.exp <= now + 24 * 3600))
    throw new Error(`JWT exp ${claims.exp} is not within the next 24 h`);
  if (claims.sub !== expected.subject) throw new Error(`JWT sub ${claims.sub} is not ${expected.subject}`);
  return claims;
}

/** Post a receipt as the service worker does (same-origin fetch, so Origin is the daemon's own). */
export async function postReceipt(
  baseUrl: string,
  body: Record<string, unknown>,
  origin: string = baseUrl,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${baseUrl}/api/push/receipt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
