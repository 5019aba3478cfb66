// What a push says. Built from the persisted events the daemon emits; one job per change worth a
// buzz (a task done, failed or cut off by a crash, an approval or a question), identified by a key so the same change
// never pushes twice. Payloads hold a title, a short line and a link into the app: never file
// contents, tool output or anything secret, and never more than ~1 KB of JSON.
import path from 'node:path';
import { CRASH_REASONS, isCrashReason, type ServerEvent, timeIn } from '../../../shared/src/index.js';
import { PUSH_KINDS, type PushKind } from '../../../shared/src/push-kinds.js';
import { cutWhole, EMOJI_FORMAT } from '../../../shared/src/visible-text.js';
import { redactSecretShapes } from '../agent/records.js';
import { UNSAFE_TEXT } from '../util/text.js';

export { PUSH_KINDS, type PushKind };
export const PUSH_URGENCIES = ['very-low', 'low', 'normal', 'high'] as const;
export type PushUrgency = (typeof PUSH_URGENCIES)[number];

export interface PushPayload {
  type: PushKind;
  title: string;
  body: string;
  threadId?: string;
  url: string;
  tag: string;
  /** A missed scheduled run (catch-up rule "ask"): the notification offers Run and Skip for it. */
  schedule?: { id: string; occurrenceId: string };
  /** This push's id, per device (added at sending): the service worker posts it back as a receipt. */
  receipt?: string;
}

export interface PushJob {
  /**
   * The identity of the change (task id + state + when that run ended, approval id, question id):
   * pushed at most once. A retried or resumed task that ends again is a new change.
   */
  key: string;
  threadId?: string;
  payload: PushPayload;
  urgency: PushUrgency;
  /** How long the push service may hold the message for an offline device. */
  ttlSeconds: number;
  /** What it announces, so a retry or a resend can check first that it still stands (index.ts). */
  news?: PushNews;
}

/** The change a push announces (approvals and questions are named by the job's key). */
export interface PushNews {
  /** A task's ending: news while the thread holds that ending (not deleted, not run again). */
  ending?: { taskId: string; state: string; endedAt?: number };
  /** A schedule's run: news while the schedule is there and, with `ask`, the run still waits for Run or Skip. */
  schedule?: { id: string; occurrenceId: string; ask: boolean };
}

/**
 * How much a push may show on a lock screen. 'private' (the default): no command, no model text,
 * no file text and no words of the person's messages, only what kind of thing happened and where
 * ("Needs your OK: a shell command in Projects", where Projects is an allowed folder the user chose;
 * "Stopped at its spending limit."), under the thread's title only when the person gave it as a name;
 * the app shows everything after unlock. 'full': the thread's title whatever it is, the action, the
 * answer's and the failure's first line.
 */
export type PushPreviews = 'private' | 'full';

export const MAX_PAYLOAD_BYTES = 1024;
/** Room left for the per-device `"receipt":"<push id>"` added at sending. */
const RECEIPT_ROOM = 48;
const TITLE_MAX = 90;
const BODY_MAX = 220;
const DAY = 24 * 3600;
const HOUR_MS = 3600_000;

/** UNSAFE_TEXT but for the joiners and selectors emoji are made of ("👩‍💻" stays one picture). */
const UNSAFE_BUT_EMOJI = new RegExp(`(?!${EMOJI_FORMAT})${UNSAFE_TEXT.source}`, 'gu');

/** One visible line: no control or bidi-override characters, whitespace collapsed, length capped (code points). */
export function oneLine(text: string | undefined, max: number): string {
  if (!text) return '';
  const clean = text.replace(UNSAFE_BUT_EMOJI, ' ').replace(/\s+/g, ' ').trim();
  return Array.from(clean).length <= max ? clean : `${cutWhole(clean, max - 1).trimEnd()}…`;
}

/** A line of text a person or the model wrote: secrets out before the cut (a cut secret is too short to be recognised). */
const textLine = (text: string | undefined, max: number): string =>
  oneLine(text === undefined ? text : redactSecretShapes(text), max);

function firstLine(text: string | undefined): string | undefined {
  return text?.split(/\r?\n/).find((l) => l.trim() !== '');
}

