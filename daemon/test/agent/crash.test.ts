// kill -9 of the process running the agent, mid-task; a new process on the same home finds the task
// interrupted, and resuming it continues from the last checkpoint without repeating finished tool
// calls. A call that started but never finished is reported as outcome unknown, never re-run.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ModelServer, reply, startModelServer, text, toolUse } from '../helpers/model-server.js';
import { ensureBuilt, ROOT } from './build.js';

const hostJs = path.join(ROOT, 'dist/daemon/test/agent/agent-host.js');

beforeAll(() => {
  expect(fs.existsSync(ensureBuilt('dist/daemon/test/agent/agent-host.js'))).toBe(true);
}, 120_000);

interface Host {
  proc: ChildProcessWithoutNullStreams;
  send(cmd: Record<string, unknown>): Promise<any>;
  kill9(): Promise<void>;
  term(): Promise<number | null>;
}

async function startHost(home: string, modelUrl: string, config?: unknown): Promise<Host> {
  const proc = spawn(process.execPath, [hostJs], {
    env: {
      PATH: process.env.PATH,
      AGENT_HOME: home,
      AGENT_MODEL_URL: modelUrl,
      ...(config ? { AGENT_CONFIG: JSON.stringify(config) } : {}),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const lines: Array<(v: any) => void> = [];
  let ready!: () => void;
  const readyP = new Promise<void>((r) => {
    ready = r;
  });
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    const v = JSON.parse(line);
    if (v.ready) ready();
    else lines.shift()?.(v);
  });
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  await Promise.race([
    readyP,
    exited.then(() => {
      throw new Error(`agent host exited: ${stderr}`);
    }),
  ]);
  return {
    proc,
    send(cmd) {
      return new Promise((resolve, reject) => {
        lines.push((v) => (v.error ? reject(new Error(v.error)) : resolve(v.reply)));
        proc.stdin.write(JSON.stringify(cmd) + '\n');
      });
    },
    async kill9() {
      proc.kill('SIGKILL');
      await exited;
    },
    async term() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const runsOf = (home: string) => {
  const f = path.join(home, 'files', 'runs.log');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];
};

let server: ModelServer;
let home: string;
let hosts: Host[] = [];

beforeEach(async () => {
  server = await startModelServer();
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'errand-crash-'));
});
afterEach(async () => {
  for (const h of hosts) if (h.proc.exitCode === null) await h.kill9();
  hosts = [];
  await server.close();
  fs.rmSync(home, { recursive: true, force: true });
});

