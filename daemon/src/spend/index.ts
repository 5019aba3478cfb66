// Spending caps per day and per month (config `spend.dailyUsd`, `spend.monthlyUsd`): at a cap new
// tasks do not start (the agent refuses them with the sentence below, shown on the phone, in the
// CLI and in a schedule's history) until the cap is raised or the day or month turns. Before each
// model call of a running task the same check counts the calls still going (calls-under-way.ts) and
// the caps the person let that task go past (agent/call-check.ts). Spend today and this month is part of
// the host status (`errand status --json`, the phone).
import { callBeingChecked, capKey } from '../agent/call-check.js';
import type { AgentModule } from '../agent/index.js';
import type { ConfigEdit } from '../config/owed-config-change.js';
import { changeConfigOnce } from '../config-changes.js';
import type { DaemonContext, DaemonModule, StatusPart } from '../context.js';
import { senderOf } from '../device-changes.js';
import type { Store } from '../store/index.js';
import { CallsUnderWay } from './calls-under-way.js';
import { canSpend, SpendLedger } from './ledger.js';

const usd = (n: number) => `$${n.toFixed(2)}`;

/** What the spending caps use: tasks' costs (events, threads), schedules' spend, config and host status. */
export type SpendDeps = Pick<
  DaemonContext,
  'paths' | 'config' | 'reloadConfig' | 'onConfigChange' | 'status' | 'emit' | 'commands' | 'log'
> & {
  store: Pick<Store, 'threads' | 'events' | 'schedules' | 'spendDays' | 'commands' | 'journal'>;
};

export function startSpend(
  ctx: SpendDeps,
  agent: Pick<AgentModule, 'setStartGate'>,
  now: () => number = Date.now,
): DaemonModule & { ledger: SpendLedger; blocked(): string | undefined; status(): StatusPart } {
  // Days turn in the host's own zone (hostTimeZone), read from Date's local time. Each increase of a
  // task's cost counts on the day it is seen; where a task's spending moved on to a new day is kept
  // in the journal (a failed write only loses that split after a restart: the cost itself is kept).
  const ledger = new SpendLedger(undefined, (taskId, mark) => {
    ctx.store.spendDays.mark(taskId, mark).catch((err: unknown) =>
      ctx.log.warn('spend: could not record that a task spent on a new day', {
        taskId,
        error: (err as Error)?.message ?? String(err),
      }),
    );
  });
  for (const t of ctx.store.threads.taskBriefs()) ledger.see(t, ctx.store.spendDays.of(t.id));
  const calls = new CallsUnderWay((taskId) => ledger.costOf(taskId));
  // A cap raised or removed (spend.set, config.json) lets a call waiting on the others go at once.
  ctx.onConfigChange(() => calls.recheck());
  const unsubscribe = ctx.store.events.subscribe((e) => {
    if (e.event.kind !== 'task.updated') return;
    ledger.spent(e.event.task, now());
    if (!canSpend(e.event.task)) calls.drop(e.event.task.id);
  });

  const blocked = (): string | undefined => {
    // Called before every model call (the loop's cap check) and for the status: when the day has
    // turned, tasks under way count from here on today, before their next call costs anything.
    const at = now();
    ledger.turn(at);
    const caps = ctx.config().spend;
    const period = ledger.period(at);
    // What calls that ended cost before their task's next write is spent already.
    const { unrecordedUsd, reservedUsd } = calls.totals();
    const checks = [
      {
        key: capKey('daily', period.day),
        limit: caps.dailyUsd,
        used: ledger.today(at) + unrecordedUsd,
        says: (used: number, limit: number) =>
          `Today's spending cap is reached (${usd(used)} of ${usd(limit)}): new tasks start again tomorrow, or raise the daily cap under Spending on the phone's Schedules screen (spend.dailyUsd in config.json).`,
      },
      {
        key: capKey('monthly', period.month),
        limit: caps.monthlyUsd,
        used: ledger.month(at) + unrecordedUsd,
        says: (used: number, limit: number) =>
          `This month's spending cap is reached (${usd(used)} of ${usd(limit)}): new tasks start again next month, or raise the monthly cap under Spending on the phone's Schedules screen (spend.monthlyUsd in config.json).`,
      },
    ];
    // A model call about to go (not a new task's start): it also counts the calls still going.
    const call = callBeingChecked();
    let full = false;
    for (const { key, limit, used, says } of checks) {
      if (limit === undefined || call?.waived.has(key)) continue;
      // Written as "not below" so a figure that is not a number counts as over, never as under.
      if (!(used < limit)) {
        if (call) call.reached = { key, limitUsd: limit };
        return says(used, limit);
      }
      if (!(used + reservedUsd < limit)) full = true;
    }
    // Without a cap nothing is reserved (and no call's estimate is worked out).
    if (!call || (caps.dailyUsd === undefined && caps.monthlyUsd === undefined)) return undefined;
    // The cap is not reached, but the calls under way may reach it: this one waits for one of them
    // to end instead of going past the cap with them (or asking about a cap they may not reach).
    if (full) call.wait = calls.whenOneEnds();
    else {
      call.raise = calls.reserve(call.taskId, call.costUsd, call.estimateUsd());
      call.settle = (costUsdAfter) => calls.settle(call.taskId, costUsdAfter);
    }
    return undefined;
  };
  agent.setStartGate(blocked);
  const status = (): StatusPart => {
    const caps = ctx.config().spend;
    const perTask = ctx.config().agent.maxCostUsd;
    const why = blocked();
    return {
      spend: {
        todayUsd: ledger.today(now()),
        monthUsd: ledger.month(now()),
        ...(perTask !== null ? { perTaskUsd: perTask } : {}),
        ...(caps.dailyUsd !== undefined ? { dailyCapUsd: caps.dailyUsd } : {}),
        ...(caps.monthlyUsd !== undefined ? { monthlyCapUsd: caps.monthlyUsd } : {}),
        ...(why ? { blocked: why } : {}),
        schedules: ctx.store.schedules
          .list()
          .filter((s) => s.spentUsd > 0)
          .sort((a, b) => b.spentUsd - a.spentUsd)
          .slice(0, 20)
          .map((s) => ({ id: s.id, title: s.title, spentUsd: s.spentUsd })),
      },
    };
  };
  // The phone's spending settings write config.json (the one place limits live), then apply at once,
  // once across a kill -9 (config-changes.ts). A per-task limit of null is written as
  // null (no limit), not removed: absent means the default. A cap of null is removed.
  ctx.commands.register('spend.set', async (c, cc) => {
    const edits: ConfigEdit[] = [];
    for (const key of ['dailyUsd', 'monthlyUsd'] as const)
      if (c[key] !== undefined) edits.push({ path: ['spend', key], ...(c[key] === null ? {} : { value: c[key] }) });
    if (c.perTaskUsd !== undefined) edits.push({ path: ['agent', 'maxCostUsd'], value: c.perTaskUsd });
    return changeConfigOnce(ctx, senderOf(c, cc.device.id), 'spend', edits);
  });
  return { ledger, blocked, status, stop: async () => unsubscribe() };
}
