// The fastify app: security checks, health, pairing, uploads and downloads, the WebSocket, and
// the PWA's built files. Built by a function so tests can start it on any port.
import path from 'node:path';
import fastifyWebsocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  MAX_FRAME,
  PairClaimRequest,
  type PairClaimResponse,
  PairPeekRequest,
  type PairPeekResponse,
  PushReceipt,
} from '../../../shared/src/index.js';
import type { FileDownloadHandler, PushReceiptHandler } from '../context.js';
import type { Pairing } from '../pairing/pairing.js';
import type { DeviceRecord, DeviceStore } from '../store/devices.js';
import { DiskFullError } from '../store/journal.js';
import { MAX_UPLOAD_BYTES, type Upload, type UploadStore, UploadTooManyError } from '../store/uploads.js';
import type { Logger } from '../util/log.js';
import { PROJECT_ROOT } from '../util/project-root.js';
import { stripControl } from '../util/text.js';
import { ConnectionGuard, HTTP_SERVER_OPTIONS } from './connection-guard.js';
import type { Gateway } from './gateway.js';
import type { OriginPolicy } from './origins.js';
import type { FailureLimiter } from './rate-limit.js';
import type { RefusalLog } from './refusals.js';
import { RequestSlots, type SlotLimits, UPLOAD_SLOTS } from './request-slots.js';
import { clientErrorHandler, frameworkErrorHandler, installSecurity } from './security.js';
import { serveStatic } from './static-files.js';

export const PWA_DIST = path.join(PROJECT_ROOT, 'pwa', 'dist');

export interface AppOptions {
  version: string;
  hostName: string;
  policy: () => OriginPolicy;
  gateway: Gateway;
  pairing: Pairing;
  devices: DeviceStore;
  uploads: UploadStore;
  limiter: FailureLimiter;
  /** Where refused requests are logged (rate-limited, no secrets). */
  refusals?: RefusalLog;
  log: Logger;
  fileDownload: () => FileDownloadHandler | undefined;
  pushReceipt?: () => PushReceiptHandler | undefined;
  pwaDir?: string;
  /** An upload or download that moves no byte for this long is dropped (default a minute). */
  transferIdleMs?: number;
}

/**
 * The largest JSON body a route takes (uploads have their own limit). Fastify reads and parses a
 * body before the route runs, so before any token or rate limit is checked: a 64 KiB body of nested
 * brackets cost eleven times an ordinary request's CPU. The largest body is a pairing claim, a
 * 64-character code and an 80-character name, under 700 bytes even with the name all escapes.
 * The pairing routes (open to anyone) name it too, so a larger default later does not reach them.
 */
const JSON_BODY_LIMIT = 2 * 1024;

/** Downloads sent at once: each holds an open file and a connection's buffers. */
const DOWNLOAD_SLOTS: SlotLimits = { total: 8, perDevice: 3 };

/**
 * An upload or download that moves no byte for this long is dropped: a phone that lost its network
 * sends no reset, and a client that stops reading a download would otherwise keep its slot (and an
 * open file) until TCP gives up, minutes to hours later.
 */
const TRANSFER_IDLE_MS = 60_000;

/**
 * A stop waits this long for open connections to end, then cuts the rest: a peer that never answers
 * a close, or a socket past its upgrade (Node no longer times those), must not hold a stop up.
 */
const STOP_GRACE_MS = 2_000;

const httpError = (reply: FastifyReply, status: number, error: string, message: string) =>
  reply.code(status).send({ error, message });

const revoked = (reply: FastifyReply) =>
  httpError(reply, 401, 'unauthorized', 'This device was removed on the computer. Pair it again with `errand pair`.');

/**
 * Every route's failures in the documented `{error, message}` shape. A request fastify refuses (a
 * body too large or not valid JSON) says why; anything else is logged and answered `internal`, its
 * message (which may name files on the computer) kept to the log.
 */
