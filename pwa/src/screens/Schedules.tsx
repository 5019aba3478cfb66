// Schedules: saved tasks that run on a calendar. Each shows its rhythm, next run, last run and its
// outcome, and its history (every occurrence accounted for: ran, missed, skipped…); run now, pause,
// resume, delete, answer a missed run's "run now?", and add a new one. Spend today and this month.
// Before any schema is built or used: no code generation in zod (the CSP has no 'unsafe-eval').
import '../conn/zod-config.js';
import { useEffect, useRef, useState } from 'preact/hooks';
import { z } from 'zod';
import {
  describeWhen,
  type Occurrence,
  OUTCOME_WORDS,
  Schedule,
  type ScheduleWhen,
  skippedWords,
  timeIn,
} from '../../../shared/src/index.js';
import { visibleProse } from '../../../shared/src/visible-text.js';
import { onEvent, request } from '../conn/connection.js';
import { DOLLARS_HINT, typedDollars } from '../lib/dollars.js';
import { back, navigate } from '../lib/route.js';
import { scheduleEdit } from '../lib/schedule-edit.js';
import { appStore, connStore } from '../state/app.js';
import { useStore } from '../state/store.js';
import { ErrorText, Header, IconButton } from '../ui/common.js';
import { refocusWhenGone } from '../ui/focus.js';

const ListResult = z.object({ schedules: z.array(Schedule) });
const OneResult = z.object({ schedule: Schedule });

function upsert(list: Schedule[] | undefined, s: Schedule): Schedule[] {
  const rest = (list ?? []).filter((x) => x.id !== s.id);
  return [...rest, s].sort((a, b) => a.createdAt - b.createdAt);
}

function occurrenceLine(o: Occurrence, zone: string): string {
  const when = timeIn(o.dueAt, zone);
  const what = `${OUTCOME_WORDS[o.outcome]}${o.count ? ` ×${o.count}` : ''}${o.late ? ' (late)' : ''}${o.manual ? ' (run now)' : ''}`;
  return `${when} · ${what}${o.reason ? ` — ${o.reason}` : ''}`;
}

