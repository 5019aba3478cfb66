// Runs the real daemon (compiled, in dist/) in a child process that a test kills with SIGKILL or stops
// with SIGTERM. Pushes go to the test's push service over the real https transport. Fault hooks, each
// switched on by a flag file the test creates (so they hit only the write the test means):
//   SLOW_PUSH_WRITE_FLAG: while it exists, replacing push.json waits 1.5 s first (a slow disk);
//   FAIL_PUSH_WRITE_FLAG: the next write of push.json fails with ENOSPC (the flag is removed).
// Prints one line, `READY {"url", "tokens"}`, once it listens (tokens of the PAIR devices it paired).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { startDaemon } from '../../src/daemon.js';
import { httpsTransport } from '../../src/push/transport.js';

const env = process.env;
const isPushJson = (p: unknown) => typeof p === 'string' && path.basename(p) === 'push.json';
const isPushJsonTemp = (p: unknown) => typeof p === 'string' && path.basename(p).startsWith('.push.json.');

const rename = fsp.rename;
fsp.rename = async (from, to) => {
  if (env.SLOW_PUSH_WRITE_FLAG && isPushJson(to) && fs.existsSync(env.SLOW_PUSH_WRITE_FLAG))
    await new Promise((r) => setTimeout(r, 1500));
  return rename(from, to);
};
const open = fsp.open;
fsp.open = (async (
  file: fs.PathLike,
  ...rest: Parameters<typeof fsp.open> extends [unknown, ...infer R] ? R : never
) => {
  const flag = env.FAIL_PUSH_WRITE_FLAG;
  if (flag && isPushJsonTemp(file) && fs.existsSync(flag)) {
    fs.rmSync(flag, { force: true });
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
  }
  return open(file, ...rest);
}) as typeof fsp.open;

const d = await startDaemon({
  home: env.HOME_DIR!,
  env: {
    ANTHROPIC_BASE_URL: env.MODEL_URL ?? '',
    ANTHROPIC_API_KEY: 'sk-test-key',
    ERRAND_MODEL: 'claude-sonnet-4-6',
  },
  overrides: { port: Number(env.PORT) },
  push: {
    transport: httpsTransport({
      connectTo: { host: '127.0.0.1', port: Number(env.PUSH_PORT) },
      ca: env.PUSH_CA!,
      timeoutMs: Number(env.PUSH_TIMEOUT ?? 5000),
    }),
    ...(env.PUSH_RETRY ? { retry: JSON.parse(env.PUSH_RETRY) } : {}),
  },
});
const tokens: unknown[] = [];
for (let i = 0; i < Number(env.PAIR ?? 0); i++) {
  const { code } = d.pairing.mint();
  d.pairing.events.once('claim', (c: { id: string }) => d.pairing.decide(c.id, true));
  const res = await fetch(`${d.url}/api/pair/claim`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code, name: `Phone ${i}` }),
  });
  tokens.push(await res.json());
}
process.on('SIGTERM', () => {
  void d.stop('sigterm').then(() => process.exit(0));
});
process.stdout.write(`READY ${JSON.stringify({ url: d.url, tokens })}\n`);
