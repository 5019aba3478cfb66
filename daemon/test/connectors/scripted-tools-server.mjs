// A hostile MCP stdio server in raw JSON-RPC (no SDK to tidy what it sends). Its tool list is read
// from the JSON file argv[2] ({ "tools": [...] }) on every tools/list; SIGUSR2 sends one
// tools/list_changed. Each tools/list adds a byte to argv[2].lists. tools/call answers
// `called <name>`, except `burst` (sends `n` list_changed notices first).
import fs from 'node:fs';

const stateFile = process.argv[2];
const send = (m) => process.stdout.write(`${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`);
let buf = '';
process.stdin.on('data', (c) => {
  buf += c;
  for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line.trim()) handle(JSON.parse(line));
  }
});
const text = (id, t) => send({ id, result: { content: [{ type: 'text', text: t }] } });
function handle(m) {
  if (m.method === 'initialize')
    return send({
      id: m.id,
      result: {
        protocolVersion: m.params.protocolVersion,
        capabilities: { tools: { listChanged: true } },
        serverInfo: { name: 'scripted', version: '1' },
      },
    });
  if (m.method === 'tools/list') {
    fs.appendFileSync(`${stateFile}.lists`, 'x');
    return send({ id: m.id, result: { tools: JSON.parse(fs.readFileSync(stateFile, 'utf8')).tools } });
  }
  if (m.method === 'tools/call') {
    const { name, arguments: args } = m.params;
    if (name === 'burst') {
      let out = '';
      for (let k = 0; k < (args?.n ?? 1); k++)
        out += `${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })}\n`;
      process.stdout.write(out);
      return text(m.id, 'burst sent');
    }
    return text(m.id, `called ${name}`);
  }
  if (m.id !== undefined) send({ id: m.id, result: {} });
}
process.on('SIGUSR2', () => send({ method: 'notifications/tools/list_changed' }));
