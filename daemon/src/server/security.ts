// Every HTTP request and every WebSocket upgrade passes here first: Host must be a name the
// daemon answers to, Origin (when sent) must be one of its own origins ("null" never is), and every
// response carries strict security headers.
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OriginPolicy } from './origins.js';
import type { RefusalLog } from './refusals.js';

export const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "manifest-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  // What the daemon answers is private (a task's files, the token at pairing): no cache keeps it.
  // Static files replace this with their own (static-files.ts).
  'Cache-Control': 'no-store',
};

/** The security headers as raw HTTP lines, for answers written straight to a socket. */
const headerLines = () =>
  Object.entries(SECURITY_HEADERS)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');

type Problem = { error: 'bad_host' | 'bad_origin'; message: string };

function problemWith(p: OriginPolicy, host: string, origin: string | undefined): Problem | undefined {
  if (!p.hosts.has(host))
    return {
      error: 'bad_host',
      message: 'This host name is not one Errand answers to. Use the address `errand pair` prints.',
    };
  if (origin !== undefined && !p.origins.includes(origin))
    return {
      error: 'bad_origin',
      message: 'Requests from other sites are refused. Open Errand at its own address (the one `errand pair` prints).',
    };
  return undefined;
}

/**
 * For requests fastify answers before any hook runs (a URL it cannot decode): the same headers
 * and the same Host and Origin check, and the URL is not echoed back.
 */
export function frameworkErrorHandler(policy: () => OriginPolicy) {
  return (_err: Error, req: FastifyRequest, reply: FastifyReply) => {
    reply.headers(SECURITY_HEADERS);
    const problem = problemWith(policy(), (req.headers.host ?? '').toLowerCase(), req.headers.origin);
    if (problem) return reply.code(403).send(problem);
    return reply.code(400).send({ error: 'bad_request', message: 'The request URL could not be read.' });
  };
}

/** For requests Node cannot parse at all (headers too large, malformed HTTP): a plain refusal with the headers. */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, text, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request Header Fields Too Large', 'The request headers are too large.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'Request Timeout', 'The request took too long to arrive.']
        : [400, 'Bad Request', 'The request could not be read.'];
  const body = JSON.stringify({ error: 'bad_request', message });
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: application/json\r\n${headerLines()}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function installSecurity(app: FastifyInstance, policy: () => OriginPolicy, refusals?: RefusalLog): void {
  app.addHook('onRequest', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    const host = (req.headers.host ?? '').toLowerCase();
    const origin = req.headers.origin;
    const problem = problemWith(policy(), host, origin);
    if (!problem) return;
    refusals?.refused(problem.error, {
      address: req.socket.remoteAddress,
      host,
      origin,
      path: req.url,
    });
    if (req.headers.upgrade) {
      // Refuse the WebSocket upgrade on the raw socket and drop it, so nothing half-open lingers.
      reply.hijack();
      const body = JSON.stringify(problem);
      req.raw.socket.end(
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\n${headerLines()}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      req.raw.socket.destroySoon();
      return reply;
    }
    return reply.code(403).send(problem);
  });
}