function errorHandler(log: Logger) {
  return (err: { statusCode?: number; code?: string; message: string }, req: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      // The route's pattern, not the URL: nothing a client put in a query string reaches the log.
      log.error('request failed', {
        method: req.method,
        route: req.routeOptions.url ?? 'unknown',
        error: stripControl(String(err.message)).slice(0, 500),
      });
      return httpError(reply, 500, 'internal', 'The host hit an internal error; see `errand logs`.');
    }
    if (status === 413 && err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const upload = req.routeOptions.url === '/api/upload';
      return httpError(
        reply,
        413,
        'too_large',
        upload
          ? `Files up to ${MAX_UPLOAD_BYTES / (1024 * 1024)} MiB can be attached; this one is larger.`
          : 'The request body is too large.',
      );
    }
    // fastify's own words for a body it cannot read ("Unsupported Media Type") say nothing of the fix.
    if (status === 415)
      return httpError(
        reply,
        415,
        'bad_request',
        'Send the body as JSON, with the header Content-Type: application/json.',
      );
    return httpError(reply, status, status === 413 ? 'too_large' : 'bad_request', err.message);
  };
}

function noJsonSchemas(): never {
  throw new Error('Errand routes validate requests with zod: give the route no JSON schema');
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: JSON_BODY_LIMIT,
    trustProxy: false,
    return503OnClosing: true,
    forceCloseConnections: true,
    // A request (an upload's body included) must arrive within 5 minutes: a 25 MB file at a slow
    // phone's 1 Mbit/s takes half that. Fastify would otherwise wait for ever.
    requestTimeout: 300_000,
    // The 15 s header deadline, checked often enough to hold (connection-guard.ts).
    http: HTTP_SERVER_OPTIONS,
    frameworkErrors: frameworkErrorHandler(opts.policy),
    clientErrorHandler,
    // Requests are checked with zod (shared/src/protocol) and no route has a JSON schema, so
    // fastify's schema compilers are never used; left to fastify, it loads them (ajv and
    // fast-json-stringify) at every start. A route given a schema fails at start-up, saying why.
    schemaController: { compilersFactory: { buildValidator: noJsonSchemas, buildSerializer: noJsonSchemas } },
  });
  // First, before any route or plugin: fastify fixes a route's error handler when it is declared,
  // so a handler set later would miss every route above it.
  app.setErrorHandler(errorHandler(opts.log));
  installSecurity(app, opts.policy, opts.refusals);
  const transferIdleMs = opts.transferIdleMs ?? TRANSFER_IDLE_MS;
  // One idle timer per transfer, its listener removed when the reply ends: socket.setTimeout(ms, cb)
  // adds a listener each time, and a kept-alive connection carrying thousands of downloads kept
  // them all (with their requests) until it closed.
  const dropWhenIdle = (req: FastifyRequest, reply: FastifyReply) => {
    const socket = req.raw.socket;
    const onIdle = () => socket.destroy();
    socket.setTimeout(transferIdleMs);
    socket.on('timeout', onIdle);
    reply.raw.once('close', () => socket.off('timeout', onIdle));
  };
  const connections = new ConnectionGuard();
  connections.attach(app.server);
  app.addHook('preClose', async () => {
    const cut = setTimeout(() => connections.destroyAll(), STOP_GRACE_MS);
    app.server.once('close', () => clearTimeout(cut));
  });

  // Before any route or scope: fastify copies hooks into a scope when the scope is made, and this
  // plugin's hooks are what answer an upgrade on a route of plain HTTP.
  await app.register(fastifyWebsocket, { options: { maxPayload: MAX_FRAME } });
  // Only GET /ws speaks WebSocket. An upgrade anywhere else is refused before any route runs (no
  // token is checked or counted) and its socket closed: Node has handed it over and no longer times it.
  app.addHook('onRequest', async (req, reply) => {
    if (!req.ws || (req.method === 'GET' && req.routeOptions.url === '/ws')) return;
    reply.raw.once('finish', () => req.raw.socket.destroy());
    reply.header('Connection', 'close');
    return httpError(reply, 400, 'bad_request', 'WebSocket connections are taken at /ws only (GET).');
  });

  /**
   * The device behind an `Authorization: Bearer` header (tokens never travel in URLs), or undefined
   * once the refusal is sent. A valid token always works; only failures are counted, and refused
   * with 429 once the address or everyone is over budget.
   */
  const authDevice = (req: FastifyRequest, reply: FastifyReply): DeviceRecord | undefined => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const token = req.headers.authorization?.match(/^Bearer ([A-Za-z0-9_-]{20,200})$/)?.[1];
    const device = token ? opts.devices.byToken(token) : undefined;
    if (device) {
      connections.vouch(req.socket);
      // Revoking the device cuts this request off, however far along it is.
      opts.gateway.httpRequests.track(device.id, reply.raw);
      return device;
    }
    const over = !opts.limiter.allowed(address);
    opts.limiter.fail(address);
    opts.refusals?.refused(over ? 'rate_limited' : 'auth_failed', { address, path: req.url });
    // A refused upload's body is never read: close the connection rather than drain it.
    reply.header('Connection', 'close');
    if (over) httpError(reply, 429, 'rate_limited', 'Too many failed attempts. Wait a minute and try again.');
    // A token of the right shape that no device has: removed on the computer (or never paired).
    else if (token)
      httpError(
        reply,
        401,
        'unauthorized',
        'This device is not paired with this computer (it may have been removed there). Pair it again with `errand pair`.',
      );
    else httpError(reply, 401, 'unauthorized', 'Send the device token in an Authorization: Bearer header.');
    return undefined;
  };

  app.get('/healthz', async () => ({ ok: true, name: 'errand', version: opts.version }));

  // The pairing screen names the computer before the phone claims: only for the live code, so the
  // name is told to no one but the person holding the code from this computer's screen. As with
  // claim, the live code always works (behind Tailscale Serve everyone shares 127.0.0.1, so others'
  // failures must not hide the name from the owner); only other codes are counted and held back.
  app.post('/api/pair/peek', { bodyLimit: JSON_BODY_LIMIT }, async (req, reply) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const body = PairPeekRequest.safeParse(req.body);
    if (body.success && opts.pairing.isLive(body.data.code))
      return { hostName: opts.hostName } satisfies PairPeekResponse;
    const over = !opts.limiter.allowed(address);
    opts.limiter.fail(address);
    opts.refusals?.refused(over ? 'rate_limited' : 'pair_code_invalid', { address, path: req.url });
    if (over) return httpError(reply, 429, 'rate_limited', 'Too many failed attempts. Wait a minute and try again.');
    return httpError(
      reply,
      404,
      'code_invalid',
      'This pairing code was already used, has expired, or is wrong. Run `errand pair` on your computer for a new QR code.',
    );
  });

  app.post('/api/pair/claim', { bodyLimit: JSON_BODY_LIMIT }, async (req, reply) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    // The live code (192 random bits) always works; only failed attempts are counted and held back.
    const body = PairClaimRequest.safeParse(req.body);
    if (!body.success) {
      opts.limiter.fail(address);
      return httpError(
        reply,
        400,
        'bad_request',
        'Send {"code": "<pairing code>", "name": "<device name, 1-80 characters>"}.',
      );
    }
    // The phone gave up waiting (closed the connection) before the desktop decided: drop the claim.
    // (The request's own 'close' fires as soon as its body is read, so watch the response.)
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const name = stripControl(body.data.name);
    let result: Awaited<ReturnType<typeof opts.pairing.claim>>;
    try {
      result = await opts.pairing.claim(body.data.code, name || 'Phone', address, abort.signal);
    } catch (err) {
      if (!(err instanceof DiskFullError)) throw err;
      return httpError(
        reply,
        503,
        'unavailable',
        `The computer could not save this pairing: ${err.message}. Free some space there, then run \`errand pair\` again.`,
      );
    }
    if (result.ok) {
      opts.log.info('device paired', { device: result.device.id, name: result.device.name });
      return { deviceId: result.device.id, token: result.token, hostName: opts.hostName } satisfies PairClaimResponse;
    }
    if (result.reason === 'code_invalid') {
      const over = !opts.limiter.allowed(address);
      opts.limiter.fail(address);
      opts.refusals?.refused(over ? 'rate_limited' : 'pair_code_invalid', { address, path: req.url });
      if (over) return httpError(reply, 429, 'rate_limited', 'Too many failed attempts. Wait a minute and try again.');
      return httpError(
        reply,
        404,
        'code_invalid',
        'This pairing code was already used, has expired, or is wrong. Run `errand pair` on your computer for a new QR code.',
      );
    }
    if (result.reason === 'denied')
      return httpError(
        reply,
        403,
        'denied',
        'Pairing was declined on the computer. If that was a mistake, run `errand pair` there again for a new code.',
      );
    return httpError(
      reply,
      408,
      'timeout',
      'Nobody approved the pairing on the computer in time. Run `errand pair` again.',
    );
  });

  // Uploads arrive as the raw body, whatever their type: in their own context, where fastify's
  // JSON and text parsers are replaced by one that keeps the bytes.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_UPLOAD_BYTES }, (_req, body, done) =>
      done(null, body),
    );
    // The token is checked from the headers, before any of the body is read, and only a few
    // uploads are read at once (each is held in memory until saved).
    const uploaders = new WeakMap<FastifyRequest, DeviceRecord>();
    const inFlight = new RequestSlots(UPLOAD_SLOTS);
    scope.addHook('onRequest', async (req, reply) => {
      const device = authDevice(req, reply);
      if (!device) return reply;
      if (!inFlight.take(device.id, reply.raw)) {
        reply.header('Connection', 'close');
        return httpError(reply, 429, 'busy', 'Too many uploads at once. Wait for one to finish, then try again.');
      }
      uploaders.set(req, device);
      dropWhenIdle(req, reply);
    });
    scope.post('/api/upload', { bodyLimit: MAX_UPLOAD_BYTES }, async (req, reply) => {
      const device = uploaders.get(req);
      if (!device)
        return httpError(reply, 401, 'unauthorized', 'Send the device token in an Authorization: Bearer header.');
      const data = Buffer.isBuffer(req.body) ? req.body : undefined;
      if (!data || data.length === 0) return httpError(reply, 400, 'bad_request', 'Send the file as the request body.');
      let name = 'file';
      try {
        name = decodeURIComponent(String(req.headers['x-filename'] ?? 'file'));
      } catch {
        /* keep the default */
      }
      // Only a plain type/subtype goes on (it is shown to the model and the phones); anything else is bytes.
      const given = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        .trim()
        .toLowerCase();
      const mediaType = /^[a-z0-9][\w.+-]{0,62}\/[\w.+-]{1,64}$/.test(given) ? given : 'application/octet-stream';
      // The device may have been revoked while its body arrived: nothing is kept for it.
      if (!opts.devices.get(device.id)) return revoked(reply);
      let u: Upload;
      try {
        u = await opts.uploads.save(device.id, name, mediaType, data);
      } catch (err) {
        if (err instanceof UploadTooManyError) return httpError(reply, 429, 'busy', err.message);
        if (err instanceof DiskFullError)
          return httpError(
            reply,
            503,
            'unavailable',
            `The computer could not save this file: ${err.message}. Free some space, then attach it again.`,
          );
        throw err;
      }
      return { id: u.id, name: u.name, size: u.size, mediaType: u.mediaType };
    });
  });

  // Each download holds an open file while it is streamed: only a few run at once.
  const downloads = new RequestSlots(DOWNLOAD_SLOTS);
  // No HEAD: fastify answers one at once (freeing the slot) while the file is still opened and read
  // to its end behind it, so HEADs in a row took every file descriptor the daemon had.
  app.get('/api/file', { exposeHeadRoute: false }, async (req, reply) => {
    const device = authDevice(req, reply);
    if (!device) return reply;
    const q = req.query as Record<string, unknown>;
    const handler = opts.fileDownload();
    if (typeof q.task !== 'string' || typeof q.path !== 'string' || !handler)
      return httpError(
        reply,
        400,
        'bad_request',
        'Name the file: /api/file?task=<task id>&path=<a path the task changed> (the app makes these links).',
      );
    if (!downloads.take(device.id, reply.raw))
      return httpError(reply, 429, 'busy', 'Too many downloads at once. Wait for one to finish, then try again.');
    dropWhenIdle(req, reply);
    const file = await handler(q.task, q.path, { id: device.id, name: device.name });
    if (!file) return httpError(reply, 404, 'not_found', 'That file is not one this task touched, or it is gone.');
    if ('refused' in file) return httpError(reply, 403, 'forbidden', file.refused);
    // The device may have been revoked while the file was opened.
    if (!opts.devices.get(device.id)) {
      file.stream.destroy();
      return revoked(reply);
    }
    reply.header('Content-Disposition', `attachment; filename="${encodeURIComponent(file.name)}"`);
    reply.header('Content-Length', file.size);
    return reply.type(file.mediaType).send(file.stream);
  });

  // A service worker says a push arrived or was tapped. It holds no token: the push id (128 random
  // bits, sent only inside the encrypted push) is the proof. A known id is always taken (the owner
  // always gets in: behind Tailscale Serve every request comes from 127.0.0.1, so failures by anyone
  // else must not lock the phone out); only unknown ids count as failed attempts and are held back.
  app.post('/api/push/receipt', { bodyLimit: 1024 }, async (req, reply) => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const body = PushReceipt.safeParse(req.body);
    const handler = opts.pushReceipt?.();
    if (!body.success || !handler) return httpError(reply, 400, 'bad_request', 'Send {"pushId", "state"}.');
    let known: boolean;
    try {
      // Answered only once the receipt is on disk: the service worker drops it on a 200.
      known = await handler(body.data);
    } catch (err) {
      opts.log.error('could not store a push receipt', { error: (err as Error).message });
      return httpError(
        reply,
        503,
        'unavailable',
        'The computer could not save this receipt (is its disk full?). Keep it and send it again later.',
      );
    }
    if (known) return { ok: true };
    if (!opts.limiter.allowed(address))
      return httpError(reply, 429, 'rate_limited', 'Too many failed attempts. Wait a minute and try again.');
    opts.limiter.fail(address);
    return httpError(reply, 404, 'not_found', 'No such push (it may be too old to be kept); nothing to report for it.');
  });

  app.route({
    method: 'GET',
    url: '/ws',
    // A plain GET (no upgrade) gets the usual error body, saying what the address is for.
    handler: (_req, reply) =>
      httpError(reply, 400, 'bad_request', 'This address takes WebSocket connections only (the app opens one).'),
    wsHandler: (socket, req) => {
      if (req.url !== '/ws') {
        // Tokens never travel in URLs: a query string here is refused outright.
        socket.close(1008, 'no query parameters; authenticate with the first message');
        return;
      }
      connections.handedOver(req.socket);
      opts.gateway.accept(socket, req.socket.remoteAddress ?? 'unknown');
    },
  });

  if (!serveStatic(app, opts.pwaDir ?? PWA_DIST)) {
    app.get('/', async (_req, reply) =>
      reply.type('text/plain').send('The Errand phone app is not built. Run `npm run build` in the project folder.'),
    );
  }

  return app;
}
