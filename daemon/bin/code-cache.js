// A compiled-code cache for the bundled daemon (dist/bundle/*.cjs). V8 parses the 2 MB bundle on
// every start unless it is handed the code it made last time; Node 20 keeps no such cache itself
// (module.enableCompileCache came in Node 22). Bundle chunks are compiled here with vm.Script, and
// the code V8 made by the time the daemon is up is kept in dist/bundle/.code-cache/, one file per
// chunk, named by the hash of the chunk's text, the Node version and its flags: a rebuilt chunk never meets
// an old cache (V8 itself checks only the length). A cache V8 still rejects is made anew;
// one that cannot be written (a read-only install) is simply not used.
//
// A chunk is read here too, not by Node's loader: its bytes go straight into a buffer that already
// holds the module wrapper, are hashed as bytes, and become one flat string. Node's loader decoded
// the file to a string, the wrapper made a second (V8 copies a joined string before compiling) and
// the hash a third, in UTF-8 bytes: 6 MB of fresh memory per start for the 2 MB chunk, and fresh
// memory is what a start pays most for on a virtual machine (each new page is a fault).
'use strict';
const { isAscii } = require('node:buffer');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const vm = require('node:vm');

// Node's module wrapper, plus __import for the bundle's import() of the libraries left outside it
// (see scripts/bundle.config.mjs: code from a cache cannot call import() itself in Node 20).
const WRAP_HEAD = Buffer.from('(function (exports, require, module, __filename, __dirname, __import) { ');
const WRAP_TAIL = Buffer.from('\n});');

/** The chunk's text inside the wrapper, as one string, and the hash of its bytes. */
function readChunk(filename) {
  const fd = fs.openSync(filename, 'r');
  let wrapped;
  let size;
  try {
    size = fs.fstatSync(fd).size;
    wrapped = Buffer.allocUnsafe(WRAP_HEAD.length + size + WRAP_TAIL.length);
    WRAP_HEAD.copy(wrapped, 0);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(fd, wrapped, WRAP_HEAD.length + done, size - done, done);
      if (n === 0) break; // shorter than it was a moment ago: what was read
      done += n;
    }
    size = done;
  } finally {
    fs.closeSync(fd);
  }
  WRAP_TAIL.copy(wrapped, WRAP_HEAD.length + size);
  wrapped = wrapped.subarray(0, WRAP_HEAD.length + size + WRAP_TAIL.length);
  const text = wrapped.subarray(WRAP_HEAD.length, WRAP_HEAD.length + size);
  // The build writes chunks in ASCII (scripts/bundle.config.mjs), where Latin-1 reads the same as
  // UTF-8 in one copy; a chunk that is not is decoded as UTF-8.
  const source = wrapped.toString(isAscii(text) ? 'latin1' : 'utf8');
  return { source, hashOf: (runtime) => createHash('sha256').update(runtime).update(text).digest('hex') };
}

const importLibrary = (specifier) => import(specifier);

/** Compiles chunks under `bundleDir` with their cache; returns a function that saves new caches. */
function installCodeCache(bundleDir) {
  const cacheDir = path.join(bundleDir, '.code-cache');
  const unsaved = [];
  const loadJs = Module._extensions['.js'];
  Module._extensions['.js'] = function loadWithCache(module, filename) {
    if (!filename.startsWith(bundleDir + path.sep)) return loadJs.call(this, module, filename);
    const { source, hashOf } = readChunk(filename);
    // V8 flags change the code too (V8 would reject the cache): each set of flags keeps its own.
    const runtime = `${process.version} ${process.arch} ${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}\n`;
    const file = path.join(cacheDir, `${path.basename(filename)}.${hashOf(runtime).slice(0, 32)}.bin`);
    let cachedData;
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      /* not made yet */
    }
    const script = new vm.Script(source, { filename, cachedData });
    if (!cachedData || script.cachedDataRejected) unsaved.push({ script, file });
    const require = (id) => module.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
    require.main = process.mainModule;
    require.cache = Module._cache;
    const wrapper = script.runInThisContext({ displayErrors: true });
    const dir = path.dirname(filename);
    wrapper.call(module.exports, module.exports, require, module, filename, dir, importLibrary);
  };
  /** Writes the caches this process made; returns how many it wrote. */
  return function saveCodeCache() {
    let written = 0;
    for (const { script, file } of unsaved.splice(0)) {
      const temp = `${file}.${process.pid}.tmp`;
      try {
        fs.mkdirSync(cacheDir, { recursive: true });
        fs.writeFileSync(temp, script.createCachedData());
        fs.renameSync(temp, file);
        written++;
      } catch {
        // Not kept (a read-only install, a full disk): the next start compiles as usual.
        try {
          fs.rmSync(temp, { force: true });
        } catch {
          /* nothing was written */
        }
      }
    }
    return written;
  };
}

module.exports = { installCodeCache };
