// The agent module on a real store (thread files, event log) in a temp folder, with a real command
// router and a small real tool runtime, talking through the real SDK to the scripted model server.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Approval, ClientCommand, ServerEvent, Task } from '../../../shared/src/index.js';
import { type AgentModule, type AgentOptions, startAgent } from '../../src/agent/index.js';
import type {
  ModelToolDefinition,
  TaskToolContext,
  ToolCallOutcome,
  ToolRuntime,
} from '../../src/agent/tool-runtime.js';
import { homePaths } from '../../src/config/paths.js';
import { type Config, ConfigSchema } from '../../src/config/schema.js';
import type { DaemonContext } from '../../src/context.js';
import type { CommandContext } from '../../src/server/command-router.js';
import type { LoggedEvent } from '../../src/store/event-log.js';
import { openStore, type Store } from '../../src/store/index.js';
import { type TestContext, testContext } from '../helpers/context.js';

export interface TestTools {
  runtime: ToolRuntime;
  dir: string;
  /** How many times each tool ran. */
  runs: Map<string, number>;
  /** Resolves when a `slow` call starts. */
  slowStarted: () => Promise<void>;
  /** Signals the slow tool saw: aborted or not. */
  slowAborted: boolean[];
}

/**
 * write_file {name, text}: writes dir/name and appends a line to dir/log.txt (so a repeated run is visible);
 * slow {ms}: waits ms or until the task's signal aborts;
 * approve_me {}: goes waiting (as an approval would) for `waitMs` then completes;
 * big {chars}: returns that many characters;
 * wait_for {file}: read-only (no side effect); waits until dir/file exists or the task's signal aborts.
 */
