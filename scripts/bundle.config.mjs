// Bundles the compiled CLI and daemon (dist/daemon, dist/shared) into dist/bundle/. Loading a few
// files instead of hundreds of small modules cuts the daemon's cold start by about a third.
// Libraries that are loaded lazily (model SDK, MCP, spreadsheet/PDF readers, push, sandbox,
// QR codes) stay outside the bundle and load from node_modules when first needed.

/**
 * Characters outside ASCII written as \u escapes. V8 keeps a script's source text for as long as the
 * script lives, in two bytes per character if any character needs them: sixty-nine dashes, arrows and
 * box lines made the 2 MB daemon chunk cost 3.9 MB of memory for as long as the daemon runs. And
 * an ASCII chunk is read in one copy (daemon/bin/code-cache.js decodes it as Latin-1, which for
 * ASCII means the same as UTF-8).
 * Only string literals, templates, regular expressions and comments hold such characters, where
 * the escape means the same; a String.raw template would not, so one holding such a character
 * fails the build.
 */
const asciiSource = {
  name: 'ascii-source',
  // After every other step (the final printing of the code would turn escapes back into characters).
  generateBundle(_options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk') continue;
      for (const m of chunk.code.matchAll(/String\.raw`/g)) {
        const end = chunk.code.indexOf('`', m.index + m[0].length);
        if (/[^\u0000-\u007f]/.test(chunk.code.slice(m.index, end)))
          throw new Error(`${chunk.fileName}: a String.raw template holds a character outside ASCII`);
      }
      chunk.code = chunk.code.replace(
        /[^\u0000-\u007f]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
    }
  },
};

const external = [
  /^@anthropic-ai\//,
  /^@modelcontextprotocol\//,
  /^read-excel-file/,
  /^unpdf/,
  /^web-push/,
  /^qrcode-terminal/,
];

/**
 * import() of a library left outside the bundle goes through `__import`, which daemon/bin/code-cache.js
 * passes in: in Node 20 a script compiled from cached code loses its dynamic import callback
 * ("A dynamic import callback was not specified"). Loaded without the cache, plain import() is used.
 */
const importThroughLoader = {
  name: 'import-through-loader',
  generateBundle(_options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk') continue;
      chunk.code = chunk.code.replace(/(?<![\w$.])import\((["'])([^"'\n]+)\1\)/g, (call, _q, specifier) =>
        external.some((re) => re.test(specifier))
          ? `(typeof __import === "function" ? __import : (s) => import(s))(${JSON.stringify(specifier)})`
          : call,
      );
    }
  },
};

/**
 * fastify's server module requires node:http2 at load, which costs ~10 ms of every start (a tenth
 * of what the daemon's own start-up takes) for an HTTP/2 server the daemon never makes. The require
 * is made when fastify first touches a property of it instead.
 */
const lazyHttp2 = {
  name: 'lazy-http2',
  generateBundle(_options, bundle) {
    for (const chunk of Object.values(bundle)) {
      if (chunk.type !== 'chunk') continue;
      chunk.code = chunk.code.replace(
        /\b(const|let|var) (\w+) = require\("node:http2"\);/g,
        '$1 $2 = new Proxy({}, { get: (_, key) => require("node:http2")[key] });',
      );
    }
  },
};

export default {
  plugins: [importThroughLoader, lazyHttp2, asciiSource],
  input: 'dist/daemon/src/cli/main.js',
  platform: 'node',
  external,
  // CommonJS so that daemon/bin/code-cache.js can hand V8 its compiled code (Node 20 caches no ES
  // module's code). Rolldown makes each chunk strict, as the ES module bundle was.
  output: {
    dir: 'dist/bundle',
    format: 'cjs',
    entryFileNames: '[name].cjs',
    chunkFileNames: '[name]-[hash].cjs',
    cleanDir: true,
  },
  logLevel: 'warn',
};
