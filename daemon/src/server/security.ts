// Every HTTP request and every WebSocket upgrade passes here first: Host must be a name the
// daemon answers to, Origin (when sent) must be one of its own origins ("null" never is), and every
// response carries strict security headers.
import type { FastifyInstance } from 'fastify';
import type { OriginPolicy } from './origins.js';

export const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data: blob:",
  "connect-src 'self'", "worker-src 'self'", "manifest-src 'self'", "font-src 'self'",
  "object-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
].join('; ');

export function installSecurity(app: FastifyInstance, policy: () => OriginPolicy): void {
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
    if (!p.hosts.has(host)) {
      return reply.code(403).send({ error: 'bad_host', message: 'This host name is not one Errand answers to. Use the address `errand pair` prints.' });
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !p.origins.includes(origin)) {
      return reply.code(403).send({ error: 'bad_origin', message: 'Requests from other sites are refused.' });
    }
  });
}
