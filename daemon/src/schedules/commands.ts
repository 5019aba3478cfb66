// The schedule commands, for the phone (WebSocket commands, each one journal transaction with its
// reply) and for the CLI (control methods, each one journal transaction). Both validate with the
// schemas in shared/. A title or task text holding a secret Errand knows is refused: phones list
// schedules, and each run hands the text to the model.
import crypto from 'node:crypto';
import { z } from 'zod';
import { MAX_SCHEDULES, type Schedule, ScheduleFields, type ScheduleWhen } from '../../../shared/src/index.js';
import { titleFrom } from '../agent/records.js';
import type { DaemonContext } from '../context.js';
import type { ScheduleStore } from '../store/schedules.js';
import { CommandError } from '../util/command-error.js';
import { issueSentence } from '../util/issue-words.js';
import { stripControl } from '../util/text.js';
import type { ScheduleEngine } from './engine.js';
import { hostTimeZone, nextDue, whenProblem } from './timing.js';
import { timingChanged } from './timing-changed.js';

/** Why a schedule was not saved when its words hold a known secret (the agent's tool says it too). */
export const SECRET_IN_SCHEDULE =
  'its title or task holds a secret Errand knows (an API key, signing key or token). Errand never stores its own secrets in schedules: every paired phone shows them and every run sends the task to the model.';

export const newScheduleId = () => `sch_${crypto.randomBytes(8).toString('base64url')}`;

type Fields = { [K in keyof typeof ScheduleFields]?: z.infer<(typeof ScheduleFields)[K]> };
/** What an edit may set: as for a new schedule, and `maxCostUsd: null` removes the schedule's own limit. */
type EditFields = Omit<Fields, 'maxCostUsd'> & { maxCostUsd?: number | null };

function cleanTitle(title: string | undefined, text: string): string {
  const t = stripControl(title ?? '')
    .trim()
    .slice(0, 80);
  return t || titleFrom(stripControl(text));
}

/** Check a rhythm and its time zone; a one-off must still be ahead. */
function checkTiming(s: Pick<Schedule, 'when' | 'timeZone' | 'accountedUntil'>): void {
  const problem = whenProblem(s.when, s.timeZone);
  if (problem) throw new CommandError('bad_request', problem);
  if (nextDue(s) === undefined)
    throw new CommandError(
      'bad_request',
      s.when.kind === 'once'
        ? 'That time has already passed: pick a time in the future.'
        : // Nothing passed: the rhythm names a date that never comes (30 February).
          'This rhythm never matches a real date (like 30 February): pick a day that exists.',
    );
}

/** Where a new schedule's text came from: a task that had read untrusted content (agent-tool.ts). */
export interface ScheduleOrigin {
  fromUntrusted?: boolean;
}

export function makeSchedule(
  f: Fields & { text: string; when: ScheduleWhen },
  now: number,
  origin: ScheduleOrigin = {},
): Schedule {
  const s: Schedule = {
    id: newScheduleId(),
    title: cleanTitle(f.title, f.text),
    text: f.text,
    when: f.when,
    timeZone: f.timeZone ?? hostTimeZone(),
    catchUp: f.catchUp ?? 'run',
    ...(f.catchUpWindowMinutes ? { catchUpWindowMinutes: f.catchUpWindowMinutes } : {}),
    ...(f.maxCostUsd ? { maxCostUsd: f.maxCostUsd } : {}),
    state: 'active',
    createdAt: now,
    updatedAt: now,
    accountedUntil: now,
    history: [],
    spentUsd: 0,
    ...(origin.fromUntrusted ? { fromUntrusted: true } : {}),
  };
  checkTiming(s);
  return s;
}

export interface ScheduleOps {
  list(): Schedule[];
  create(f: Fields & { text: string; when: ScheduleWhen }, origin?: ScheduleOrigin): Promise<Schedule>;
  update(id: string, f: EditFields): Promise<Schedule>;
  pause(id: string): Promise<Schedule>;
  resume(id: string): Promise<Schedule>;
  remove(id: string): Promise<{ removed: string; threadId?: string }>;
  run(id: string): Promise<{ schedule: Schedule; taskId: string; threadId: string }>;
  decide(id: string, occurrenceId: string, decision: 'run' | 'skip'): Promise<Schedule>;
}

