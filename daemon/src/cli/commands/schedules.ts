// `errand schedules`: list, add, pause, resume, remove and run scheduled errands on the running daemon.
import { z } from 'zod';
import {
  describeWhen,
  type Occurrence,
  type Schedule,
  ScheduleFields,
  ScheduleWhen,
  skippedWords,
  timeIn,
} from '../../../../shared/src/index.js';
import { issueWords } from '../../util/issue-words.js';
import type { CliCommand, CliIO, ParsedCommandArgs } from '../command.js';
import { callDaemon } from '../daemon-client.js';
import { forTerminal } from '../terminal-text.js';

const HELP = `Usage:
  errand schedules [list] [--json]              list schedules: next run, last run and its outcome
  errand schedules add "<task>" <when> [options] save a task to run on a schedule
  errand schedules pause <id>                    stop running it until resumed
  errand schedules resume <id>                   run it again (times passed while paused are not missed)
  errand schedules remove <id>                   delete it (its thread, if it ran, stays)
  errand schedules run <id>                      run it now

When (one of):
  --daily HH:MM          every day at that time
  --weekdays HH:MM       Monday to Friday at that time
  --every <N>h           every N hours (elapsed time)
  --once "YYYY-MM-DD HH:MM"
  --cron "<expr>"        five fields (minute hour day month weekday)

Options for add:
  --title <text>         a name for the schedule and its thread (default: the task's first line)
  --tz <zone>            time zone, e.g. Europe/Paris (default: this computer's)
  --catch-up run|skip|ask  a run missed while the computer slept or Errand was down:
                         run it once if within the window (default), skip it, or ask on the phone
  --window <minutes>     how late a missed run may still be caught up (default: half the period)
  --max-cost <USD>       spending limit per run (default: agent.maxCostUsd)`;

const localZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

function when(args: ParsedCommandArgs): ScheduleWhen | string {
  const v = args.values;
  const picked: ScheduleWhen[] = [];
  if (typeof v.daily === 'string') picked.push({ kind: 'daily', time: v.daily });
  if (typeof v.weekdays === 'string') picked.push({ kind: 'weekdays', time: v.weekdays });
  if (typeof v.every === 'string') {
    const m = /^(\d+)\s*h?$/.exec(v.every.trim());
    if (!m) return `--every takes a number of hours, like 3h.`;
    picked.push({ kind: 'every', hours: Number(m[1]) });
  }
  if (typeof v.once === 'string') {
    if (!/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}$/.test(v.once.trim()))
      return `--once takes a local date and time as "YYYY-MM-DD HH:MM", like "2027-03-01 09:30" (not "${forTerminal(v.once)}").`;
    picked.push({ kind: 'once', at: v.once.trim().replace(' ', 'T') });
  }
  if (typeof v.cron === 'string') picked.push({ kind: 'cron', expr: v.cron.trim() });
  if (picked.length !== 1) return 'Say when, once: --daily, --weekdays, --every, --once or --cron.';
  // The daemon checks these too; here a bad value is a usage error (exit 2) named by its option,
  // not by the protocol's field names (when.time, when.hours).
  const checked = ScheduleWhen.safeParse(picked[0]);
  if (!checked.success) {
    const option = picked[0].kind;
    const problem = checked.error.issues[0].message
      .replace(/^Too big: expected number to be <=(\d+)$/, 'at most $1 hours')
      .replace(/^Too small: expected number to be >=(\d+)$/, 'at least $1 hour');
    return option === 'once' || option === 'cron'
      ? `--${option}: ${problem}`
      : `--${option} takes ${problem}, not "${forTerminal(String(v[option]))}".`;
  }
  return picked[0];
}

/** Who set each field, as the person typed it. */
const FIELD_NAMES: Record<string, string> = {
  text: 'The task',
  title: '--title',
  timeZone: '--tz',
  catchUp: '--catch-up',
  catchUpWindowMinutes: '--window',
  maxCostUsd: '--max-cost',
};

const ScheduleInput = z.object(ScheduleFields);

/**
 * The fields checked here with the schema the daemon checks them with, so a value over a limit is a
 * usage error (exit 2) said by the option that set it, with the limit and what to do, not the
 * protocol's field name and zod's words. The fields as checked, or what is wrong.
 */
function checkFields(fields: Record<string, unknown>): z.infer<typeof ScheduleInput> | string {
  const checked = ScheduleInput.safeParse(fields);
  if (checked.success) return checked.data;
  const issue = checked.error.issues[0];
  const field = String(issue.path[0] ?? '');
  const said = `${FIELD_NAMES[field] ?? field} ${issueWords(issue)}.`;
  if (issue.code === 'too_big' && typeof fields[field] === 'string')
    return field === 'text'
      ? `${said} Shorten it; longer instructions can go in a file the task is told to read.`
      : `${said} Shorten it.`;
  if (field === 'title') return `${said} Give it some text, or leave --title out to use the task's first line.`;
  return said;
}

/** A time zone the runtime knows (IANA names, like Europe/Paris), or the sentence saying it is not. */
function timeZoneProblem(zone: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return undefined;
  } catch {
    return `--tz takes a time zone name like Europe/Paris or America/New_York, not "${forTerminal(zone)}".`;
  }
}

function outcomeText(o: Occurrence): string {
  const count = o.count ? ` ×${o.count}` : '';
  const extra = o.ask === 'open' ? ' (asking on the phone: run or skip?)' : o.late ? ' (late)' : '';
  return `${o.outcome}${count}${extra}`;
}

