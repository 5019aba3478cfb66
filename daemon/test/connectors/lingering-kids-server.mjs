// A raw JSON-RPC stdio MCP server that starts processes of its own, chosen by environment:
// KIDS=1 starts `sleep` twice (one in a new session, one a plain child); HOLDER=1 starts a detached
// `sleep` that holds this server's stdout; IGNORE_EOF=1 makes it ignore stdin's end and SIGTERM.
// PIDFILE (or the first argument) gets "server <pid>", "cwd <folder>" and "kid <pid>" lines. Tools: lookup (answers, with TOKEN split over
// two text blocks when set), die (exits 3 at once), hang (never answers).
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const pidfile = process.env.PIDFILE ?? process.argv[2];
const note = (line) => pidfile && fs.appendFileSync(pidfile, `${line}\n`);
const send = (m) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`);
note(`server ${process.pid}`);
note(`cwd ${process.cwd()}`);
const secs = process.env.SLEEP_SECS ?? '307';
if (process.env.KIDS) {
  const a = spawn('sleep', [secs], { stdio: 'ignore', detached: true });
  const b = spawn('sleep', [secs], { stdio: 'ignore' });
  a.unref();
  b.unref();
  note(`kid ${a.pid}`);
  note(`kid ${b.pid}`);
}
if (process.env.HOLDER) {
  const h = spawn('sleep', [secs], { stdio: ['ignore', 'inherit', 'ignore'], detached: true });
  h.unref();
  note(`kid ${h.pid}`);
}
if (process.env.IGNORE_EOF) {
  process.on('SIGTERM', () => undefined);
  setInterval(() => undefined, 1000);
}
const tool = (name) => ({ name, description: `The ${name} tool.`, inputSchema: { type: 'object', properties: {} } });
let buf = '';
process.stdin.on('data', (c) => {
  buf += c;
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line.trim()) handle(JSON.parse(line));
  }
});
function handle(m) {
  if (m.method === 'initialize')
    return send({
      id: m.id,
      result: {
        protocolVersion: m.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: 'kids', version: '1' },
      },
    });
  if (m.method === 'tools/list')
    return send({ id: m.id, result: { tools: [tool('lookup'), tool('die'), tool('hang')] } });
  if (m.method === 'tools/call') {
    note(`call ${m.params.name}`);
    if (m.params.name === 'die') process.exit(3);
    if (m.params.name === 'hang') return;
    const t = process.env.TOKEN ?? '';
    const content = t
      ? [
          { type: 'text', text: `token starts ${t.slice(0, 9)}` },
          { type: 'text', text: `${t.slice(9)} <- rest` },
        ]
      : [{ type: 'text', text: 'looked up' }];
    return send({ id: m.id, result: { content } });
  }
  if (m.id !== undefined) send({ id: m.id, result: {} });
}
