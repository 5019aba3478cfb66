// The tools module on the shared test context (helpers/context.ts): temp home, real event log, real command
// router and control server, config held in memory (and written to config.json for reloads).
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ClientCommand, ServerEvent } from '../../../shared/src/index.js';
import type { TaskToolContext } from '../../src/agent/tool-runtime.js';
import { homePaths } from '../../src/config/paths.js';
import { ConfigSchema } from '../../src/config/schema.js';
import type { DaemonContext, FileDownloadHandler } from '../../src/context.js';
import type { ControlServer } from '../../src/control/server.js';
import type { CommandContext } from '../../src/server/command-router.js';
import { EventLog } from '../../src/store/event-log.js';
import { type StartToolsOptions, startTools, type ToolsModule } from '../../src/tools/index.js';
import { createLogger } from '../../src/util/log.js';
import { testContext } from '../helpers/context.js';

export interface ToolsHarness {
  home: string;
  /** A scratch folder outside every root, for escape targets. */
  outside: string;
  ctx: DaemonContext;
  tools: ToolsModule;
  events: ServerEvent[];
  control: ControlServer;
  download(taskId: string, path: string): ReturnType<FileDownloadHandler>;
  setConfig(change: (raw: Record<string, any>) => void): void;
  send<T extends ClientCommand['type']>(
    type: T,
    body: Omit<Extract<ClientCommand, { type: T }>, 'id' | 'type'>,
    device?: { id: string; name: string },
  ): Promise<any>;
  task(opts?: {
    taskId?: string;
    threadId?: string;
    tainted?: boolean;
    signal?: AbortSignal;
  }): TaskToolContext & { waiting: boolean[] };
  run(name: string, input: unknown, task?: TaskToolContext): ReturnType<ToolsModule['run']>;
  waitEvent<K extends ServerEvent['kind']>(
    kind: K,
    match?: (e: Extract<ServerEvent, { kind: K }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerEvent, { kind: K }>>;
  close(): Promise<void>;
}

let counter = 0;

export async function toolsHarness(
  opts: { config?: Record<string, any>; listen?: boolean; tools?: StartToolsOptions; noWait?: boolean } = {},
): Promise<ToolsHarness> {
  const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'errand-tools-')));
  const home = path.join(base, 'home');
  const outside = path.join(base, 'outside');
  fs.mkdirSync(home, { mode: 0o700 });
  fs.mkdirSync(outside);
  const paths = homePaths(home);
  // The sandbox takes seconds to start; tests that are not about the shell run without it.
  const raw: Record<string, any> = structuredClone({ shell: { sandbox: 'off' }, ...(opts.config ?? {}) });
  fs.writeFileSync(paths.config, JSON.stringify(raw), { mode: 0o600 });
  // Warnings and errors go to the home's log file, as `errand logs` would show them.
  const log = createLogger({ dir: paths.logs, level: 'warn' });
  const eventLog = await EventLog.open(paths.events);
  const events: ServerEvent[] = [];
  eventLog.subscribe((e) => events.push(e.event));
  const { ctx, add } = testContext({
    home,
    config: ConfigSchema.parse(raw),
    reloadFromFile: true,
    events: eventLog,
    log,
  });
  const { control, commands } = ctx;
  if (opts.listen) await control.listen();
  const tools = add(await startTools(ctx, opts.tools));
  if (!opts.noWait) await tools.ready();
  const device = { id: 'dev_phone', name: 'Phone' };
  const h: ToolsHarness = {
    home,
    outside,
    ctx,
    tools,
    events,
    control,
    download: (taskId, p) => tools.fileDownload(taskId, p, { id: 'dev_phone', name: 'Phone' }),
    setConfig(change) {
      const raw = JSON.parse(fs.readFileSync(paths.config, 'utf8'));
      change(raw);
      fs.writeFileSync(paths.config, JSON.stringify(raw), { mode: 0o600 });
      ctx.reloadConfig();
    },
    send(type, body, dev = device) {
      const cc: CommandContext = {
        device: { ...dev, pairedAt: 0 },
        address: '127.0.0.1',
        connectionId: 'c1',
      };
      return commands.dispatch({ id: `cmd_${++counter}_abcdefgh`, type, ...body } as never, cc);
    },
    task(o = {}) {
      const waiting: boolean[] = [];
      return {
        taskId: o.taskId ?? `task_${++counter}`,
        threadId: o.threadId ?? 'thr_1',
        tainted: o.tainted ?? false,
        signal: o.signal ?? new AbortController().signal,
        waiting,
        async setWaiting(w: boolean) {
          waiting.push(w);
        },
      };
    },
    run(name, input, task) {
      return tools.run({ id: `call_${++counter}`, name, input }, task ?? h.task());
    },
    async waitEvent(kind, match = () => true, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.filter((e) => e.kind === kind).find(match as (e: ServerEvent) => boolean);
        if (found) return found as never;
        if (Date.now() > deadline) throw new Error(`no ${kind} event within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async close() {
      await tools.stop();
      await control.close().catch(() => undefined);
      await eventLog.close();
      log.close();
      await fsp.rm(base, { recursive: true, force: true });
    },
  };
  return h;
}

export const textOf = (o: { content: Array<{ type: string; text?: string }> }): string =>
  o.content
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('\n');

/** Run a call that asks for approval, and approve it as a phone would. */
export async function runApproved(
  h: ToolsHarness,
  name: string,
  input: Record<string, unknown>,
  task: ReturnType<ToolsHarness['task']>,
): ReturnType<ToolsHarness['run']> {
  const running = h.run(name, input, task);
  const asked = await h.waitEvent('approval.requested', (e) => e.approval.taskId === task.taskId);
  await h.send('approval.decide', { approvalId: asked.approval.id, hash: asked.approval.hash, decision: 'approve' });
  return running;
}

/**
 * Run a call; if it asks for approval, answer `decision` as a phone would. Says whether it asked
 * (waits until the call asks or ends without asking, whichever comes first).
 */
export async function runDeciding(
  h: ToolsHarness,
  name: string,
  input: Record<string, unknown>,
  task: TaskToolContext,
  decision: 'approve' | 'allow_task' | 'deny',
): Promise<{ out: Awaited<ReturnType<ToolsHarness['run']>>; asked: boolean }> {
  const asks = () => h.events.filter((e) => e.kind === 'approval.requested' && e.approval.taskId === task.taskId);
  const before = asks().length;
  let finished = false;
  const running = h.run(name, input, task).finally(() => {
    finished = true;
  });
  let asked = false;
  while (!finished) {
    const fresh = asks()[before];
    if (fresh?.kind === 'approval.requested') {
      asked = true;
      const { id, hash } = fresh.approval;
      await h.send('approval.decide', { approvalId: id, hash, decision });
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { out: await running, asked };
}
