// Serves the PWA's built files. The folder is listed once at start-up and only those exact files
// are served (no path from a request ever reaches the file system), so there is no traversal to
// guard against; any other GET that is not an API path gets index.html (the app's routes).
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

function listFiles(root: string, dir = root, out = new Map<string, string>()): Map<string, string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) listFiles(root, full, out);
    else if (entry.isFile()) out.set('/' + path.relative(root, full).split(path.sep).join('/'), full);
  }
  return out;
}

/** Hashed build assets never change; the page, the service worker and the manifest must always be fresh. */
function cacheControl(urlPath: string): string {
  return urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

export function serveStatic(app: FastifyInstance, root: string): boolean {
  if (!fs.existsSync(path.join(root, 'index.html'))) return false;
  const files = listFiles(root);
  const send = async (urlPath: string, file: string, reply: import('fastify').FastifyReply) => {
    const data = await fs.promises.readFile(file);
    return reply
      .header('Cache-Control', cacheControl(urlPath))
      .type(TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream')
      .send(data);
  };
  app.setNotFoundHandler(async (req, reply) => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(req.url.split('?')[0]);
    } catch {
      return reply.code(400).send({ error: 'bad_request', message: 'Malformed URL.' });
    }
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return reply.code(404).send({ error: 'not_found', message: 'No such endpoint.' });
    const file = files.get(urlPath === '/' ? '/index.html' : urlPath);
    if (file) return send(urlPath, file, reply);
    if (urlPath.startsWith('/api/') || path.extname(urlPath))
      return reply.code(404).send({ error: 'not_found', message: 'No such file or endpoint.' });
    return send('/index.html', files.get('/index.html')!, reply);
  });
  return true;
}
