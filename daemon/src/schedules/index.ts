// The schedules module: saved tasks run on a calendar, each run a task in the schedule's own thread,
// every occurrence accounted for. Wire it with `startSchedules(ctx, agent)` after the agent, which
// has already recovered its tasks.
import type { AgentModule } from '../agent/index.js';
import { findTask, threadOfTask } from '../agent/records.js';
import type { DaemonContext, DaemonModule } from '../context.js';
import type { CommandContext } from '../util/command-context.js';
import { registerScheduleCommands, type ScheduleOps, scheduleOps } from './commands.js';
import { type Clock, ScheduleEngine, systemClock } from './engine.js';

/**
 * Runs a schedule's thread takes before the next run starts a new one. Runs start fresh (they do
 * not resend the thread's conversation), so nothing is lost to the model; a thread that grew
 * forever made every change to it cost more (an hourly schedule: 8,760 tasks a year) and its
 * thread heavy to open on the phone.
 */
export const RUNS_PER_THREAD = 200;

/** Errand itself, as the author of the changes a schedule makes to its thread. */
const ERRAND = { device: { id: 'errand', name: 'Errand' } } as CommandContext;

export interface SchedulesModule extends DaemonModule {
  engine: ScheduleEngine;
  ops: ScheduleOps;
}

export async function startSchedules(
  ctx: DaemonContext,
  agent: Pick<AgentModule, 'startTask'>,
  opts: {
    clock?: Clock;
    runsPerThread?: number;
    /** Takes the secrets Errand knows out of a text (the tools runtime's): schedules never hold one. */
    redactor?: () => ((text: string) => string) | undefined;
  } = {},
): Promise<SchedulesModule> {
  const clock = opts.clock ?? systemClock;
  const { store } = ctx;
  const engine = new ScheduleEngine({
    store: store.schedules,
    journal: store.journal,
    clock,
    log: ctx.log,
    emit: (e) => ctx.emit(e),
    runs: {
      async start(s) {
        const current = s.threadId ? store.threads.peek(s.threadId) : undefined;
        const full = current !== undefined && current.tasks.length >= (opts.runsPerThread ?? RUNS_PER_THREAD);
        const { threadId, task } = await agent.startTask({
          text: s.text,
          title: s.title,
          threadId: full ? undefined : s.threadId,
          maxCostUsd: s.maxCostUsd,
          // Text from a task that had read untrusted content: each run starts tainted, as a received file makes it.
          untrusted: s.fromUntrusted === true,
          // Each run sees its own conversation: resending every earlier run made each cost more than
          // the last, until the conversation no longer fitted and every run failed.
          freshContext: true,
        });
        // Its title is the model's words: pushes keep hiding it after the schedule is deleted.
        if (s.fromUntrusted) await store.modelNamedThreads.add([threadId]);
        return { taskId: task.id, threadId };
      },
      task(taskId) {
        const doc = store.threads.peek(threadOfTask(taskId));
        return doc ? findTask(doc, taskId) : undefined;
      },
    },
  });
  const ops = scheduleOps(
    engine,
    store.schedules,
    () => clock.now(),
    async (threadId, title) => {
      // Through the thread command itself, so the change joins this command's record with its event.
      if (!ctx.commands.has('thread.rename') || !store.threads.has(threadId)) return;
      await ctx.commands.dispatch({ id: 'schedule-retitle', type: 'thread.rename', threadId, title }, ERRAND);
    },
  );
  registerScheduleCommands(ctx, ops, opts.redactor);
  const unsubscribe = store.events.subscribe((e) => {
    if (e.event.kind === 'task.updated')
      engine.taskUpdated(e.event.task.id, e.event.task.state, {
        reason: e.event.task.reason,
        costUsd: e.event.task.costUsd,
      });
  });
  await engine.start();
  return {
    engine,
    ops,
    async stop() {
      unsubscribe();
      engine.stop();
      await engine.settled();
    },
  };
}
