// The agent's schedule tool: "every Monday remind me..." becomes a schedule only after the user
// confirms it on the phone (an approval naming the exact schedule, pushed like any other). The tool
// is added in front of the tools runtime; every other call passes through unchanged.
import crypto from 'node:crypto';
import { z } from 'zod';
import { CatchUpRule, describeWhen, MAX_SCHEDULES, ScheduleWhen, timeIn } from '../../../shared/src/index.js';
import type { ModelToolDefinition, ToolCallOutcome, ToolRuntime } from '../agent/tool-runtime.js';
import type { Journal } from '../store/journal.js';
import { type Approvals, deniedAdvice } from '../tools/approvals.js';
import { issueSentence } from '../util/issue-words.js';
import { makeSchedule, type ScheduleOps, SECRET_IN_SCHEDULE } from './commands.js';
import { hostTimeZone, nextDue } from './timing.js';

export const SCHEDULE_TOOL = 'schedule_create';

/** In front of the card's sentence when the asking task had read untrusted content. */
export const UNTRUSTED_WARNING =
  'Caution: this task text was written after the conversation read untrusted content (a web page, a received file or connector output) and may carry its instructions; every run starts as untrusted. Read the task each run follows before approving. ';

const definition: ModelToolDefinition = {
  name: SCHEDULE_TOOL,
  // Started only once confirmed (willRun): a daemon killed while the card waited leaves it unrun.
  reportsStart: true,
  description:
    'Save a task that runs on a schedule, when the user asks for something recurring or later ("every weekday at 8 summarise my inbox", "every Monday remind me..."). ' +
    "Times are in the user's time zone. The user confirms it on their phone before it exists; each run happens in the schedule's own thread.",
  input_schema: {
    type: 'object',
    properties: {
      task: { type: 'string', description: 'What to do at each run, written as the instruction for that run.' },
      title: { type: 'string', description: 'A short name (up to 80 characters).' },
      when: {
        type: 'object',
        description:
          'One of: {"kind":"daily","time":"HH:MM"}, {"kind":"weekdays","time":"HH:MM"}, {"kind":"every","hours":N}, {"kind":"once","at":"YYYY-MM-DDTHH:MM"}, {"kind":"cron","expr":"minute hour day month weekday"}.',
      },
      catchUp: {
        type: 'string',
        enum: ['run', 'skip', 'ask'],
        description: 'A run missed while the computer slept: run it once when back (default), skip it, or ask.',
      },
    },
    required: ['task', 'when'],
  },
};

const Input = z.object({
  task: z.string().trim().min(1).max(20_000),
  title: z.string().trim().min(1).max(80).optional(),
  when: ScheduleWhen,
  catchUp: CatchUpRule.optional(),
});

const fail = (text: string, state: ToolCallOutcome['state'] = 'error'): ToolCallOutcome => ({
  content: [{ type: 'text', text }],
  isError: true,
  state,
});

export interface ScheduleToolDeps {
  approvals: Approvals;
  journal: Journal;
  /** Set once the schedules module has started. */
  ops: () => ScheduleOps | undefined;
}