/** Spend so far and the limits (per task, per day, per month); on the Schedules screen and in Settings. */
export function Spend() {
  const spend = useStore(appStore, (s) => s.host?.spend);
  const online = useStore(connStore, (c) => c.status === 'online');
  const [daily, setDaily] = useState('');
  const [monthly, setMonthly] = useState('');
  const [perTask, setPerTask] = useState('');
  const [msg, setMsg] = useState<string>();
  const [error, setError] = useState<string>();
  // The host's figures fill the fields, except over edits not saved yet: the answer to a save can
  // arrive after the person has typed again, and must not put the old figure back.
  const edits = useRef(0);
  const savedEdits = useRef(0);
  const typed = (set: (v: string) => void) => (e: { currentTarget: HTMLInputElement }) => {
    edits.current++;
    set(e.currentTarget.value);
  };
  useEffect(() => {
    if (edits.current !== savedEdits.current) return;
    setDaily(spend?.dailyCapUsd?.toString() ?? '');
    setMonthly(spend?.monthlyCapUsd?.toString() ?? '');
    setPerTask(spend?.perTaskUsd?.toString() ?? '');
  }, [spend?.dailyCapUsd, spend?.monthlyCapUsd, spend?.perTaskUsd]);
  // Spend moves as tasks run: fresh figures each time the screen opens.
  useEffect(() => {
    if (!online) return;
    request({ type: 'status.get' }).then(
      (host) => appStore.set((s) => ({ ...s, host })),
      () => undefined,
    );
  }, [online]);
  if (!spend) return null;
  const cap = (n: number | undefined) => (n === undefined ? '' : ` of $${n.toFixed(2)}`);
  const save = async (e: Event) => {
    e.preventDefault();
    setMsg(undefined);
    setError(undefined);
    const fields = [
      { name: 'The per-task limit', typed: typedDollars(perTask) },
      { name: 'The daily cap', typed: typedDollars(daily) },
      { name: 'The monthly cap', typed: typedDollars(monthly) },
    ];
    const wrong = fields.find((f) => f.typed.kind === 'invalid');
    if (wrong) {
      setError(`${wrong.name} is ${DOLLARS_HINT} (leave it empty for none).`);
      return;
    }
    // Only an empty field removes a limit (null); what is not an amount never reaches the computer.
    const [t, d, m] = fields.map((f) => (f.typed.kind === 'amount' ? f.typed.usd : null));
    const covered = edits.current;
    try {
      await request({ type: 'spend.set', dailyUsd: d, monthlyUsd: m, perTaskUsd: t });
      savedEdits.current = covered;
      setMsg('Saved.');
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section class="card" aria-labelledby="sch-spend">
      <h2 id="sch-spend">Spending</h2>
      <p>
        Today ${spend.todayUsd.toFixed(2)}
        {cap(spend.dailyCapUsd)} · this month ${spend.monthUsd.toFixed(2)}
        {cap(spend.monthlyCapUsd)}
      </p>
      {spend.blocked && (
        <p class="error" role="alert">
          {spend.blocked}
        </p>
      )}
      <form class="stack" onSubmit={save}>
        <label for="cap-task">Per task: pause and ask at ($, empty for none)</label>
        <input id="cap-task" inputMode="decimal" value={perTask} onInput={typed(setPerTask)} />
        <label for="cap-day">Daily cap ($, empty for none)</label>
        <input id="cap-day" inputMode="decimal" value={daily} onInput={typed(setDaily)} />
        <label for="cap-month">Monthly cap ($, empty for none)</label>
        <input id="cap-month" inputMode="decimal" value={monthly} onInput={typed(setMonthly)} />
        <div class="btn-row">
          <button type="submit" disabled={!online}>
            Save spending limits
          </button>
        </div>
        {msg && (
          <p class="muted" role="status">
            {msg}
          </p>
        )}
        <ErrorText error={error} />
      </form>
    </section>
  );
}

function ScheduleCard({ s, onError }: { s: Schedule; onError: (e: string | undefined) => void }) {
  const [open, setOpen] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  // The model's words (the schedule tool) or the person's: hidden characters (tag text) shown as markers.
  const title = visibleProse(s.title);
  const last = s.history.at(-1);
  const asks = s.history.filter((o) => o.ask === 'open');
  const act = async (fn: () => Promise<unknown>) => {
    setBusy(true);
    onError(undefined);
    try {
      await fn();
    } catch (e) {
      onError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li class="card schedule" data-schedule={s.id}>
      <h3>{title}</h3>
      <p class="muted">
        {describeWhen(s.when)} · {s.timeZone}
        {/* Running as planned needs no word; a paused or ended schedule says so plainly. */}
        {s.state === 'paused' ? ' · Paused' : s.state === 'ended' ? ' · Ended' : ''}
      </p>
      <dl class="facts">
        <dt>Next run</dt>
        <dd>
          {s.state === 'active' ? timeIn(s.nextRunAt, s.timeZone) : s.state === 'paused' ? 'Paused' : 'Ended'}
          {s.state === 'active' && s.nextRunSkipped && (
            <p class="muted">{skippedWords(s.nextRunSkipped, s.nextRunAt, s.timeZone)}</p>
          )}
        </dd>
        <dt>Last run</dt>
        <dd>{last ? occurrenceLine(last, s.timeZone) : 'Not yet'}</dd>
        <dt>Spent</dt>
        <dd>${s.spentUsd.toFixed(2)}</dd>
      </dl>
      {asks.map((o) => (
        <section class="notice" aria-label={`Missed run ${timeIn(o.dueAt, s.timeZone)}`} key={o.id}>
          <p>
            {timeIn(o.dueAt, s.timeZone)} was missed{o.reason ? ` (${o.reason.replace(/\.$/, '')})` : ''}. Run it now?
          </p>
          <div class="btn-row">
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                void act(() =>
                  request({ type: 'schedule.decide', scheduleId: s.id, occurrenceId: o.id, decision: 'run' }),
                )
              }
            >
              Run
            </button>
            <button
              type="button"
              disabled={busy}
              onClick={() =>
                void act(() =>
                  request({ type: 'schedule.decide', scheduleId: s.id, occurrenceId: o.id, decision: 'skip' }),
                )
              }
            >
              Skip
            </button>
          </div>
        </section>
      ))}
      <div class="btn-row">
        <button
          type="button"
          disabled={busy}
          aria-label={`Run ${title} now`}
          onClick={() => void act(() => request({ type: 'schedule.run', scheduleId: s.id }))}
        >
          Run now
        </button>
        {s.state === 'active' && (
          <button
            type="button"
            disabled={busy}
            aria-label={`Pause ${title}`}
            onClick={() => void act(() => request({ type: 'schedule.pause', scheduleId: s.id }))}
          >
            Pause
          </button>
        )}
        {s.state === 'paused' && (
          <button
            type="button"
            disabled={busy}
            aria-label={`Resume ${title}`}
            onClick={() => void act(() => request({ type: 'schedule.resume', scheduleId: s.id }))}
          >
            Resume
          </button>
        )}
        {s.threadId && (
          <button type="button" onClick={() => navigate({ name: 'thread', id: s.threadId! })}>
            Open thread
          </button>
        )}
        <button type="button" aria-expanded={editing} aria-label={`Edit ${title}`} onClick={() => setEditing(!editing)}>
          Edit
        </button>
        <button type="button" aria-expanded={open} onClick={() => setOpen(!open)}>
          History ({s.history.length})
        </button>
        {confirm ? (
          <button
            type="button"
            class="danger"
            disabled={busy}
            aria-label={`Confirm delete ${title}`}
            onClick={() =>
              void act(async () => {
                await request({ type: 'schedule.delete', scheduleId: s.id });
                refocusWhenGone(screenHeading);
              })
            }
          >
            Delete?
          </button>
        ) : (
          <button type="button" aria-label={`Delete ${title}`} onClick={() => setConfirm(true)}>
            Delete
          </button>
        )}
      </div>
      {editing && <ScheduleForm initial={s} onDone={() => setEditing(false)} />}
      {open && (
        <ol class="history" aria-label={`History of ${title}`}>
          {[...s.history].reverse().map((o) => (
            <li key={o.id}>{occurrenceLine(o, s.timeZone)}</li>
          ))}
          {!s.history.length && <li class="muted">Nothing yet.</li>}
        </ol>
      )}
    </li>
  );
}

/** Where focus goes once a deleted schedule's row, or a saved form, has gone. */
const screenHeading = () => [document.querySelector<HTMLElement>('header.top h1')];
const savedRow = (id: string) => document.querySelector<HTMLElement>(`[data-schedule="${CSS.escape(id)}"] h3`);

type Kind = ScheduleWhen['kind'];
/**
 * What a form error is about; it goes when that input changes. A refusal from the computer is about
 * the whole form ('all'): any change makes it describe something no longer on screen.
 */
type ErrorAbout = 'when' | 'limit' | 'all';

/** Create a schedule, or edit `initial` (rhythm changes count from now). */
function ScheduleForm({ initial, onDone }: { initial?: Schedule; onDone: (s: Schedule) => void }) {
  const w = initial?.when;
  const [text, setText] = useState(initial?.text ?? '');
  const [title, setTitle] = useState(initial?.title ?? '');
  const [kind, setKind] = useState<Kind>(w?.kind ?? 'daily');
  const [time, setTime] = useState(w?.kind === 'daily' || w?.kind === 'weekdays' ? w.time : '08:00');
  const [hours, setHours] = useState(w?.kind === 'every' ? String(w.hours) : '3');
  const [at, setAt] = useState(w?.kind === 'once' ? w.at : '');
  const [expr, setExpr] = useState(w?.kind === 'cron' ? w.expr : '0 8 * * 1');
  const [catchUp, setCatchUp] = useState<'run' | 'skip' | 'ask'>(initial?.catchUp ?? 'run');
  const [limit, setLimit] = useState(initial?.maxCostUsd?.toString() ?? '');
  const [error, setError] = useState<{ text: string; about: ErrorAbout }>();
  const [busy, setBusy] = useState(false);
  const p = initial ? `sch-${initial.id}` : 'sch-new';
  const edited = (what: ErrorAbout | 'other') =>
    setError((e) => (e && (e.about === what || e.about === 'all') ? undefined : e));
  const when = (): ScheduleWhen => {
    if (kind === 'every') return { kind, hours: Number(hours) };
    if (kind === 'once') return { kind, at };
    if (kind === 'cron') return { kind, expr };
    return { kind, time };
  };
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    if (kind === 'once' && !at) {
      setError({ text: 'Pick a date and time for this run.', about: 'when' });
      return;
    }
    const typed = typedDollars(limit);
    if (typed.kind === 'invalid') {
      setError({
        text: `The limit per run is ${DOLLARS_HINT} (leave it empty for the per-task limit).`,
        about: 'limit',
      });
      return;
    }
    const maxCostUsd = typed.kind === 'amount' ? typed.usd : undefined;
    setBusy(true);
    const fields = {
      text: text.trim(),
      when: when(),
      catchUp,
      ...(title.trim() ? { title: title.trim() } : {}),
      ...(maxCostUsd ? { maxCostUsd } : {}),
    };
    try {
      const r = OneResult.parse(
        await (initial
          ? // Only what changed: a rename is not a new time.
            request({
              type: 'schedule.update',
              scheduleId: initial.id,
              ...scheduleEdit(initial, {
                text: fields.text,
                title: title.trim(),
                when: fields.when,
                catchUp,
                maxCostUsd,
              }),
            })
          : request({
              type: 'schedule.create',
              ...fields,
              timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone,
            })),
      );
      onDone(r.schedule);
      // The form goes: focus goes to the row of what was saved (the screen's heading until it shows).
      refocusWhenGone(() => [savedRow(r.schedule.id), ...screenHeading()]);
    } catch (err) {
      setError({ text: (err as Error).message, about: 'all' });
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="card stack" onSubmit={submit} aria-labelledby={`${p}-h`}>
      <h2 id={`${p}-h`}>{initial ? `Edit ${visibleProse(initial.title)}` : 'New schedule'}</h2>
      <label for={`${p}-text`}>Task</label>
      <textarea
        id={`${p}-text`}
        rows={3}
        value={text}
        placeholder="Summarise what landed in Inbox"
        onInput={(e) => {
          setText(e.currentTarget.value);
          edited('other');
        }}
      />
      <label for={`${p}-title`}>Name (optional)</label>
      <input
        id={`${p}-title`}
        value={title}
        maxLength={80}
        onInput={(e) => {
          setTitle(e.currentTarget.value);
          edited('other');
        }}
      />
      <label for={`${p}-kind`}>When</label>
      <select
        id={`${p}-kind`}
        value={kind}
        onChange={(e) => {
          setKind(e.currentTarget.value as Kind);
          edited('when');
        }}
      >
        <option value="daily">Every day at…</option>
        <option value="weekdays">Weekdays at…</option>
        <option value="every">Every N hours</option>
        <option value="once">Once at…</option>
        <option value="cron">Cron expression</option>
      </select>
      {(kind === 'daily' || kind === 'weekdays') && (
        <>
          <label for={`${p}-time`}>Time</label>
          <input
            id={`${p}-time`}
            type="time"
            value={time}
            onInput={(e) => {
              setTime(e.currentTarget.value);
              edited('when');
            }}
          />
        </>
      )}
      {kind === 'every' && (
        <>
          <label for={`${p}-hours`}>Hours between runs</label>
          <input
            id={`${p}-hours`}
            type="number"
            min={1}
            max={168}
            value={hours}
            onInput={(e) => {
              setHours(e.currentTarget.value);
              edited('when');
            }}
          />
        </>
      )}
      {kind === 'once' && (
        <>
          <label for={`${p}-at`}>Date and time</label>
          <input
            id={`${p}-at`}
            type="datetime-local"
            value={at}
            onInput={(e) => {
              setAt(e.currentTarget.value);
              edited('when');
            }}
          />
        </>
      )}
      {kind === 'cron' && (
        <>
          <label for={`${p}-cron`}>Cron expression (minute hour day month weekday)</label>
          <input
            id={`${p}-cron`}
            value={expr}
            onInput={(e) => {
              setExpr(e.currentTarget.value);
              edited('when');
            }}
          />
        </>
      )}
      <label for={`${p}-catch`}>If a run is missed (computer asleep or off)</label>
      <select
        id={`${p}-catch`}
        value={catchUp}
        onChange={(e) => {
          setCatchUp(e.currentTarget.value as 'run' | 'skip' | 'ask');
          edited('other');
        }}
      >
        <option value="run">Run it once when back, if not too late</option>
        <option value="skip">Skip it</option>
        <option value="ask">Ask me</option>
      </select>
      <label for={`${p}-limit`}>Spending limit per run ($, empty for the per-task limit)</label>
      <input
        id={`${p}-limit`}
        inputMode="decimal"
        value={limit}
        onInput={(e) => {
          setLimit(e.currentTarget.value);
          edited('limit');
        }}
      />
      <ErrorText error={error?.text} />
      <div class="btn-row">
        <button type="submit" disabled={busy || !text.trim()}>
          Save schedule
        </button>
      </div>
    </form>
  );
}

export default function SchedulesScreen() {
  const online = useStore(connStore, (c) => c.status === 'online');
  const [list, setList] = useState<Schedule[]>();
  const [error, setError] = useState<string>();
  const [adding, setAdding] = useState(false);
  useEffect(() => {
    if (!online) return;
    request({ type: 'schedules.list' }).then(
      (r) => setList(ListResult.parse(r).schedules),
      (e: Error) => setError(e.message),
    );
  }, [online]);
  useEffect(
    () =>
      onEvent((ev) => {
        if (ev.kind === 'schedule.updated') setList((l) => upsert(l, ev.schedule));
        else if (ev.kind === 'schedule.removed') setList((l) => l?.filter((s) => s.id !== ev.scheduleId));
      }),
    [],
  );
  return (
    <div class="screen">
      <Header
        title="Schedules"
        left={<IconButton icon="back" label="Back" onClick={() => back()} />}
        right={<IconButton icon="plus" label="New schedule" onClick={() => setAdding(!adding)} />}
      />
      <main class="pad schedules">
        {adding && (
          <ScheduleForm
            onDone={(s) => {
              setList((l) => upsert(l, s));
              setAdding(false);
            }}
          />
        )}
        <Spend />
        <ErrorText error={error} />
        {!list ? (
          <p class="muted">{online ? 'Loading…' : 'Shown when your computer is reachable.'}</p>
        ) : list.length === 0 ? (
          <p class="muted">No schedules yet. Tap + to run a task every morning, on weekdays, or every few hours.</p>
        ) : (
          <ul class="schedule-list" aria-label="Schedules">
            {list.map((s) => (
              <ScheduleCard key={s.id} s={s} onError={setError} />
            ))}
          </ul>
        )}
      </main>
    </div>
  );
}