export function scheduleOps(
  engine: ScheduleEngine,
  store: ScheduleStore,
  now: () => number,
  /** The schedule's thread follows its name (pushes and the thread list name the schedule). */
  retitle?: (threadId: string, title: string) => Promise<void>,
): ScheduleOps {
  const missing = () => new CommandError('not_found', 'There is no such schedule.');
  const need = <T>(v: T | undefined): T => {
    if (v === undefined) throw missing();
    return v;
  };
  const setState = async (id: string, state: 'active' | 'paused') => {
    const s = need(store.get(id));
    if (s.state === 'ended') throw new CommandError('conflict', 'This schedule has ended (its one time has passed).');
    return need(await engine.edit(id, (x) => ({ ...x, state })));
  };
  return {
    list: () => store.list(),
    async create(f, origin) {
      const added = await engine.add(makeSchedule(f, now(), origin), MAX_SCHEDULES);
      if (!added)
        throw new CommandError(
          'conflict',
          `There are already ${MAX_SCHEDULES.toLocaleString('en-US')} schedules, the most Errand keeps. Remove ones you no longer need (ended ones count too), then add this one again.`,
        );
      return added;
    },
    async update(id, f) {
      need(store.get(id));
      let before: Schedule | undefined;
      // Applied inside the engine's queue to the schedule as it is then: a run or its end recorded
      // while this edit waited (history, spend, next run) is kept, not overwritten by an older copy.
      const change = (s: Schedule): Schedule => {
        before = s;
        // An edit keeps `fromUntrusted` (spread from s): text first written from untrusted content may
        // still carry its instructions after the user changed its time or some of its words.
        // null: the schedule's own limit goes, and its runs have the per-task limit (agent.maxCostUsd).
        const { maxCostUsd: _dropped, ...kept } = s;
        const changed: Schedule = {
          ...(f.maxCostUsd === null ? kept : s),
          ...(f.text !== undefined ? { text: f.text } : {}),
          ...(f.when !== undefined ? { when: f.when } : {}),
          ...(f.timeZone !== undefined ? { timeZone: f.timeZone } : {}),
          ...(f.catchUp !== undefined ? { catchUp: f.catchUp } : {}),
          ...(f.catchUpWindowMinutes !== undefined ? { catchUpWindowMinutes: f.catchUpWindowMinutes } : {}),
          ...(typeof f.maxCostUsd === 'number' ? { maxCostUsd: f.maxCostUsd } : {}),
        };
        if (f.title !== undefined) changed.title = cleanTitle(f.title, changed.text);
        // Only a real change of time is checked (a rename of a one-off that has run is not "in the past").
        if (timingChanged(s, changed)) {
          // Thrown here, the edit is refused before anything is saved.
          checkTiming({ ...changed, accountedUntil: Math.max(s.accountedUntil, now()) });
          // A one-off moved to a new time runs again.
          if (changed.state === 'ended') changed.state = 'active';
        }
        return changed;
      };
      const saved = need(await engine.edit(id, change));
      if (before && saved.title !== before.title && saved.threadId && retitle)
        await retitle(saved.threadId, saved.title);
      return saved;
    },
    pause: (id) => setState(id, 'paused'),
    resume: (id) => setState(id, 'active'),
    async remove(id) {
      // A schedule that never ran has no thread to keep.
      const threadId = store.get(id)?.threadId;
      if (!(await engine.remove(id))) throw missing();
      return { removed: id, ...(threadId ? { threadId } : {}) };
    },
    async run(id) {
      const r = await engine.runNow(id);
      if (r === undefined) throw missing();
      if (r === 'busy') throw new CommandError('conflict', 'The previous run of this schedule is still going.');
      if ('refused' in r) throw new CommandError('forbidden', r.refused);
      return { schedule: r.schedule, taskId: r.occurrence.taskId!, threadId: r.schedule.threadId! };
    },
    async decide(id, occurrenceId, decision) {
      const r = await engine.decide(id, occurrenceId, decision);
      if (r === undefined) throw missing();
      if (r === 'not_open') throw new CommandError('conflict', 'That missed run was already decided or has passed.');
      if (r === 'busy') throw new CommandError('conflict', 'The previous run of this schedule is still going.');
      if ('refused' in r) throw new CommandError('forbidden', r.refused);
      return r;
    },
  };
}

