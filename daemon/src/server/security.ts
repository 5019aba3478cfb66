// Every HTTP request and every WebSocket upgrade passes here first: Host must be a name the
// daemon answers to, Origin (when sent) must be one of its own origins ("null" never is), and every
// response carries strict security headers.
import type { FastifyInstance } from 'fastify';
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

export function installSecurity(app: FastifyInstance, policy: () => OriginPolicy, refusals?: RefusalLog): void {
  app.addHook('onRequest', async (req, reply) => {
    reply.header('Content-Security-Policy', CSP);
    reply.header('X-Content-Type-Options', 'nosniff');
    reply.header('X-Frame-Options', 'DENY');
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('Cross-Origin-Opener-Policy', 'same-origin');
    reply.header('Cross-Origin-Resource-Policy', 'same-origin');
    reply.header('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    const p = policy();
    const host = (req.headers.host ?? '').toLowerCase();
    const origin = req.headers.origin;
    const problem = !p.hosts.has(host)
      ? {
          error: 'bad_host',
          message: 'This host name is not one Errand answers to. Use the address `errand pair` prints.',
        }
      : origin !== undefined && !p.origins.includes(origin)
        ? { error: 'bad_origin', message: 'Requests from other sites are refused.' }
        : undefined;
    if (!problem) return;
    refusals?.refused(problem.error as 'bad_host' | 'bad_origin', {
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
        `HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      req.raw.socket.destroySoon();
      return reply;
    }
    return reply.code(403).send(problem);
  });
}
