// A connector secret a server splits over two adjacent text blocks is redacted all the same, in
// what the model gets and in the step's output (phone, store). A call cancelled while the server
// handles it is recorded as cancelled with its outcome at the server unknown, not as "failed".
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { type ToolsHarness, textOf, toolsHarness } from '../tools/helpers.js';
import { reviewAll } from './review-as-shown.js';
import { until } from './standalone-connectors.js';

const SERVER = path.resolve('daemon/test/connectors/lingering-kids-server.mjs');
const TOKEN = 'tok-Split-9f3c2a71e5d4';

let h: ToolsHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A harness with connector `dev` running the server with TOKEN from secrets.json, its tools reviewed. */
async function withServer(): Promise<{ pids: string }> {
  h = await toolsHarness({ listen: true, config: { connectors: [] } });
  const pids = path.join(h.outside, 'pids');
  await h.tools.connectors.secrets.set({ 'conn.dev.token': TOKEN });
  h.setConfig((raw) => {
    raw.connectors = [
      {
        name: 'dev',
        transport: 'stdio',
        command: process.execPath,
        args: [SERVER, pids],
        env: { TOKEN: 'conn.dev.token' },
        readOnly: true,
      },
    ];
  });
  await until(() => h!.tools.connectors.get('dev')?.status === 'connected', 'connected');
  await reviewAll(h.tools.connectors);
  return { pids };
}

it('a known secret split across two text blocks of one result is redacted for the model and the phone', async () => {
  await withServer();
  const out = await h!.run('dev__lookup', {});
  expect(out.state).toBe('completed');
  const toModel = JSON.stringify(out.content);
  expect(textOf(out)).toContain('token starts [redacted] <- rest');
  for (const half of ['tok-Split', '9f3c2a71e5d4']) {
    expect(toModel).not.toContain(half);
    expect(out.output).not.toContain(half);
  }
  expect(out.output).toContain('[redacted]');
});

it('a call cancelled while the server handles it is recorded as cancelled, its outcome unknown', async () => {
  const { pids } = await withServer();
  const stop = new AbortController();
  const task = h!.task({ signal: stop.signal });
  const running = h!.run('dev__hang', {}, task);
  await until(() => fs.existsSync(pids) && fs.readFileSync(pids, 'utf8').includes('call hang'), 'the server got it');
  stop.abort(new Error('cancel'));
  const out = await running;
  expect(out.state).toBe('error');
  expect(out.output).toMatch(
    /^Cancelled while the dev connector handled hang: whether the server already did it is unknown/,
  );
  expect(out.output).not.toMatch(/failed/);
  expect(out.summary).toMatch(/^Cancelled/);
});

it('a secret split around an image or a link block is redacted too; results without one are left as they are', async () => {
  const { joinSplitSecrets } = await import('../../src/tools/connectors/index.js');
  const image = {
    type: 'image' as const,
    source: { type: 'base64' as const, media_type: 'image/png' as const, data: 'iVBORw0KGgo=' },
  };
  const joined = joinSplitSecrets(
    [{ type: 'text', text: 'token starts tok-Split' }, image, { type: 'text', text: '-9f3c2a71e5d4 <- rest' }],
    [TOKEN],
  );
  expect(joined).toEqual([{ type: 'text', text: 'token starts [redacted] <- rest' }, image]);
  const plain = [{ type: 'text' as const, text: 'a' }, image, { type: 'text' as const, text: 'b' }];
  expect(joinSplitSecrets(plain, [TOKEN])).toBe(plain);
});
