// Bundles the compiled CLI and daemon (dist/daemon, dist/shared) into dist/bundle/. Loading a few
// files instead of hundreds of small modules cuts the daemon's cold start by about a third.
// Libraries that are loaded lazily (model SDK, MCP, spreadsheet/PDF readers, push, sandbox,
// QR codes) stay outside the bundle and load from node_modules when first needed.
export default {
  input: 'dist/daemon/src/cli/main.js',
  platform: 'node',
  external: [
    /^@anthropic-ai\//,
    /^@modelcontextprotocol\//,
    /^read-excel-file/,
    /^unpdf/,
    /^web-push/,
    /^qrcode-terminal/,
  ],
  output: { dir: 'dist/bundle', format: 'esm', cleanDir: true },
  logLevel: 'warn',
};
