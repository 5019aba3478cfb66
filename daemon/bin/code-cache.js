// A compiled-code cache for the bundled daemon (dist/bundle/*.cjs). V8 parses the 2 MB bundle on
// every start unless it is handed the code it made last time; Node 20 keeps no such cache itself
// (module.enableCompileCache came in Node 22). Bundle chunks are compiled here with vm.Script, and
// the code V8 made by the time the daemon is up is kept in dist/bundle/.code-cache/, one file per
// chunk, named by the hash of the chunk's text, the Node version and its flags: a rebuilt chunk never meets
// an old cache (V8 itself checks only the length). A cache V8 still rejects is made anew;
// one that cannot be written (a read-only install) is simply not used.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

const importLibrary = (specifier) => import(specifier);

/** Compiles chunks under `bundleDir` with their cache; returns a function that saves new caches. */
export function installCodeCache(bundleDir) {
  const cacheDir = path.join(bundleDir, '.code-cache');
  const unsaved = [];
  const compile = Module.prototype._compile;
  Module.prototype._compile = function compileWithCache(content, filename) {
    if (!filename.startsWith(bundleDir + path.sep)) return compile.call(this, content, filename);
    // V8 flags change the code too (V8 would reject the cache): each set of flags keeps its own.
    const runtime = `${process.version} ${process.arch} ${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}\n`;
    const key = createHash('sha256').update(runtime).update(content).digest('hex');
    const file = path.join(cacheDir, `${path.basename(filename)}.${key.slice(0, 32)}.bin`);
    let cachedData;
    try {
      cachedData = fs.readFileSync(file);
    } catch {
      /* not made yet */
    }
    // Node's module wrapper, plus __import for the bundle's import() of the libraries left outside it
    // (see scripts/bundle.config.mjs: code from a cache cannot call import() itself in Node 20).
    const source = `(function (exports, require, module, __filename, __dirname, __import) { ${content}\n});`;
    const script = new vm.Script(source, { filename, cachedData });
    if (!cachedData || script.cachedDataRejected) unsaved.push({ script, file });
    const require = (id) => this.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, this, false, options);
    require.main = process.mainModule;
    require.cache = Module._cache;
    const wrapper = script.runInThisContext({ displayErrors: true });
    const dir = path.dirname(filename);
    return wrapper.call(this.exports, this.exports, require, this, filename, dir, importLibrary);
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