describe('kill -9 mid-task', () => {
  it('marks the task interrupted; resume continues without repeating the finished tool call', async () => {
    server.push(reply(text('Writing the first file.'), toolUse('write_file', { name: 'one.txt', text: '1' })), {
      kind: 'hang',
    });
    const first = await startHost(home, server.url);
    hosts.push(first);
    const { thread, task } = await first.send({ type: 'thread.create', text: 'write one.txt, then more' });
    await server.waitForRequests(2);
    expect(runsOf(home)).toHaveLength(1);
    await first.kill9();

    server.push(reply(text('Resumed: one.txt was already written, nothing else to do.')));
    const second = await startHost(home, server.url);
    hosts.push(second);
    const after = await second.send({ type: 'thread.get', threadId: thread.id });
    const t = after.tasks.find((x: { id: string }) => x.id === task.id);
    expect(t.state).toBe('interrupted');
    expect(t.reason).toBe('Errand stopped unexpectedly while this task was running');
    expect(
      after.items.some(
        (i: { kind: string; text: string }) => i.kind === 'notice' && i.text.includes('stopped unexpectedly'),
      ),
    ).toBe(true);
    expect(server.requests).toHaveLength(2); // nothing ran by itself after a crash

    const { task: resumed } = await second.send({ type: 'task.resume', taskId: task.id });
    expect(resumed.state).toBe('queued');
    const done = await until('the resumed task to finish', async () => {
      const g = await second.send({ type: 'thread.get', threadId: thread.id });
      const x = g.tasks.find((y: { id: string }) => y.id === task.id);
      return x.state === 'done' ? x : undefined;
    });
    expect(done.resultSummary).toBe('Resumed: one.txt was already written, nothing else to do.');
    expect(runsOf(home)).toHaveLength(1);
    const msgs = server.requests[2].body.messages;
    expect(msgs.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(msgs[2].content[0]).toMatchObject({
      type: 'tool_result',
      content: [{ type: 'text', text: 'Wrote one.txt' }],
    });
    expect(done.turns).toBe(2);
  });

  it('reports a tool call that started but never finished as outcome unknown, keeps the one that finished, runs neither again', async () => {
    server.push(
      reply(text('Two steps.'), toolUse('write_file', { name: 'a.txt', text: 'A' }), toolUse('slow', { ms: 60_000 })),
    );
    const first = await startHost(home, server.url);
    hosts.push(first);
    const { thread, task } = await first.send({ type: 'thread.create', text: 'write a.txt, then run the slow thing' });
    await until('the slow tool to start', () => (runsOf(home).length === 2 ? true : undefined));
    await first.kill9();

    server.push(reply(text('The slow step may not have finished; I checked and stopped there.')));
    const second = await startHost(home, server.url);
    hosts.push(second);
    // Before any resume, the thread already shows what is known: the reply, one step done, one unknown.
    const before = await second.send({ type: 'thread.get', threadId: thread.id });
    // The step journal was folded into the thread file and cleared.
    expect(fs.readdirSync(path.join(home, 'store', 'agent-steps'))).toEqual([]);
    expect(before.tasks[0].state).toBe('interrupted');
    expect(
      before.items.map((i: { kind: string; state?: string; text?: string }) => [i.kind, i.state ?? i.text]),
    ).toEqual([
      ['user', 'write a.txt, then run the slow thing'],
      ['assistant', 'Two steps.'],
      ['tool', 'completed'],
      ['tool', 'unknown'],
      [
        'notice',
        'Errand stopped unexpectedly while this task was running. Resume it to continue from its last checkpoint.',
      ],
    ]);

    await second.send({ type: 'task.resume', taskId: task.id });
    const g = await until('the resumed task to finish', async () => {
      const r = await second.send({ type: 'thread.get', threadId: thread.id });
      return r.tasks[0].state === 'done' ? r : undefined;
    });
    expect(runsOf(home)).toHaveLength(2);
    expect(g.items.filter((i: { kind: string }) => i.kind === 'tool').map((i: { state: string }) => i.state)).toEqual([
      'completed',
      'unknown',
    ]);
    const results = server.requests[1].body.messages.at(-1).content;
    expect(results[0]).toMatchObject({ type: 'tool_result', content: [{ type: 'text', text: 'Wrote a.txt' }] });
    expect(results[0].is_error).toBeUndefined();
    expect(results[1]).toMatchObject({ type: 'tool_result', is_error: true });
    expect(results[1].content[0].text).toBe('outcome unknown: Errand stopped while this ran; check before retrying');
  });

  it('a read-only call cut off by a crash runs again on resume (not outcome unknown); the finished write before it is kept and not run again', async () => {
    server.push(
      reply(
        text('Write, then wait.'),
        toolUse('write_file', { name: 'a.txt', text: 'A' }),
        toolUse('wait_for', { file: 'go.txt' }),
      ),
    );
    const first = await startHost(home, server.url);
    hosts.push(first);
    const { thread, task } = await first.send({ type: 'thread.create', text: 'write a.txt, then wait for go.txt' });
    await until('the read-only call to start', () => (runsOf(home).length === 2 ? true : undefined));
    await first.kill9();
    // The flag that marks a tool read-only stays in the daemon.
    for (const t of server.requests[0].body.tools) expect(t).not.toHaveProperty('readOnly');

    server.push(reply(text('Both steps are done.')));
    const second = await startHost(home, server.url);
    hosts.push(second);
    const before = await second.send({ type: 'thread.get', threadId: thread.id });
    expect(before.tasks[0].state).toBe('interrupted');
    const tools = before.items.filter((i: { kind: string }) => i.kind === 'tool');
    expect(tools.map((i: { tool: string }) => i.tool)).toEqual(['write_file', 'wait_for']);
    expect(tools[0].state).toBe('completed');
    expect(tools[1].state).not.toBe('unknown');

    fs.writeFileSync(path.join(home, 'files', 'go.txt'), 'go');
    await second.send({ type: 'task.resume', taskId: task.id });
    const g = await until('the resumed task to finish', async () => {
      const r = await second.send({ type: 'thread.get', threadId: thread.id });
      return r.tasks[0].state === 'done' ? r : undefined;
    });
    expect(runsOf(home).map((l) => l.split(' ')[0])).toEqual(['write_file', 'wait_for', 'wait_for']);
    expect(g.items.filter((i: { kind: string }) => i.kind === 'tool').map((i: { state: string }) => i.state)).toEqual([
      'completed',
      'completed',
    ]);
    expect(server.requests).toHaveLength(2);
    const results = server.requests[1].body.messages.at(-1).content;
    expect(results[0]).toMatchObject({ type: 'tool_result', content: [{ type: 'text', text: 'Wrote a.txt' }] });
    expect(results[1]).toMatchObject({ type: 'tool_result', content: [{ type: 'text', text: 'saw go.txt' }] });
    expect(results[1].is_error).toBeUndefined();
  });

  it('a turn of read-only calls keeps its reply (paid for) in a record not waited for; after a crash the calls run again, the reply is not asked again', async () => {
    server.push({
      content: [text('Waiting.'), toolUse('wait_for', { file: 'go.txt' })],
      usage: { input_tokens: 10_000, output_tokens: 20 },
    });
    const first = await startHost(home, server.url);
    hosts.push(first);
    const { thread, task } = await first.send({ type: 'thread.create', text: 'wait for go.txt' });
    await until('the read-only call to start', () => (runsOf(home).length === 1 ? true : undefined));
    const stepsFile = path.join(home, 'store', 'agent-steps', `${task.id}.jsonl`);
    await until("the reply's record", () =>
      fs.existsSync(stepsFile) && fs.readFileSync(stepsFile, 'utf8').includes('"cost"') ? true : undefined,
    );
    await first.kill9();

    server.push(reply(text('Nothing left to wait for.')));
    const second = await startHost(home, server.url);
    hosts.push(second);
    const before = await second.send({ type: 'thread.get', threadId: thread.id });
    expect(before.tasks[0].costUsd).toBeCloseTo((10_000 * 3 + 20 * 15) / 1e6, 9);
    fs.writeFileSync(path.join(home, 'files', 'go.txt'), 'go');
    await second.send({ type: 'task.resume', taskId: task.id });
    const g = await until('the resumed task to finish', async () => {
      const r = await second.send({ type: 'thread.get', threadId: thread.id });
      return r.tasks[0].state === 'done' ? r : undefined;
    });
    expect(g.tasks[0].resultSummary).toBe('Nothing left to wait for.');
    expect(runsOf(home).map((l) => l.split(' ')[0])).toEqual(['wait_for', 'wait_for']);
    // The turn was kept: the model is asked once more, with the call's result.
    expect(server.requests).toHaveLength(2);
    expect(server.requests[1].body.messages.map((m: { role: string }) => m.role)).toEqual([
      'user',
      'assistant',
      'user',
    ]);
  });

  it('after SIGTERM the task is interrupted cleanly and resumes by itself on the next start', async () => {
    server.push({ kind: 'hang' });
    const first = await startHost(home, server.url);
    hosts.push(first);
    const { thread, task } = await first.send({ type: 'thread.create', text: 'long job' });
    await server.waitForRequests(1);
    const t0 = Date.now();
    expect(await first.term()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(3000);

    server.push(reply(text('Finished after the restart.')));
    const second = await startHost(home, server.url);
    hosts.push(second);
    const g = await until('the auto-resumed task to finish', async () => {
      const r = await second.send({ type: 'thread.get', threadId: thread.id });
      return r.tasks[0].state === 'done' ? r : undefined;
    });
    expect(g.tasks[0].id).toBe(task.id);
    expect(g.tasks[0].resultSummary).toBe('Finished after the restart.');
    expect(server.requests).toHaveLength(2);
  });

  it('with autoResume off, a clean stop leaves the task interrupted for the user to resume', async () => {
    server.push({ kind: 'hang' });
    const config = { agent: { autoResume: false } };
    const first = await startHost(home, server.url, config);
    hosts.push(first);
    const { thread } = await first.send({ type: 'thread.create', text: 'long job' });
    await server.waitForRequests(1);
    expect(await first.term()).toBe(0);
    const second = await startHost(home, server.url, config);
    hosts.push(second);
    await new Promise((r) => setTimeout(r, 200));
    const g = await second.send({ type: 'thread.get', threadId: thread.id });
    expect(g.tasks[0].state).toBe('interrupted');
    expect(g.tasks[0].reason).toBe('Errand stopped while this task was running');
    expect(server.requests).toHaveLength(1);
  });
});
