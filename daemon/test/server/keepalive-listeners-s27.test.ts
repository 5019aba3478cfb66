// Each download on a kept-alive connection added a 'timeout' listener to its socket that was never
// removed (socket.setTimeout(ms, cb) adds one per call): one device could grow the daemon without
// bound on one connection (30,000 downloads kept 43 MB). Past ten listeners Node warns
// (MaxListenersExceededWarning), which is what is watched for here.
import http from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

let td: TestDaemon;
beforeAll(async () => {
  td = await startTestDaemon();
}, 30_000);
afterAll(() => td?.stop());

it('many downloads on one kept-alive connection leave no listener behind', async () => {
  const { token } = await td.pairDevice();
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<unknown>();
  try {
    for (let i = 0; i < 40; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get(new URL('/api/file?task=thr_x.tnone&path=none.txt', td.url), {
          agent,
          headers: { authorization: `Bearer ${token}` },
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
      });
      expect(status).toBe(404);
    }
    // One connection carried them all, and Node's warning (emitted on the next tick) never came.
    expect(sockets.size).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(warnings.filter((w) => w.includes('MaxListenersExceeded'))).toEqual([]);
  } finally {
    process.off('warning', onWarning);
    agent.destroy();
  }
});