const ControlCreate = z.object(ScheduleFields).strict();
const ControlUpdate = z
  .object({
    scheduleId: z.string().min(1).max(128),
    ...ScheduleFields,
    maxCostUsd: ScheduleFields.maxCostUsd.unwrap().nullable().optional(),
  })
  .partial({ text: true, when: true })
  .strict();
const ControlId = z.object({ scheduleId: z.string().min(1).max(128) }).strict();

/**
 * Phone commands and CLI control methods. `redactor` takes the secrets Errand knows out of a text
 * (the tools runtime's): a title or task it would change is refused before anything is saved.
 */
export function registerScheduleCommands(
  ctx: DaemonContext,
  ops: ScheduleOps,
  redactor?: () => ((text: string) => string) | undefined,
): void {
  const refuseSecret = (f: { text?: string; title?: string }) => {
    const redact = redactor?.();
    if (redact && [f.text, f.title].some((t) => t !== undefined && redact(t) !== t))
      throw new CommandError('bad_request', `Not saved: ${SECRET_IN_SCHEDULE} Remove the key, then save again.`);
  };
  const c = ctx.commands;
  c.register('schedules.list', async () => ({ schedules: ops.list() }));
  c.register('schedule.create', async (cmd) => {
    refuseSecret(cmd);
    return { schedule: await ops.create(cmd) };
  });
  c.register('schedule.update', async ({ scheduleId, ...f }) => {
    refuseSecret(f);
    return { schedule: await ops.update(scheduleId, f) };
  });
  c.register('schedule.pause', async (cmd) => ({ schedule: await ops.pause(cmd.scheduleId) }));
  c.register('schedule.resume', async (cmd) => ({ schedule: await ops.resume(cmd.scheduleId) }));
  c.register('schedule.delete', async (cmd) => ops.remove(cmd.scheduleId));
  c.register('schedule.run', async (cmd) => ops.run(cmd.scheduleId));
  c.register('schedule.decide', async (cmd) => ({
    schedule: await ops.decide(cmd.scheduleId, cmd.occurrenceId, cmd.decision),
  }));

  // The CLI: same operations; each change is one journal record with its event (undone in memory
  // when it cannot be written, as a phone command is).
  const tx = <T>(fn: () => Promise<T>) => ctx.store.journal.transaction(fn, undefined, { undoable: true });
  const parse = <S extends z.ZodTypeAny>(schema: S, p: unknown): z.infer<S> => {
    const r = schema.safeParse(p);
    if (!r.success) throw new Error(r.error.issues.map((i) => issueSentence(i)).join('; '));
    return r.data;
  };
  const ctl = ctx.control;
  ctl.register('schedules.list', async () => ({ schedules: ops.list() }));
  ctl.register('schedules.add', (p) =>
    tx(async () => {
      const f = parse(ControlCreate, p);
      refuseSecret(f);
      return { schedule: await ops.create(f) };
    }),
  );
  ctl.register('schedules.update', (p) =>
    tx(async () => {
      const { scheduleId, ...f } = parse(ControlUpdate, p);
      refuseSecret(f);
      return { schedule: await ops.update(scheduleId, f) };
    }),
  );
  ctl.register('schedules.pause', (p) =>
    tx(async () => ({ schedule: await ops.pause(parse(ControlId, p).scheduleId) })),
  );
  ctl.register('schedules.resume', (p) =>
    tx(async () => ({ schedule: await ops.resume(parse(ControlId, p).scheduleId) })),
  );
  ctl.register('schedules.remove', (p) => tx(() => ops.remove(parse(ControlId, p).scheduleId)));
  ctl.register('schedules.run', (p) => tx(() => ops.run(parse(ControlId, p).scheduleId)));
}
