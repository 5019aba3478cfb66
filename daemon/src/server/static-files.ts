// Serves the PWA's built files. The folder is listed once at start-up and only those exact files
// are served (no path from a request ever reaches the file system), so there is no traversal to
// guard against; any other GET that is not an API path gets index.html (the app's routes).
// Text assets go out brotli- or gzip-compressed when the browser accepts it, from the copies the
// build wrote beside them (scripts/precompress.mjs): nothing is compressed per request.
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

/** URL path -> file, for every file under `dir` (the URL path is built as the folders are walked). */
function listFiles(dir: string, urlPrefix = '/', out = new Map<string, string>()): Map<string, string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) listFiles(full, `${urlPrefix}${entry.name}/`, out);
    else if (entry.isFile()) out.set(urlPrefix + entry.name, full);
  }
  return out;
}

/** Hashed build assets never change; the page, the service worker and the manifest must always be fresh. */
function cacheControl(urlPath: string): string {
  return urlPath.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
}

const COMPRESSED = /\.(br|gz)$/;

/** The encoding to send: brotli, then gzip, when the browser accepts it and the build made that copy. */
function pickEncoding(
  accept: string | undefined,
  all: Map<string, string>,
  urlPath: string,
): { encoding: 'br' | 'gzip'; file: string } | undefined {
  const accepted = (name: string) =>
    (accept ?? '')
      .toLowerCase()
      .split(',')
      .some((part) => {
        const [token, ...params] = part.trim().split(';');
        return token.trim() === name && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p));
      });
  const br = all.get(`${urlPath}.br`);
  if (br && accepted('br')) return { encoding: 'br', file: br };
  const gz = all.get(`${urlPath}.gz`);
  if (gz && accepted('gzip')) return { encoding: 'gzip', file: gz };
  return undefined;
}

export function serveStatic(app: FastifyInstance, root: string): boolean {
  if (!fs.existsSync(path.join(root, 'index.html'))) return false;
  const all = listFiles(root);
  // The compressed copies are only ever sent in place of their original, never by their own name.
  const files = new Map([...all].filter(([p]) => !COMPRESSED.test(p)));
  const send = async (
    urlPath: string,
    file: string,
    reply: import('fastify').FastifyReply,
    acceptEncoding: string | undefined,
  ) => {
    let compressed = pickEncoding(acceptEncoding, all, urlPath);
    // A copy older than its original (the file was replaced after the build) is stale: send the original.
    if (compressed) {
      const [orig, copy] = await Promise.all([fs.promises.stat(file), fs.promises.stat(compressed.file)]);
      if (copy.mtimeMs < orig.mtimeMs) compressed = undefined;
    }
    const data = await fs.promises.readFile(compressed?.file ?? file);
    reply
      .header('Cache-Control', cacheControl(urlPath))
      .header('Vary', 'Accept-Encoding')
      .type(TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream');
    if (compressed) reply.header('Content-Encoding', compressed.encoding);
    return reply.send(data);
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
    const accept = req.headers['accept-encoding'];
    if (file) return send(urlPath === '/' ? '/index.html' : urlPath, file, reply, accept);
    if (urlPath.startsWith('/api/') || path.extname(urlPath))
      return reply.code(404).send({ error: 'not_found', message: 'No such file or endpoint.' });
    return send('/index.html', files.get('/index.html')!, reply, accept);
  });
  return true;
}