export function testTools(dir: string): TestTools {
  fs.mkdirSync(dir, { recursive: true });
  const runs = new Map<string, number>();
  const slowAborted: boolean[] = [];
  let slowResolve: (() => void) | undefined;
  let slowStartedP = new Promise<void>((r) => {
    slowResolve = r;
  });
  const defs: ModelToolDefinition[] = [
    {
      name: 'write_file',
      description: 'Write a text file.',
      input_schema: {
        type: 'object',
        properties: { name: { type: 'string' }, text: { type: 'string' } },
        required: ['name', 'text'],
      },
    },
    { name: 'slow', description: 'Wait.', input_schema: { type: 'object', properties: { ms: { type: 'number' } } } },
    {
      name: 'approve_me',
      description: 'Needs an approval.',
      input_schema: { type: 'object', properties: { waitMs: { type: 'number' } } },
    },
    {
      name: 'big',
      description: 'Returns a long output.',
      input_schema: { type: 'object', properties: { chars: { type: 'number' } } },
    },
    {
      name: 'wait_for',
      description: 'Wait until a file exists (reads only).',
      readOnly: true,
      input_schema: { type: 'object', properties: { file: { type: 'string' } }, required: ['file'] },
    },
  ];
  const ok = (t: string, output?: string): ToolCallOutcome => ({
    content: [{ type: 'text', text: t }],
    isError: false,
    state: 'completed',
    output,
  });
  const runtime: ToolRuntime = {
    definitions: () => defs,
    summarize: (name, input) => `${name} ${JSON.stringify(input)}`.slice(0, 80),
    promptContext: () => [`Folder ${dir} (read and write)`],
    async run(call, ctx: TaskToolContext) {
      runs.set(call.name, (runs.get(call.name) ?? 0) + 1);
      // Every run, across processes: a repeated call is visible after a restart.
      await fsp.appendFile(path.join(dir, 'runs.log'), `${call.name} ${call.id}\n`);
      const input = call.input as Record<string, unknown>;
      if (call.name === 'write_file') {
        await fsp.writeFile(path.join(dir, String(input.name)), String(input.text));
        await fsp.appendFile(path.join(dir, 'log.txt'), `${call.id} ${String(input.name)}\n`);
        return ok(`Wrote ${String(input.name)}`);
      }
      if (call.name === 'slow') {
        slowResolve?.();
        slowStartedP = new Promise<void>((r) => {
          slowResolve = r;
        });
        const ms = Number(input.ms ?? 60_000);
        const aborted = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), ms);
          ctx.signal.addEventListener(
            'abort',
            () => {
              clearTimeout(t);
              resolve(true);
            },
            { once: true },
          );
        });
        slowAborted.push(aborted);
        return aborted
          ? { content: [{ type: 'text', text: 'aborted' }], isError: true, state: 'error' }
          : ok(`waited ${ms} ms`);
      }
      if (call.name === 'approve_me') {
        await ctx.setWaiting(true);
        await new Promise((r) => setTimeout(r, Number(input.waitMs ?? 100)));
        await ctx.setWaiting(false);
        return ok('approved and done');
      }
      if (call.name === 'big') return ok('x'.repeat(Number(input.chars ?? 10_000)));
      if (call.name === 'wait_for') {
        const file = path.join(dir, path.basename(String(input.file)));
        while (!fs.existsSync(file)) {
          if (ctx.signal.aborted)
            return { content: [{ type: 'text', text: 'aborted' }], isError: true, state: 'error' };
          await new Promise((r) => setTimeout(r, 10));
        }
        return ok(`saw ${path.basename(file)}`);
      }
      return { content: [{ type: 'text', text: `unknown tool ${call.name}` }], isError: true, state: 'error' };
    },
  };
  return { runtime, dir, runs, slowStarted: () => slowStartedP, slowAborted };
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface Harness {
  home: string;
  ctx: DaemonContext;
  /** Show a module the test started in ctx.status() (as the daemon does); returns it. */
  add: TestContext['add'];
  store: Store;
  agent: AgentModule;
  tools: TestTools;
  events: LoggedEvent[];
  cc: CommandContext;
  config: Config;
  send<T extends ClientCommand['type']>(
    type: T,
    body: Omit<Extract<ClientCommand, { type: T }>, 'id' | 'type'>,
  ): Promise<any>;
  /** Resolves with the task once it reaches one of `states` (checks the store and the events). */
  waitTask(taskId: string, states: Task['state'][], timeoutMs?: number): Promise<Task>;
  eventsOf<K extends ServerEvent['kind']>(kind: K): Array<Extract<ServerEvent, { kind: K }>>;
  /** Resolves with the first event of `kind` (already seen or coming) that matches. */
  waitEvent<K extends ServerEvent['kind']>(
    kind: K,
    match?: (e: Extract<ServerEvent, { kind: K }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerEvent, { kind: K }>>;
  /** Stop the agent (clean stop) and close the store; keeps the home folder. */
  stop(): Promise<void>;
  /** Close the store without stopping the agent (as after kill -9: nothing is written). */
  abandon(): Promise<void>;
  cleanup(): Promise<void>;
}

let cmdCounter = 0;

export async function startHarness(
  opts: {
    modelUrl?: string;
    apiKey?: string | null;
    config?: DeepPartial<Config>;
    agentOptions?: AgentOptions;
    home?: string;
    tools?: TestTools;
    /** Approvals waiting in a thread, for thread.get (the tools module's in the daemon). */
    pendingApprovals?: (threadId: string) => Approval[];
  } = {},
): Promise<Harness> {
  const home = opts.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'errand-agent-'));
  const paths = homePaths(home);
  const raw = structuredClone(opts.config ?? {}) as Record<string, any>;
  raw.anthropic = { model: 'claude-sonnet-4-6', ...(raw.anthropic ?? {}) };
  if (opts.apiKey !== null) raw.anthropic.apiKey = opts.apiKey ?? 'sk-test-key';
  if (opts.modelUrl) raw.anthropic.baseUrl = opts.modelUrl;
  raw.agent = { retryWindowSeconds: 10, ...(raw.agent ?? {}) };
  // The API's web tools are on by default; tests about them turn them on (the rest see the tools they list).
  raw.web = { search: false, fetch: false, ...(raw.web ?? {}) };
  const config = ConfigSchema.parse(raw);
  const store = await openStore(paths);
  const events: LoggedEvent[] = [];
  store.events.subscribe((e) => events.push(e));
  const { ctx, add } = testContext({ home, config, store, events: store.events });
  const tools = opts.tools ?? testTools(path.join(home, 'files'));
  const agent = add(
    await startAgent(
      ctx,
      { tools: tools.runtime, pendingApprovals: opts.pendingApprovals },
      { retryBaseMs: 50, deltaIntervalMs: 100, ...opts.agentOptions },
    ),
  );
  const cc: CommandContext = {
    device: { id: 'dev_test', name: 'Test phone', pairedAt: Date.now() },
    address: '127.0.0.1',
    connectionId: 'conn_test',
  };
  let closed = false;
  const h: Harness = {
    home,
    ctx,
    add,
    store,
    agent,
    tools,
    events,
    cc,
    config,
    send: (type, body) => ctx.commands.dispatch({ id: `cmd_${++cmdCounter}_xxxxxxxx`, type, ...body } as never, cc),
    async waitTask(taskId, states, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const threadId = taskId.split('.')[0];
        const doc = await store.threads.load(threadId);
        const t = doc.tasks.find((x) => x.id === taskId);
        if (t && states.includes(t.state)) return { ...t };
        if (Date.now() > deadline)
          throw new Error(
            `task ${taskId} is ${t?.state}, not ${states.join('/')} after ${timeoutMs} ms (reason: ${t?.reason})`,
          );
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    // In sequence order: the event log can hand events to listeners out of order when two flushes
    // overlap (reported to the store's owner); the sequence numbers are the truth.
    eventsOf: (kind) =>
      [...events]
        .sort((a, b) => a.seq - b.seq)
        .map((e) => e.event)
        .filter((e) => e.kind === kind) as never,
    async waitEvent(kind, match = () => true, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = h.eventsOf(kind).find(match);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no ${kind} event after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop() {
      if (closed) return;
      closed = true;
      await agent.stop();
      await store.close();
    },
    async abandon() {
      if (closed) return;
      closed = true;
      await store.close().catch(() => undefined);
    },
    async cleanup() {
      await h.stop().catch(() => undefined);
      if (!opts.home) await fsp.rm(home, { recursive: true, force: true });
    },
  };
  return h;
}
