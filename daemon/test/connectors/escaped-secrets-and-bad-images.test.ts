// A careless MCP server (leaky-server.mjs, over stdio) against the real daemon and a scripted API
// that refuses an image whose bytes are not its media type, as the real one does:
// - secrets with a quote, a backslash or a space, printed JSON-escaped (server-everything's
//   get-env), URL-encoded, in structured content or on stderr, reach neither the model nor the
//   phone nor the store, as plain ones do not;
// - an "image/png" that is text (from the connector, or a file named .png) is left out with a note,
//   so neither that task nor the thread's next one fails.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { HostStatus } from '../../../shared/src/index.js';
import { ConnectorConfig } from '../../src/config/schema.js';
import { controlCall } from '../../src/control/client.js';
import { sniffImage } from '../../src/util/image-bytes.js';
import { startTestDaemon, type TestDaemon, tempHome } from '../helpers/daemon.js';
import { type ModelServer, type RecordedRequest, type ScriptReply, startModelServer } from '../helpers/model-server.js';
import type { WsTestClient } from '../helpers/ws-client.js';
import { standaloneConnectors, until } from './standalone-connectors.js';

const LEAKY = path.resolve('daemon/test/connectors/leaky-server.mjs');
// Every form of it still holds "p4ss": the test looks for that.
const PASSWORD = 'Xq7"p4ss\\w0rd/Zr8 é!';
const TOKEN = 'ghp_LeakyToken0123456789abcdef';
const SECRETS = { 'conn.leaky.db': PASSWORD, 'conn.leaky.gh': TOKEN };
const CONNECTOR = {
  name: 'leaky',
  transport: 'stdio',
  command: process.execPath,
  args: [LEAKY],
  env: { DB_PASSWORD: 'conn.leaky.db', GITHUB_TOKEN: 'conn.leaky.gh' },
  readOnly: true,
};

let model: ModelServer | undefined;
let td: TestDaemon | undefined;
let home: string | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await td?.stop();
  await model?.close();
  await cleanup?.();
  if (home) fs.rmSync(home, { recursive: true, force: true });
  td = model = home = cleanup = undefined;
});

/** Why the real API would refuse this request's images (bytes not of their media type), if it would. */
function badImage(body: RecordedRequest['body']): string | undefined {
  for (const m of body?.messages ?? [])
    for (const b of Array.isArray(m.content) ? m.content : [])
      for (const x of [b, ...(Array.isArray(b.content) ? b.content : [])])
        if (x?.type === 'image' && sniffImage(Buffer.from(x.source.data, 'base64')) !== x.source.media_type)
          return 'messages.1.content.0.content.1.image.source.base64.data: Could not process image';
  return undefined;
}

/** The scripted API: refuses bad images with a 400, else answers from `queue` (then "ok"). */
async function refusingModel(queue: ScriptReply[]): Promise<ModelServer> {
  return startModelServer((req) => {
    const bad = badImage(req.body);
    if (bad) return { kind: 'status', status: 400, errorType: 'invalid_request_error', message: bad };
    return queue.shift() ?? { content: [{ type: 'text', text: 'ok' }] };
  });
}