export function withScheduleTool<T extends ToolRuntime>(inner: T, deps: ScheduleToolDeps): ToolRuntime {
  return {
    definitions: () => [...inner.definitions(), definition],
    summarize: (name, input) => {
      if (name !== SCHEDULE_TOOL) return inner.summarize(name, input);
      const p = Input.safeParse(input);
      return p.success ? `Schedule: ${describeWhen(p.data.when)}` : 'Schedule a task';
    },
    promptContext: () => inner.promptContext(),
    ...(inner.changedFiles ? { changedFiles: (taskId: string) => inner.changedFiles!(taskId) } : {}),
    ...(inner.askToContinue ? { askToContinue: inner.askToContinue.bind(inner) } : {}),
    ...(inner.notedFiles ? { notedFiles: inner.notedFiles.bind(inner) } : {}),
    ...(inner.redactor ? { redactor: inner.redactor.bind(inner) } : {}),
    async run(call, ctx) {
      if (call.name !== SCHEDULE_TOOL) return inner.run(call, ctx);
      const ops = deps.ops();
      if (!ops) return fail('Schedules are not available right now; tell the user to try again in a moment.');
      const p = Input.safeParse(call.input);
      if (!p.success)
        return fail(
          `The schedule is not valid: ${p.error.issues.map((i) => issueSentence(i)).join('; ')}. Fix it and call ${SCHEDULE_TOOL} again.`,
        );
      // Refused, not redacted: the card would show [redacted], so the person could not see what they
      // approve, and every run would hand the secret to the model again.
      const redact = inner.redactor?.();
      if (redact && [p.data.task, p.data.title ?? ''].some((t) => redact(t) !== t))
        return fail(
          `No schedule was created: ${SECRET_IN_SCHEDULE} Write the title and task without it and call ${SCHEDULE_TOOL} again; a run can read what it needs from the user's files.`,
        );
      const fields = {
        text: p.data.task,
        when: p.data.when,
        timeZone: hostTimeZone(),
        ...(p.data.title ? { title: p.data.title } : {}),
        ...(p.data.catchUp ? { catchUp: p.data.catchUp } : {}),
      };
      // Text written after the task read untrusted content may be that content's instructions: the
      // schedule keeps saying so, and each of its runs starts untrusted (taint follows the text).
      const origin = ctx.tainted ? { fromUntrusted: true } : {};
      let draft: ReturnType<typeof makeSchedule>;
      try {
        draft = makeSchedule(fields, Date.now(), origin);
      } catch (err) {
        return fail(`${(err as Error).message} Fix it and call ${SCHEDULE_TOOL} again.`);
      }
      // Not worth the user's approval when it could not be saved anyway.
      if (ops.list().length >= MAX_SCHEDULES)
        return fail(
          `No schedule was created: there are already ${MAX_SCHEDULES} schedules, the most Errand keeps. Tell the user to remove ones they no longer need.`,
        );
      const summary = `${ctx.tainted ? UNTRUSTED_WARNING : ''}Create schedule "${draft.title}": ${describeWhen(draft.when)} (${draft.timeZone}), first run ${timeIn(nextDue(draft), draft.timeZone)}?`;
      const action = {
        title: draft.title,
        task: draft.text,
        when: draft.when,
        timeZone: draft.timeZone,
        catchUp: draft.catchUp,
        ...(draft.fromUntrusted ? { fromUntrusted: true } : {}),
      };
      const hash = crypto.createHash('sha256').update(JSON.stringify(action)).digest('hex');
      ctx.describe?.(`Schedule "${draft.title}": ${describeWhen(draft.when)}`);
      await ctx.setWaiting(true);
      let outcome: Awaited<ReturnType<Approvals['request']>>;
      try {
        outcome = await deps.approvals.request({
          taskId: ctx.taskId,
          threadId: ctx.threadId,
          tool: SCHEDULE_TOOL,
          summary,
          action,
          hash,
          actionClass: `${SCHEDULE_TOOL}:${hash}`,
          signal: ctx.signal,
          // A decision on this call stands after a crash (approvals.ts KeptDecision).
          callId: call.id,
        });
      } finally {
        if (!ctx.signal.aborted) await ctx.setWaiting(false);
      }
      if (outcome.result === 'deny')
        return fail(
          `The user declined on their phone; no schedule was created. ${deniedAdvice(outcome, '')}`.trim(),
          'denied',
        );
      if (outcome.result !== 'approve' && outcome.result !== 'allow_task')
        return fail(
          `No schedule was created: the confirmation ${outcome.result === 'expired' ? 'expired' : 'was cancelled'}.`,
          'denied',
        );
      try {
        await ctx.willRun?.();
      } catch (err) {
        return fail(`No schedule was created: ${(err as Error).message}.`, 'denied');
      }
      try {
        const made = await deps.journal.transaction(() => ops.create(fields, origin));
        return {
          content: [
            {
              type: 'text',
              text: `Created schedule ${made.id} "${made.title}": ${describeWhen(made.when)} (${made.timeZone}); next run ${timeIn(made.nextRunAt, made.timeZone)}. Each run goes to its own thread.`,
            },
          ],
          isError: false,
          state: 'completed',
          summary: `Scheduled "${made.title}": ${describeWhen(made.when)}`,
        };
      } catch (err) {
        return fail(`The schedule could not be saved: ${(err as Error).message}`);
      }
    },
  };
}