/** A schedule in lines for the terminal: everything that came from a client made visible, never raw. */
export function describeSchedule(s: Schedule): string {
  const last = s.history.at(-1);
  const missed = s.history.reduce((n, o) => n + (o.outcome === 'missed' ? (o.count ?? 1) : 0), 0);
  const lines = [
    `${forTerminal(s.id)}  ${forTerminal(s.title)}  (${s.state})`,
    `    ${forTerminal(`${describeWhen(s.when)} (${s.timeZone})`)}; catch-up: ${s.catchUp}`,
    `    next: ${s.state === 'active' ? timeIn(s.nextRunAt, s.timeZone) : '—'}; last: ${
      last ? `${timeIn(last.dueAt, s.timeZone)} ${outcomeText(last)}` : 'never'
    }${missed ? `; missed recently: ${missed}` : ''}; spent $${s.spentUsd.toFixed(2)}`,
  ];
  // A next run moved by a spring-forward: say why it is not at its own time (as the phone does).
  if (s.state === 'active' && s.nextRunSkipped)
    lines.push(`    ${forTerminal(skippedWords(s.nextRunSkipped, s.nextRunAt, s.timeZone))}`);
  if (last?.reason) lines.push(`    ${forTerminal(last.reason)}`);
  return lines.join('\n');
}

async function list(args: ParsedCommandArgs, io: CliIO, json: boolean): Promise<number> {
  const r = await callDaemon(io, args.home, 'schedules.list');
  if (r === undefined) return 1;
  if (json) io.out(JSON.stringify(r.schedules, null, 2));
  else if (!r.schedules.length) io.out('No schedules yet. Add one with `errand schedules add "<task>" --daily 08:00`.');
  else io.out(r.schedules.map(describeSchedule).join('\n'));
  return 0;
}

export const schedulesCommand: CliCommand = {
  name: 'schedules',
  summary: 'List, add, pause, resume, remove or run scheduled errands',
  help: HELP,
  allowPositionals: true,
  options: {
    daily: { type: 'string' },
    weekdays: { type: 'string' },
    every: { type: 'string' },
    once: { type: 'string' },
    cron: { type: 'string' },
    title: { type: 'string' },
    tz: { type: 'string' },
    'catch-up': { type: 'string' },
    window: { type: 'string' },
    'max-cost': { type: 'string' },
  },
  async run(args, io) {
    const json = args.values.json === true;
    const [action = 'list', ...rest] = args.positionals;
    if (action === 'list') return list(args, io, json);
    if (action === 'add') {
      const text = rest.join(' ').trim();
      if (!text) {
        io.err('Usage: errand schedules add "<task>" --daily 08:00 (see `errand schedules --help`)');
        return 2;
      }
      const w = when(args);
      if (typeof w === 'string') {
        io.err(w);
        return 2;
      }
      const v = args.values;
      const num = (name: string): number | undefined | string => {
        const raw = v[name];
        if (typeof raw !== 'string') return undefined;
        const n = Number(raw);
        return Number.isFinite(n) && n > 0 ? n : `--${name} takes a positive number.`;
      };
      const window = num('window');
      const maxCost = num('max-cost');
      for (const x of [window, maxCost])
        if (typeof x === 'string') {
          io.err(x);
          return 2;
        }
      const zoneProblem = typeof v.tz === 'string' ? timeZoneProblem(v.tz) : undefined;
      if (zoneProblem) {
        io.err(zoneProblem);
        return 2;
      }
      const catchUp = v['catch-up'];
      if (catchUp !== undefined && catchUp !== 'run' && catchUp !== 'skip' && catchUp !== 'ask') {
        io.err('--catch-up is run, skip or ask.');
        return 2;
      }
      const fields = {
        text,
        when: w,
        timeZone: typeof v.tz === 'string' ? v.tz : localZone(),
        ...(typeof v.title === 'string' ? { title: v.title } : {}),
        ...(catchUp ? { catchUp } : {}),
        ...(typeof window === 'number' ? { catchUpWindowMinutes: window } : {}),
        ...(typeof maxCost === 'number' ? { maxCostUsd: maxCost } : {}),
      };
      const checked = checkFields(fields);
      if (typeof checked === 'string') {
        io.err(checked);
        return 2;
      }
      const r = await callDaemon(io, args.home, 'schedules.add', checked);
      if (r === undefined) return 1;
      io.out(json ? JSON.stringify(r.schedule, null, 2) : `Added.\n${describeSchedule(r.schedule)}`);
      return 0;
    }
    const verbs = { pause: 'Paused', resume: 'Resumed', remove: 'Removed', run: 'Started' } as const;
    const isVerb = (a: string): a is keyof typeof verbs => a in verbs;
    if (!isVerb(action)) {
      io.err(`Unknown action "${action}". Try \`errand schedules --help\`.`);
      return 2;
    }
    const id = rest[0];
    if (!id || rest.length > 1) {
      io.err(`Usage: errand schedules ${action} <id> (ids are shown by \`errand schedules\`)`);
      return 2;
    }
    const r = await callDaemon(io, args.home, `schedules.${action}`, { scheduleId: id });
    if (r === undefined) return 1;
    if (json) io.out(JSON.stringify(r, null, 2));
    else if ('taskId' in r) io.out(`Started: task ${r.taskId} in thread ${r.threadId}.`);
    else if ('schedule' in r) io.out(`${verbs[action]}.\n${describeSchedule(r.schedule)}`);
    else io.out(`Removed ${id}.${'threadId' in r && r.threadId ? ' Its thread stays.' : ''}`);
    return 0;
  },
};