function baseName(p: string): string {
  return p.split(/[\\/]/).filter(Boolean).at(-1) ?? p;
}

/** A file name on a lock screen is cut to this, its extension kept. */
export const FILE_NAME_MAX = 32;
/**
 * Something a reader could take for an address to go to: a scheme, www., an e-mail, an IP address, a
 * host name (in any script: a name can end in ".рф").
 */
const LOOKS_LIKE_ADDRESS = /:\/\/|www\.|@|\d{1,3}(?:\.\d{1,3}){3}|[\p{L}\p{N}-]+\.\p{L}{2,}(?![\p{L}\p{N}])/iu;
/**
 * Characters that read as a dot on a lock screen but are not one ("errand․app" with U+2024, "evil。com"),
 * and a dot written in brackets ("evil[.]com"): taken as "." before the test. NFKC already makes a dot of
 * the compatibility forms (U+2024, U+FE52, U+FF0E, and U+FF61 into U+3002).
 */
const DOT_LOOKALIKES =
  /[\u00b7\u0387\u05c5\u0660\u06d4\u06f0\u0701\u0702\u0f0c\u1427\u16eb\u2024\u2027\u2219\u22c5\u2e31\u2e33\u30fb\u3002\ua4f8\ua60e\ufe52\uff0e\uff61\u{10101}\u{1d16d}]|[[({]\s*\.\s*[\])}]/gu;
/**
 * When in doubt, no name: a dot look-alike not listed above would pass the test, so no punctuation or
 * symbol beyond ASCII (emoji included: "errand⚫app"), and no generic combining mark (a dot above or
 * below). Other scripts' letters, digits and their own vowel marks still show.
 */
const DOUBTFUL = /(?![\x00-\x7f])[\p{P}\p{S}]|[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]/u;

/** Extensions files commonly have: a name ending in another is tested whole, as it may end in a host name. */
const FILE_EXTENSIONS = new Set(
  (
    'txt md markdown rst pdf png jpg jpeg gif webp svg heic bmp tif tiff csv tsv json jsonl yaml yml toml xml ' +
    'html htm css js mjs cjs ts tsx jsx py rb go rs java kt swift c h cc cpp hpp cs php sh bash zsh ps1 bat ' +
    'sql log ini cfg conf env lock diff patch ipynb tex bib doc docx xls xlsx ppt pptx odt ods odp rtf epub ' +
    'zip tar gz tgz bz2 xz 7z ics vcf eml msg mp3 wav m4a mp4 mov webm'
  ).split(' '),
);

/**
 * A file name fit for a lock screen: one line, at most FILE_NAME_MAX characters (the extension kept),
 * and nothing that reads as an address (a web page can name a file "… Re-pair now at evil.example");
 * undefined when the name cannot be shown.
 */
export function shortFileName(p: string): string | undefined {
  const name = oneLine(baseName(p), 1000);
  // Tested as it reads: compatibility forms as their plain letters, look-alike dots as dots.
  const read = name.normalize('NFKC').replace(DOT_LOOKALIKES, '.');
  const dot = read.lastIndexOf('.');
  const ext = dot > 0 && read.length - dot <= 10 ? read.slice(dot) : '';
  const stem = ext ? read.slice(0, dot) : read;
  // An extension files commonly have is left out of the test ("report.md" is no address); any other
  // may be the end of a host name ("Re-pair at errand.app", "errand-app.example").
  const tested = FILE_EXTENSIONS.has(ext.slice(1).toLowerCase()) ? stem : read;
  if (!stem || LOOKS_LIKE_ADDRESS.test(tested) || DOUBTFUL.test(read) || /[<>]/.test(read)) return undefined;
  if (Array.from(read).length <= FILE_NAME_MAX) return read;
  return `${oneLine(stem, FILE_NAME_MAX - Array.from(ext).length)}${ext}`;
}

