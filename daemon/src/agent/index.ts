// The agent module: threads and tasks as clients see them (thread-commands.ts), the runs, the
// scheduler and recovery after a stop or crash (supervisor.ts), each run's loop (loop.ts) and the
// recorder of its events (recorder.ts). Wire it with `startAgent(ctx, { tools, pendingApprovals })`.
import type { Approval, Task } from '../../../shared/src/index.js';
import type { DaemonContext, DaemonModule, StatusPart } from '../context.js';
import type { AgentOptions } from './runner.js';
import { Supervisor } from './supervisor.js';
import { ThreadCommands } from './thread-commands.js';
import { ThreadWrites } from './thread-writes.js';
import type { ToolRuntime } from './tool-runtime.js';

export { runAgentLoop } from './loop.js';
export type { AgentOptions } from './runner.js';

export interface AgentModule extends DaemonModule {
  /** Its part of the host status: running and queued tasks, model. */
  status(): StatusPart;
  runningTasks(): number;
  queuedTasks(): number;
  /** Resolves when no task is running or queued and every event is written (for tests, benchmarks). */
  idle(): Promise<void>;
  /** Start a task from Errand itself (a schedule's run): in `threadId` while it exists, else in a new thread. */
  startTask(req: {
    text: string;
    title: string;
    threadId?: string;
    /** The task's own spending limit (a scheduled run's), instead of agent.maxCostUsd. */
    maxCostUsd?: number;
    /** The text came from untrusted content (a schedule made by a tainted task): the task starts tainted. */
    untrusted?: boolean;
    /** The model sees only this task's conversation, not the thread's earlier tasks (a scheduled run). */
    freshContext?: boolean;
  }): Promise<{ threadId: string; task: Task }>;
  /** Refuse new tasks while `why` returns a sentence (a daily or monthly spending cap reached). */
  setStartGate(why: () => string | undefined): void;
}

/** What the agent is built with besides the daemon context. */
export interface AgentDeps {
  tools: ToolRuntime;
  /** Approvals waiting for a decision in a thread, shown by thread.get (the tools module's). */
  pendingApprovals?: (threadId: string) => Approval[];
}

/** Start the agent: register its commands, recover tasks from the last run. */
export async function startAgent(
  ctx: DaemonContext,
  deps: AgentDeps,
  options: AgentOptions = {},
): Promise<AgentModule> {
  const writes = new ThreadWrites(ctx);
  const runs = new Supervisor(ctx, deps.tools, options, writes);
  const commands = new ThreadCommands(ctx, runs, writes, deps.pendingApprovals);
  commands.register();
  await runs.recover();
  return {
    status: (): StatusPart => ({
      runningTasks: runs.runningTasks(),
      queuedTasks: runs.queuedTasks(),
      apiKeyConfigured: Boolean(ctx.config().anthropic.apiKey),
      model: ctx.config().anthropic.model,
    }),
    runningTasks: () => runs.runningTasks(),
    queuedTasks: () => runs.queuedTasks(),
    idle: () => runs.idle(),
    startTask: (req) => commands.startTask(req),
    setStartGate: (why) => commands.setStartGate(why),
    stop: () => runs.stop(),
  };
}