/** A daemon with the leaky connector connected and its tools accepted as shown, and a paired phone. */
async function daemonWithLeaky(m: ModelServer): Promise<{ td: TestDaemon; phone: WsTestClient }> {
  home = tempHome('errand-leaky-');
  fs.writeFileSync(path.join(home, 'secrets.json'), JSON.stringify(SECRETS), { mode: 0o600 });
  td = await startTestDaemon({
    home,
    config: {
      shell: { sandbox: 'off' },
      anthropic: { apiKey: 'sk-test-key', baseUrl: m.url, model: 'claude-sonnet-4-6' },
      connectors: [CONNECTOR],
    },
  });
  const socket = path.join(td.home, 'control.sock');
  const phone = await td.connect();
  const leaky = async () =>
    (await phone.send<HostStatus>({ type: 'status.get' })).connectors.find((c) => c.name === 'leaky');
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = await leaky();
    if (s?.status === 'connected') {
      // Tools wait for review until accepted as shown (where that applies): accept what is shown.
      if (!s.changedTools?.length) return { td, phone };
      const view = await controlCall(socket, 'connectors.tools', { name: 'leaky' });
      const pins = Object.fromEntries(view.tools.filter((t) => t.pin).map((t) => [t.name, t.pin as string]));
      await controlCall(socket, 'connectors.accept', { name: 'leaky', pins });
    }
    if (Date.now() > deadline) throw new Error(`leaky never connected: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const filesUnder = (dir: string): string[] =>
  fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));

const toolUse = (name: string, id: string): ScriptReply => ({
  content: [{ type: 'tool_use', id, name, input: {} }],
});

it('a secret with a quote, a backslash or a space is redacted JSON-escaped, URL-encoded and in structured content', async () => {
  model = await refusingModel([toolUse('leaky__env', 'toolu_env'), toolUse('leaky__env_structured', 'toolu_st')]);
  const { td, phone } = await daemonWithLeaky(model);
  const created = await phone.send<{ task: { id: string } }>({ type: 'thread.create', text: 'what is in the env?' });
  // The first result is untrusted text in the task's view, so the second call asks.
  const asked = await phone.event('approval.requested', (e) => e.approval.tool === 'leaky__env_structured', 20_000);
  await phone.send({
    type: 'approval.decide',
    approvalId: asked.approval.id,
    hash: asked.approval.hash,
    decision: 'approve',
  });
  const end = await phone.event(
    'task.updated',
    (e) => e.task.id === created.task.id && ['done', 'failed'].includes(e.task.state),
    20_000,
  );
  expect(end.task.state).toBe('done');

  const results = (i: number) => JSON.stringify(model!.requests[i].body.messages.at(-1).content);
  // The server printed the secrets (JSON-escaped, URL-encoded, and escaped twice in structured content).
  expect(results(1)).toContain('"DB_PASSWORD\\": \\"[redacted]\\"');
  expect(results(1)).toContain('password=[redacted]');
  expect(results(2)).toContain('\\\\\\"DB_PASSWORD\\\\\\":\\\\\\"[redacted]\\\\\\"');
  for (const r of model.requests) expect(JSON.stringify(r.body)).not.toMatch(/p4ss|LeakyToken/);
  expect(JSON.stringify(phone.events())).not.toMatch(/p4ss|LeakyToken/);
  await td.daemon.idle();
  for (const f of [...filesUnder(path.join(td.home, 'store')), path.join(td.home, 'audit.log')])
    expect(fs.readFileSync(f).includes('p4ss'), f).toBe(false);
});

it("a connector's crash reason from stderr is redacted of a secret it printed as JSON", async () => {
  const s = await standaloneConnectors();
  cleanup = () => s.close();
  fs.writeFileSync(path.join(s.home, 'secrets.json'), JSON.stringify(SECRETS), { mode: 0o600 });
  await s.manager.apply([
    ConnectorConfig.parse({ ...CONNECTOR, env: { ...CONNECTOR.env, CRASH_WITH_ENV: 'conn.leaky.gh' } }),
  ]);
  const failed = await until(
    () =>
      s.events.find(
        (e) =>
          e.kind === 'connector.updated' && e.connector.status === 'failed' && e.connector.reason?.includes('fatal'),
      ),
    'the connector to fail with its stderr',
  );
  const reason = failed.kind === 'connector.updated' ? (failed.connector.reason ?? '') : '';
  expect(reason).toContain('"DB_PASSWORD":"[redacted]"');
  expect(JSON.stringify(s.events)).not.toMatch(/p4ss|LeakyToken/);
  for (const f of filesUnder(path.join(s.home, 'logs'))) expect(fs.readFileSync(f).includes('p4ss'), f).toBe(false);
});

it('an image that is not what it says, from a connector or a file named .png, is left out and the thread goes on', async () => {
  model = await refusingModel([
    toolUse('leaky__chart', 'toolu_chart'),
    { content: [{ type: 'text', text: 'The chart could not be read.' }] },
    { content: [{ type: 'tool_use', id: 'toolu_read', name: 'fs_read', input: { path: 'chart.png' } }] },
    toolUse('leaky__photo', 'toolu_photo'),
    { content: [{ type: 'text', text: 'Done.' }] },
  ]);
  const { td, phone } = await daemonWithLeaky(model);
  fs.mkdirSync(path.join(td.home, 'workspace'), { recursive: true });
  fs.writeFileSync(path.join(td.home, 'workspace', 'chart.png'), 'not a png either, just text\n');
  const finished = (id: string) =>
    phone.event('task.updated', (e) => e.task.id === id && ['done', 'failed'].includes(e.task.state), 20_000);

  const first = await phone.send<{ thread: { id: string }; task: { id: string } }>({
    type: 'thread.create',
    text: 'draw the sales chart',
  });
  expect((await finished(first.task.id)).task.state).toBe('done');
  const chart = JSON.stringify(model.requests[1].body.messages.at(-1).content);
  expect(chart).toContain('Here is the chart.');
  expect(chart).toContain(
    '[image (image/png) left out: not a valid image: its bytes are not a PNG, JPEG, GIF or WebP image]',
  );

  // A follow-up in the same thread: fs_read of a fake .png, then a real JPEG the server calls image/png.
  const next = await phone.send<{ task: { id: string } }>({
    type: 'thread.send',
    threadId: first.thread.id,
    text: 'read chart.png, then get the photo',
  });
  // The thread read connector output, so the next connector call asks.
  const asked = await phone.event('approval.requested', (e) => e.approval.tool === 'leaky__photo', 20_000);
  await phone.send({
    type: 'approval.decide',
    approvalId: asked.approval.id,
    hash: asked.approval.hash,
    decision: 'approve',
  });
  const end = await finished(next.task.id);
  expect(end.task.state).toBe('done');
  const read = JSON.stringify(model.requests[3].body.messages.at(-1).content);
  expect(read).toContain('[chart.png: image left out: not a valid image');
  const photo = model.requests[4].body.messages.at(-1).content[0].content as Array<{ type: string; source?: unknown }>;
  expect(photo.find((b) => b.type === 'image')?.source).toMatchObject({ media_type: 'image/jpeg' });
  expect(model.requests.every((r) => !badImage(r.body))).toBe(true);
});
