// The daemon's feature modules, started in order after the core and stopped in reverse.
import { ENDED_TASK_STATES } from '../../shared/src/index.js';
import { startAgent } from './agent/index.js';
import type { DaemonContext, DaemonModule, FileDownloadHandler, PushReceiptHandler } from './context.js';
import { type PushOptions, startPush } from './push/index.js';
import { withScheduleTool } from './schedules/agent-tool.js';
import { type SchedulesModule, startSchedules } from './schedules/index.js';
import { type KeepAwakeOptions, startKeepAwake } from './service/keep-awake.js';
import { startSpend } from './spend/index.js';
import { startTools } from './tools/index.js';

/** What tests and benchmarks inject into the modules instead of the real thing. */
export interface ModuleOptions {
  /** The push module's transport (a stand-in push service) and retry timing. */
  push?: PushOptions;
  /** How keep-awake finds and starts the sleep inhibitor (a stand-in one). */
  keepAwake?: KeepAwakeOptions;
}

/** What the modules hand to the HTTP server. */
export interface ModuleOutputs {
  /** GET /api/file (the tools module's). */
  fileDownload: FileDownloadHandler;
  /** POST /api/push/receipt (the push module's). */
  pushReceipt: PushReceiptHandler;
}

/**
 * Start the modules, each with what it uses, adding each to `modules` as soon as it runs (from
 * then on the host status shows its part). If one fails, the caller stops those already in the list.
 */
export async function startModules(
  ctx: DaemonContext,
  modules: DaemonModule[],
  opts: ModuleOptions = {},
): Promise<ModuleOutputs> {
  // Keep-awake subscribes before the agent recovers tasks, so it sees auto-resumed ones; it stops last.
  const keepAwake = startKeepAwake({ events: ctx.store.events, log: ctx.log }, opts.keepAwake);
  modules.push(keepAwake);
  // Push before the agent, so changes announced while the agent recovers tasks are pushed too.
  const push = await startPush(ctx, opts.push);
  modules.push(push);
  const tools = await startTools(ctx);
  modules.push(tools);
  let schedules: SchedulesModule | undefined;
  // The agent's schedule tool creates a schedule only after the user approves it on the phone.
  const agent = await startAgent(ctx, {
    tools: withScheduleTool(tools, {
      approvals: tools.approvals,
      journal: ctx.store.journal,
      ops: () => schedules?.ops,
    }),
    pendingApprovals: (threadId) => tools.pendingApprovals(threadId),
  });
  modules.push(agent);
  // Daily and monthly spending caps (before schedules, so a run caught up at start obeys them).
  modules.push(startSpend(ctx, agent));
  // After the agent recovered its tasks: runs missed while Errand was down are accounted for now.
  schedules = await startSchedules(ctx, agent, { redactor: () => tools.redactor?.() });
  modules.push(schedules);
  // "Allow for this task" grants end with the task.
  const unsubscribe = ctx.store.events.subscribe((e) => {
    if (e.event.kind === 'task.updated' && ENDED_TASK_STATES.has(e.event.task.state)) tools.endTask(e.event.task.id);
  });
  modules.push({ stop: async () => unsubscribe() });
  return { fileDownload: tools.fileDownload, pushReceipt: push.receipt };
}
