// A separate process running the agent module on a home folder (real store, real SDK, the test
// tools), driven over stdin/stdout with JSON lines, so a test can kill -9 it mid-task and start
// another on the same home. Compiled by `npm run build` to dist/daemon/test/agent/agent-host.js.
//   env AGENT_HOME, AGENT_MODEL_URL, AGENT_CONFIG (JSON, optional)
//   stdin  {"type": "thread.create", …}   stdout {"ready": true} then {"reply": …} / {"error": …}
import readline from 'node:readline';
import { startHarness } from './harness.js';

const h = await startHarness({
  home: process.env.AGENT_HOME!,
  modelUrl: process.env.AGENT_MODEL_URL!,
  config: process.env.AGENT_CONFIG ? JSON.parse(process.env.AGENT_CONFIG) : undefined,
});
const out = (v: unknown) => process.stdout.write(JSON.stringify(v) + '\n');
process.on('SIGTERM', () => {
  void h.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const { type, ...body } = JSON.parse(line) as { type: string };
  h.send(type as never, body as never).then(
    (reply) => out({ reply }),
    (err: Error) => out({ error: err.message }),
  );
});
out({ ready: true });