/** The allowed folder (the deepest one) holding `p`, by its own name: chosen by the user, not the model. */
function rootName(p: unknown, roots: readonly string[]): string | undefined {
  if (typeof p !== 'string' || !path.isAbsolute(p)) return undefined;
  let best: string | undefined;
  for (const root of roots) {
    const rel = path.relative(root, p);
    const inside = rel === '' || (!path.isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${path.sep}`));
    if (inside && (!best || root.length > best.length)) best = root;
  }
  return best === undefined ? undefined : baseName(best) || undefined;
}

/**
 * An approval's action in a few plain words, with no attacker-chosen text (no command, no content,
 * no folder or file name the model picked): where it happens is named by the allowed folder (`roots`,
 * real paths) it is in, or not at all.
 */
export function privateActionLine(
  tool: string,
  action: Record<string, unknown>,
  roots: readonly string[] = [],
): string {
  const where = (p: unknown) => {
    const name = rootName(p, roots);
    return name ? ` in ${oneLine(name, 40)}` : '';
  };
  if (tool === 'shell') return `a shell command${where(action.cwd)}`;
  if (tool.startsWith('fs_')) return `a file change${where(action.path ?? action.to ?? action.from)}`;
  // Errand's own questions (spending limits, runaway checks, the agent's schedule tool).
  if (tool === 'spending limit') return 'more spending for a task';
  if (tool === 'runaway check') return 'a task that seems to be looping';
  if (tool === 'schedule_create') return 'a new schedule';
  const sep = tool.indexOf('__');
  return sep > 0 ? `an action in ${oneLine(tool.slice(0, sep), 40)}` : 'an action';
}

/**
 * Why a task failed, for the lock screen: a fixed sentence picked by which of the daemon's own
 * reasons it is, never any of the reason's words (a reason can quote a call's arguments, a command,
 * an API error that echoes the conversation, or an internal error message). The reason is matched
 * only to choose among these; anything else gets the generic line. The app shows the whole reason.
 */
const FAILURE_LINES: ReadonlyArray<readonly [RegExp, string]> = [
  [
    /^Stopped: (?:The agent made the same |\d+ turns in a row brought nothing new)/,
    'Stopped: it seemed to be repeating itself.',
  ],
  [/^Stopped after spending about \$/, 'Stopped at its spending limit.'],
  [/^Stopped after [\d,]+ turns? \(limit: /, 'Stopped at its limit on turns.'],
  [/^Stopped after [\d,]+ output tokens? \(limit: /, 'Stopped at its limit on output.'],
  [/^Stopped after [^(]* of work \(limit: /, 'Stopped at its time limit.'],
  [/^The model declined to continue/, 'Stopped: the model declined to continue.'],
  [
    /^The conversation [^\n]*no longer fits in the model's context/,
    "Stopped: the conversation no longer fits in the model's context.",
  ],
  [/^No Anthropic API key is set\./, 'Failed: no API key is set on the computer.'],
  [/^The Anthropic API rejected the API key \(401\)/, 'Failed: the API key was rejected.'],
  [/^The API key is not allowed to do this \(403\)/, 'Failed: the API key is not allowed to do this.'],
  [/^The model API does not know model /, 'Failed: the model name or the API address is wrong.'],
  [/^The Anthropic account has a billing problem/, 'Failed: the Anthropic account has a billing problem.'],
  [/^The Anthropic API is rate limiting this key/, 'Failed: the model API is rate limiting the key.'],
  [/^The Anthropic API is overloaded/, 'Failed: the model API is overloaded.'],
  [/^The model API (?:had a server error|reported )/, 'Failed: the model API had a problem.'],
  [/^The model API refused the request/, 'Failed: the model API refused the request.'],
  [
    /^(?:Could not reach the model API|The connection to the model API failed)/,
    'Failed: the model API could not be reached.',
  ],
  [/^Errand hit an internal error/, 'Failed: Errand hit an internal error.'],
  [/^Errand stopped /, 'Errand stopped while this task was running.'],
];
export const FAILED_GENERIC_LINE = 'The task failed. Open Errand to see why.';

/** The lock-screen line for a task that ended without an answer (private previews). */
export function privateFailureLine(reason: string | undefined): string {
  const r = reason?.trim() ?? '';
  const line = FAILURE_LINES.find(([re]) => re.test(r))?.[1];
  if (!line) return FAILED_GENERIC_LINE;
  // The loop's own endings when it asked whether to continue (runaway checks, spending limits).
  if (line.startsWith('Stopped')) {
    if (r.endsWith(' Nobody answered whether to continue.')) return `${line} Nobody answered in time.`;
    if (r.endsWith(' You chose to stop it.')) return `${line} You chose to stop it.`;
  }
  return line;
}

export const threadTag = (threadId: string) => `thread-${threadId}`;
export const threadUrl = (threadId: string) => `/#thread=${encodeURIComponent(threadId)}`;

/** Redact, then shrink body, then title, until the JSON (with its receipt id) fits in MAX_PAYLOAD_BYTES. */
export function fitPayload(p: PushPayload): PushPayload {
  const out = {
    ...p,
    // Belt and braces against a secret reaching a lock screen through an error message.
    title: oneLine(redactSecretShapes(p.title), TITLE_MAX),
    body: oneLine(redactSecretShapes(p.body), BODY_MAX),
  };
  const size = () => Buffer.byteLength(JSON.stringify(out)) + RECEIPT_ROOM;
  while (size() > MAX_PAYLOAD_BYTES && Array.from(out.body).length > 1)
    out.body = oneLine(out.body, Math.floor(Array.from(out.body).length * 0.8));
  while (size() > MAX_PAYLOAD_BYTES && Array.from(out.title).length > 1)
    out.title = oneLine(out.title, Math.floor(Array.from(out.title).length * 0.8));
  if (size() > MAX_PAYLOAD_BYTES) throw new Error('push payload cannot fit in 1 KB');
  return out;
}

function threadJob(
  kind: Exclude<PushKind, 'test'>,
  key: string,
  threadId: string,
  title: string,
  body: string,
  urgency: PushUrgency,
  ttlSeconds: number,
  news?: PushNews,
): PushJob {
  return {
    key,
    threadId,
    urgency,
    ttlSeconds,
    ...(news ? { news } : {}),
    payload: fitPayload({ type: kind, title, body, threadId, url: threadUrl(threadId), tag: threadTag(threadId) }),
  };
}

/**
 * What a finished task wrote, for the lock screen. Its file names are the model's choice: one short,
 * clean name when the task read nothing untrusted; otherwise only how many files and the allowed
 * folder (the user's choice) they are in, as an approval line says where. `files` are relative to the
 * workspace (roots[0]) or absolute.
 */
function filesLine(files: readonly string[], roots: readonly string[], readUntrusted: boolean): string | undefined {
  if (files.length === 0) return undefined;
  const name = readUntrusted ? undefined : shortFileName(files[0]);
  if (name)
    return `Wrote ${name}${files.length > 1 ? ` and ${files.length - 1} more file${files.length > 2 ? 's' : ''}` : ''}`;
  const folders = new Set(
    files.map((f) => (path.isAbsolute(f) ? rootName(f, roots) : roots[0] ? baseName(roots[0]) : undefined)),
  );
  const [folder] = folders;
  const where = folders.size === 1 && folder ? ` in ${oneLine(folder, 40)}` : '';
  return `Wrote ${files.length} file${files.length > 1 ? 's' : ''}${where}`;
}

/**
 * A private push's name for a thread whose title the model chose (a page it read can word it as an
 * alert: "Errand: phone unpaired. Re-pair now").
 */
const MODEL_NAMED_RUN = 'Scheduled run';

/**
 * Who chose a thread's title. 'person': a name given as a name (thread.create's `title`,
 * thread.rename, a schedule's title that is not its task's first line). 'message': cut from what the
 * person typed (a command, a host name, a password): private pushes never show it. 'model': a
 * schedule the agent named after reading untrusted content.
 */
export type TitleSource = 'person' | 'message' | 'model';

/**
 * The push an event asks for, if any. `titleOf` gives a thread's title; `now` is for approval
 * expiry (an approval that already expired is not worth a push).
 */
export function jobForEvent(
  event: ServerEvent,
  titleOf: (threadId: string) => string | undefined,
  now = Date.now(),
  previews: PushPreviews = 'private',
  /** The allowed folders (real paths, the workspace first): a private line names the one an action or a file is in. */
  roots: readonly string[] = [],
  /** The task's conversation holds untrusted content (a web page, a connector's output): its file names are not shown. */
  readUntrusted = false,
  /**
   * Who chose the thread's title. A private push shows only a name the person gave; otherwise a fixed
   * one ("Task done", "Needs your OK · Errand task"). Unknown counts as cut from a message.
   */
  titleSource: (threadId: string) => TitleSource = () => 'message',
): PushJob | undefined {
  const full = previews === 'full';
  const title = (threadId: string, fallback: string) => {
    if (full) return textLine(titleOf(threadId), TITLE_MAX) || fallback;
    const source = titleSource(threadId);
    if (source === 'model') return MODEL_NAMED_RUN;
    return (source === 'person' && textLine(titleOf(threadId), TITLE_MAX)) || fallback;
  };
  switch (event.kind) {
    case 'task.updated': {
      const t = event.task;
      // Each run of a task ends once: re-announcements of that ending carry the same endedAt, a retry's
      // or resume's ending a new one.
      const ending = (state: string) => `task:${t.id}:${state}${t.endedAt !== undefined ? `:${t.endedAt}` : ''}`;
      if (t.state === 'done') {
        const answer = full ? textLine(firstLine(t.resultSummary), BODY_MAX) : '';
        const body =
          answer ||
          filesLine(t.changedFiles ?? [], roots, readUntrusted) ||
          (full ? 'Finished.' : 'Finished. Open Errand to see the answer.');
        return threadJob('task.done', ending('done'), t.threadId, title(t.threadId, 'Task done'), body, 'normal', DAY, {
          ending: { taskId: t.id, state: t.state, endedAt: t.endedAt },
        });
      }
      if (t.state === 'failed') {
        const reason = full
          ? textLine(firstLine(t.reason), BODY_MAX) || 'The task failed.'
          : privateFailureLine(t.reason);
        return threadJob(
          'task.failed',
          ending('failed'),
          t.threadId,
          `Failed · ${title(t.threadId, 'Errand task')}`,
          reason,
          'normal',
          DAY,
          { ending: { taskId: t.id, state: t.state, endedAt: t.endedAt } },
        );
      }
      // A crash cut it off: it will not resume or finish by itself, so the "done" the person waits for
      // would never come. (One a clean stop cut off resumes on the next start: no push.) Each start
      // announces every interrupted task again; only the fresh ending (from this recovery) is news.
      const fresh = t.endedAt !== undefined && now - t.endedAt < HOUR_MS;
      if (t.state === 'interrupted' && isCrashReason(t.reason) && fresh) {
        const body =
          t.reason === CRASH_REASONS.notStarted
            ? 'Errand stopped unexpectedly before this task started. Open Errand to run it.'
            : 'Errand stopped unexpectedly while this task was running. Open Errand to resume it.';
        const name = title(t.threadId, 'Errand task');
        return threadJob(
          'task.interrupted',
          ending('interrupted'),
          t.threadId,
          `Interrupted · ${name}`,
          body,
          'normal',
          DAY,
          { ending: { taskId: t.id, state: t.state, endedAt: t.endedAt } },
        );
      }
      return undefined;
    }
    case 'approval.requested': {
      const a = event.approval;
      if (a.state !== 'pending') return undefined;
      const ttl = Math.ceil((a.expiresAt - now) / 1000);
      if (ttl <= 0) return undefined;
      return threadJob(
        'approval',
        `approval:${a.id}`,
        a.threadId,
        `Needs your OK · ${title(a.threadId, 'Errand task')}`,
        full
          ? textLine(a.summary, BODY_MAX) || `Use ${oneLine(a.tool, 60)}`
          : `Needs your OK: ${privateActionLine(a.tool, a.action, roots)}`,
        'high',
        Math.min(ttl, DAY),
      );
    }
    case 'question.asked': {
      const q = event.question;
      return threadJob(
        'question',
        `question:${q.id}`,
        q.threadId,
        `Question · ${title(q.threadId, 'Errand task')}`,
        (full && textLine(q.text, BODY_MAX)) || 'Your computer has a question for you.',
        'high',
        DAY,
      );
    }
    case 'schedule.updated':
      return scheduleAskJob(event.schedule, full) ?? scheduleNotRunJob(event.schedule, full, now);
    default:
      return undefined;
  }
}

/** A stored reason's first clause ("$1.00" stays whole: a clause ends at a stop before a space). */
const firstClause = (reason: string | undefined) => reason?.split(/[.;](?:\s|$)/)[0]?.trim();

/** Why a run was missed, as the scheduler says it (schedules/engine.ts): all a private push repeats. */
const MISSED_CAUSES = ['Errand was not running', 'the computer was asleep', 'Errand could not start it on time'];

/** A missed run waiting for the user's Run or Skip (catch-up rule "ask"): one push per occurrence. */
function scheduleAskJob(
  s: Extract<ServerEvent, { kind: 'schedule.updated' }>['schedule'],
  full: boolean,
): PushJob | undefined {
  const occ = s.history.findLast((o) => o.ask === 'open');
  if (!occ) return undefined;
  const at = timeIn(occ.dueAt, s.timeZone).slice(11);
  const said = firstClause(occ.reason);
  // Private: only the scheduler's own causes (a stored reason is free text to this module).
  const why = full ? said : MISSED_CAUSES.find((c) => c.toLowerCase() === said?.toLowerCase());
  return {
    key: `schedule-ask:${occ.id}`,
    urgency: 'high',
    ttlSeconds: DAY,
    news: { schedule: { id: s.id, occurrenceId: occ.id, ask: true } },
    payload: fitPayload({
      type: 'schedule.missed',
      title: full ? `${at} ${s.title} was missed` : `A scheduled run was missed (${at})`,
      body: `${why ? `${why[0].toUpperCase()}${why.slice(1)}` : 'Missed'} — run it now?`,
      url: '/#schedules',
      tag: `schedule-${s.id}`.slice(0, 64),
      schedule: { id: s.id, occurrenceId: occ.id },
    }),
  };
}

/** Past this, a schedule's newest occurrence is old news (its key may have left push.json's memory). */
const NOT_RUN_FRESH_MS = 32 * DAY * 1000;

/**
 * The schedule's newest occurrence did not run and nobody is asked about it: missed and not caught
 * up (its rule is skip, or too late), or refused before it started (a spending cap reached). The
 * user would otherwise learn of it only by opening the Schedules screen: one push per occurrence.
 */
function scheduleNotRunJob(
  s: Extract<ServerEvent, { kind: 'schedule.updated' }>['schedule'],
  full: boolean,
  now: number,
): PushJob | undefined {
  const occ = s.history.at(-1);
  if (!occ || occ.ask !== undefined || occ.manual) return undefined;
  const missed = occ.outcome === 'missed';
  const refused = occ.outcome === 'failed' && occ.taskId === undefined;
  if (!missed && !refused) return undefined;
  if (now - (occ.lastDueAt ?? occ.dueAt) > NOT_RUN_FRESH_MS) return undefined;
  const at = timeIn(occ.dueAt, s.timeZone).slice(11);
  const said = firstClause(occ.reason);
  // Private: only the scheduler's own causes (a stored reason is free text to this module).
  const why = full ? said : MISSED_CAUSES.find((c) => c.toLowerCase() === said?.toLowerCase());
  const what = missed ? 'was missed' : 'did not run';
  return {
    key: `schedule-not-run:${occ.id}`,
    urgency: 'normal',
    ttlSeconds: DAY,
    news: { schedule: { id: s.id, occurrenceId: occ.id, ask: false } },
    payload: fitPayload({
      type: 'schedule.missed',
      title: full ? `${at} ${s.title} ${what}` : `A scheduled run ${what} (${at})`,
      body: why
        ? `${why[0].toUpperCase()}${why.slice(1)}.`
        : missed
          ? 'It was not caught up. Open Schedules to run it now.'
          : 'It could not start. Open Schedules to see why.',
      url: '/#schedules',
      tag: `schedule-${s.id}`.slice(0, 64),
    }),
  };
}

export function testJob(now = Date.now()): PushJob {
  return {
    key: `test:${now}`,
    urgency: 'high',
    ttlSeconds: 120,
    payload: fitPayload({
      type: 'test',
      title: 'Errand test notification',
      body: 'Notifications from your desktop reach this device.',
      url: '/',
      tag: 'errand-test',
    }),
  };
}
