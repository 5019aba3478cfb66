// Spending caps per day and per month (config `spend.dailyUsd`, `spend.monthlyUsd`): at a cap new
// tasks do not start (the agent refuses them with the sentence below, shown on the phone, in the
// CLI and in a schedule's history) until the cap is raised or the day or month turns. Spend today
// and this month is part of the host status (`errand status --json`, the phone).
import type { AgentModule } from '../agent/index.js';
import { updateConfigFromCommand } from '../config/update-from-command.js';
import type { DaemonContext, DaemonModule, StatusPart } from '../context.js';
import type { Store } from '../store/index.js';
import { SpendLedger } from './ledger.js';

const usd = (n: number) => `$${n.toFixed(2)}`;

/** What the spending caps use: tasks' costs (events, threads), schedules' spend, config and host status. */
export type SpendDeps = Pick<DaemonContext, 'paths' | 'config' | 'reloadConfig' | 'status' | 'emit' | 'commands'> & {
  store: Pick<Store, 'threads' | 'events' | 'schedules'>;
};

export function startSpend(
  ctx: SpendDeps,
  agent: Pick<AgentModule, 'setStartGate'>,
  now: () => number = Date.now,
): DaemonModule & { ledger: SpendLedger; blocked(): string | undefined; status(): StatusPart } {
  // Days turn in the host's own zone (hostTimeZone), read from Date's local time.
  const ledger = new SpendLedger();
  for (const t of ctx.store.threads.taskBriefs()) ledger.see(t);
  const unsubscribe = ctx.store.events.subscribe((e) => {
    if (e.event.kind === 'task.updated') ledger.see(e.event.task);
  });

  const blocked = (): string | undefined => {
    const caps = ctx.config().spend;
    const today = ledger.today(now());
    // Written as "not below" so a figure that is not a number counts as over, never as under.
    if (caps.dailyUsd !== undefined && !(today < caps.dailyUsd))
      return `Today's spending cap is reached (${usd(today)} of ${usd(caps.dailyUsd)}): new tasks start again tomorrow, or raise spend.dailyUsd in config.json.`;
    const month = ledger.month(now());
    if (caps.monthlyUsd !== undefined && !(month < caps.monthlyUsd))
      return `This month's spending cap is reached (${usd(month)} of ${usd(caps.monthlyUsd)}): new tasks start again next month, or raise spend.monthlyUsd in config.json.`;
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
  // The phone's spending settings write config.json (the one place limits live), then apply at once.
  // A per-task limit of null is written as null (no limit), not removed: absent means the default.
  ctx.commands.register('spend.set', async (c) => {
    updateConfigFromCommand(ctx.paths.home, (raw) => {
      const spend = { ...((raw.spend as Record<string, unknown> | undefined) ?? {}) };
      for (const key of ['dailyUsd', 'monthlyUsd'] as const) {
        if (c[key] === null) delete spend[key];
        else if (c[key] !== undefined) spend[key] = c[key];
      }
      raw.spend = spend;
      if (c.perTaskUsd !== undefined)
        raw.agent = { ...((raw.agent as Record<string, unknown> | undefined) ?? {}), maxCostUsd: c.perTaskUsd };
    });
    ctx.reloadConfig();
    const status = ctx.status();
    await ctx.emit({ kind: 'host.updated', status });
    return { spend: status.spend };
  });
  return { ledger, blocked, status, stop: async () => unsubscribe() };
}
