// The interactive cards inside a thread: tool steps, approvals, questions, task controls.
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Approval, ChangeEntry, Question, Task, ThreadItem } from '../../../shared/src/index.js';
import { ACTIVE_TASK_STATES, ENDED_TASK_STATES } from '../../../shared/src/task-states.js';
import { visibleCode, visibleText } from '../../../shared/src/visible-text.js';
import { onEvent, onSynced, request } from '../conn/connection.js';
import { enqueueAnswer, enqueueDecision, responsesStore } from '../conn/outbox.js';
import { answerFor, DECISION_WORDS, type Decision, decisionFor } from '../conn/outbox-logic.js';
import { CommandFailed } from '../conn/types.js';
import { approvalWords, asksToContinue, shownPath } from '../lib/approval-words.js';
import { changeRows } from '../lib/change-rows.js';
import { failureWords } from '../lib/failure-words.js';
import { bytes, countdown, usageLine } from '../lib/format.js';
import { hrefFor } from '../lib/route.js';
import { showCostStore } from '../lib/show-cost.js';
import { undoPreview } from '../lib/undo-words.js';
import { appStore, connStore } from '../state/app.js';
import { useStore } from '../state/store.js';
import { ErrorText, StateChip } from '../ui/common.js';
import { refocusWhenGone } from '../ui/focus.js';
import { ExactAction } from './ExactAction.js';

/**
 * The allowed folders' paths. The selector returns the store's own array (a new array on every
 * update would re-render every card in the thread on every streamed word).
 */
export function useRootPaths(): string[] {
  const roots = useStore(appStore, (s) => s.host?.roots);
  return useMemo(() => roots?.map((r) => r.path) ?? [], [roots]);
}

/** Whether the computer is reachable (the socket is up and in step). */
export const useOnline = (): boolean => useStore(connStore, (c) => c.status === 'online');

/**
 * The error of a command this card sent. One saying the computer could not be reached goes when it
 * is reachable again: it no longer holds, and tapping again now works.
 */
export function useCommandError(): [string | undefined, (err?: unknown) => void] {
  const online = useOnline();
  const [error, setError] = useState<{ text: string; offline: boolean }>();
  useEffect(() => {
    if (online) setError((e) => (e?.offline ? undefined : e));
  }, [online]);
  const set = useCallback(
    (err?: unknown) =>
      setError(
        err === undefined
          ? undefined
          : { text: (err as Error).message, offline: err instanceof CommandFailed && err.code === 'offline' },
      ),
    [],
  );
  return [error?.text, set];
}

/**
 * Whether a later message of the thread has started since `task`: the host resumes or retries a task
 * only while none has, so past that, offering it (or telling the person to) would only fail.
 */
export function useLaterMessageRan(threadId: string, task: Pick<Task, 'createdAt'> | undefined): boolean {
  return useStore(appStore, (s) =>
    task
      ? Object.values(s.details[threadId]?.tasks ?? {}).some(
          (t) => t.createdAt > task.createdAt && t.startedAt !== undefined,
        )
      : false,
  );
}

type ToolItem = Extract<ThreadItem, { kind: 'tool' }>;

const TOOL_MARK: Record<ToolItem['state'], string> = {
  pending: '○',
  running: '◐',
  completed: '✓',
  error: '✕',
  denied: '⊘',
  unknown: '?',
};

function pretty(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

const STATE_WORDS: Record<ToolItem['state'], string> = {
  pending: 'waiting',
  running: 'working',
  completed: 'done',
  error: 'failed',
  denied: 'not allowed',
  unknown: 'outcome unknown',
};

/**
 * A step Errand's stop or a cancel left unrun is stored as denied, but nobody denied it: its summary
 * already says "not run, …", so the row adds no state word and no "denied" mark.
 */
export function stepState(item: Pick<ToolItem, 'state' | 'summary'>): { mark: string; words?: string; css: string } {
  if (item.state === 'denied' && /: not run, /.test(item.summary)) return { mark: '–', css: 'not-run' };
  return { mark: TOOL_MARK[item.state], words: STATE_WORDS[item.state], css: item.state };
}

/** A connector's tools are named `<connector>__<tool>`: say which connector, never the internal name. */
function connectorOf(tool: string): string | undefined {
  const i = tool.indexOf('__');
  return i > 0 ? tool.slice(0, i) : undefined;
}

export function ToolRow({ item, threadId }: { item: ToolItem; threadId?: string }) {
  const [open, setOpen] = useState(false);
  const via = connectorOf(item.tool);
  // A long output arrives as a preview; the whole of it is fetched when asked for.
  const [full, setFull] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [fullError, setFullError] = useCommandError();
  const showAll = async () => {
    if (!threadId) return;
    setLoading(true);
    setFullError();
    try {
      setFull((await request({ type: 'step.output', threadId, stepId: item.id })).text);
    } catch (e) {
      setFullError(e);
    } finally {
      setLoading(false);
    }
  };
  const shown = stepState(item);
  return (
    <div class={`tool tool-${shown.css}`}>
      <button
        type="button"
        class="tool-head"
        aria-expanded={open}
        aria-label={`${visibleText(item.summary)}${via ? ` (via ${via})` : ''}${shown.words ? `, ${shown.words}` : ''}. ${open ? 'Hide' : 'Show'} details`}
        onClick={() => setOpen(!open)}
      >
        <span class="tool-mark" aria-hidden="true">
          {shown.mark}
        </span>
        {/* Like the approval beside it: what the step ran, with hidden and direction characters shown. */}
        <span class="tool-summary">{visibleText(item.summary)}</span>
        {via && <span class="tool-via">via {via}</span>}
      </button>
      {open && (
        <div class="tool-body">
          <div class="label">Input ({visibleText(item.tool)})</div>
          <pre>{visibleText(pretty(item.input), true)}</pre>
          {item.output !== undefined && (
            <>
              <div class="label">Output</div>
              <pre>{visibleCode(full ?? item.output)}</pre>
              {item.outputBlob && full === undefined && threadId && (
                <button type="button" disabled={loading} onClick={() => void showAll()}>
                  {loading ? 'Loading…' : `Show the whole output (${bytes(item.outputBlob.bytes)})`}
                </button>
              )}
              <ErrorText error={fullError} />
            </>
          )}
        </div>
      )}
    </div>
  );
}

export function useNow(everyMs: number, active = true): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const t = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(t);
  }, [everyMs, active]);
  return now;
}

/*
 * What an approval card shows is what runs: every word from the model or the host goes through
 * visibleText (an invisible, control or direction-changing character reads as ⟨U+202E⟩), and the
 * sentence, the command and the exact action sit in <bdo dir="ltr">, so even right-to-left letters
 * are drawn in the order they run, never reordered around the punctuation between them.
 *
 * Only a pending approval has a card. Decided or expired, it goes, on every phone alike: the
 * computer keeps no record of it but the step it asked about (thread.get gives pending approvals
 * only), and that step's row shows what became of it.
 */
export function ApprovalCard({ approval }: { approval: Approval }) {
  if (approval.state !== 'pending') return null;
  return <PendingApproval approval={approval} />;
}

function PendingApproval({ approval }: { approval: Approval }) {
  const now = useNow(1000);
  const online = useOnline();
  // A decision tapped here waits in the outbox until the computer takes it (or refuses it).
  const queued = useStore(responsesStore, (r) => decisionFor(r, approval.id));
  const left = approval.expiresAt - now;
  const expired = left <= 0;
  const roots = useRootPaths();
  const words = approvalWords(approval, roots);
  const card = useRef<HTMLElement>(null);
  const decide = (decision: Decision) => {
    void enqueueDecision({
      threadId: approval.threadId,
      approvalId: approval.id,
      hash: approval.hash,
      decision,
      summary: approval.summary,
    });
    // The buttons go, then the card: focus goes on to what is next, not back to the top of the page.
    focusAfterDecision(card.current);
  };
  return (
    <section
      ref={card}
      class={`card approval approval-${approval.state}`}
      aria-label={`Approval needed: ${visibleText(approval.summary)}`}
    >
      <div class="approval-head">
        {/* "your OK" stays together: at large text the title breaks as "Needs / your OK", never "… / OK". */}
        <strong>{'Needs your\u00a0OK'}</strong>
        <span class={`countdown${left < 60_000 ? ' soon' : ''}`} aria-label="Time left to decide" role="timer">
          {expired ? 'Expired' : `Expires in ${countdown(left)}`}
        </span>
      </div>
      <p class="approval-summary">
        <bdo dir="ltr">{words.sentence}</bdo>
      </p>
      {words.command !== undefined && (
        <div class="approval-command-row">
          <code class="approval-command" aria-label="Command">
            <bdo dir="ltr">{words.command}</bdo>
          </code>
          <span class={`badge sandbox-${words.sandbox}`}>{words.sandbox === 'on' ? 'Sandboxed' : 'Not sandboxed'}</span>
        </div>
      )}
      {words.content?.map((c) => (
        <div class="approval-file" key={c.path}>
          <div class="label">
            {c.path}
            {c.bytes !== undefined ? ` (${bytes(c.bytes)})` : ''}
          </div>
          <pre aria-label={`Content of ${c.path}`}>
            <bdo dir="ltr">{c.text}</bdo>
          </pre>
        </div>
      ))}
      {words.task !== undefined && (
        <div class="approval-file">
          <div class="label">Each run follows this task</div>
          <pre aria-label="Task each run follows">
            <bdo dir="ltr">{words.task}</bdo>
          </pre>
        </div>
      )}
      <details class="approval-details">
        <summary>Details</summary>
        <div class="label">Exact action ({visibleText(approval.tool)})</div>
        <ExactAction action={approval.action} tool={approval.tool} />
      </details>
      {queued?.state === 'failed' && <ErrorText error={`Not sent: ${queued.error}`} />}
      {queued?.state === 'pending' ? (
        // Tapped while the computer was away (or on its way): said like a message waiting to go.
        <p class="queued-state" role="status">
          <strong>{DECISION_WORDS[queued.decision]}</strong> ·{' '}
          {online ? 'Sending…' : 'Waiting for your computer; sent when it is back'}
        </p>
      ) : (
        !expired && (
          <div class="btn-row">
            <button type="button" class="primary" aria-label="Approve" onClick={() => decide('approve')}>
              Approve
            </button>
            <button type="button" class="danger" aria-label="Deny" onClick={() => decide('deny')}>
              Deny
            </button>
            {!asksToContinue(approval) && (
              <button type="button" aria-label="Allow for this task" onClick={() => decide('allow_task')}>
                Allow for this task
              </button>
            )}
          </div>
        )
      )}
    </section>
  );
}

/**
 * Where focus goes after a decision: the next card still waiting for the person (an approval's first
 * button, a question card itself: focusing its box would open the phone's keyboard unasked).
 */
function nextCardFocus(conversation: HTMLElement | null | undefined, decided: HTMLElement | null): HTMLElement[] {
  const cards = [...(conversation?.querySelectorAll<HTMLElement>('.approval-pending, .card.question') ?? [])].filter(
    (c) => c !== decided,
  );
  // The ones after the decided card first, in reading order.
  const after = (c: HTMLElement) =>
    !!decided && !!(decided.compareDocumentPosition(c) & Node.DOCUMENT_POSITION_FOLLOWING);
  return [...cards.filter(after), ...cards.filter((c) => !after(c))].map(
    (c) => c.querySelector<HTMLElement>('.btn-row button:not(:disabled)') ?? c,
  );
}

/** After a decision or an answer: the next waiting card, else the task's state line, else the message box. */
function focusAfterDecision(card: HTMLElement | null): void {
  const conversation = card?.closest<HTMLElement>('.conversation');
  const group = card?.closest<HTMLElement>('.task-group');
  refocusWhenGone(() => [
    ...nextCardFocus(conversation, card),
    group?.querySelector<HTMLElement>('.task-footer .task-line'),
    conversation?.parentElement?.querySelector<HTMLElement>('.composer-input'),
  ]);
}

/** Answers being typed in question cards, by question id, for as long as the app is open. */
const answerDrafts = new Map<string, string>();

export function QuestionCard({ question }: { question: Question }) {
  // What the person typed is kept across leaving the thread and coming back (the card is rebuilt).
  const [text, setTextState] = useState(() => answerDrafts.get(question.id) ?? '');
  const setText = (t: string) => {
    setTextState(t);
    if (t) answerDrafts.set(question.id, t);
    else answerDrafts.delete(question.id);
  };
  const online = useOnline();
  // An answer sent from here or from the message box waits in the outbox until the computer takes it.
  const queued = useStore(responsesStore, (r) => answerFor(r, question.id));
  // Refused, with the host's reason shown: what was sent is back in the box, to change and send again.
  useEffect(() => {
    if (queued?.state === 'failed' && !answerDrafts.get(question.id)) setText(queued.text);
  }, [queued?.state]);
  const answer = (e: Event) => {
    e.preventDefault();
    const t = text.trim();
    if (!t) return;
    void enqueueAnswer({ threadId: question.threadId, taskId: question.taskId, questionId: question.id, text: t });
    setText('');
    focusAfterDecision(e.currentTarget as HTMLElement);
  };
  if (queued?.state === 'pending')
    return (
      <section class="card question" aria-label="Question from your computer">
        <strong>Your computer asks</strong>
        <p class="question-text">{visibleText(question.text, true)}</p>
        <div class="msg msg-user pending" aria-label="Answer not yet delivered">
          <div class="bubble">
            <p class="plain">{queued.text}</p>
          </div>
          <div class="pending-state muted" role="status">
            {online ? 'Sending…' : 'Waiting for your computer'}
          </div>
        </div>
      </section>
    );
  return (
    <form class="card question" aria-label="Question from your computer" onSubmit={answer}>
      <strong>Your computer asks</strong>
      {/* The model's words, decided on: they cannot reorder themselves (⟨U+202E⟩) or widen the page. */}
      <p class="question-text">{visibleText(question.text, true)}</p>
      <textarea aria-label="Your answer" rows={2} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      {queued?.state === 'failed' && <ErrorText error={`Not sent: ${queued.error}`} />}
      <button type="submit" class="primary" aria-label="Send answer" disabled={!text.trim()}>
        Answer
      </button>
    </form>
  );
}

/** The files a task produced, as they are now: created, written or edited, followed through moves. */
export function resultFiles(changes: ChangeEntry[]): Array<{ path: string; undone: boolean; created: boolean }> {
  return changeRows(changes)
    .filter((r) => !r.folder && !r.trashed && r.diffPath)
    .map((r) => ({ path: r.path, undone: r.undone, created: r.created }));
}

function fileIcon(name: string): string {
  if (/\.(png|jpe?g|gif|webp|svg|heic)$/i.test(name)) return '🖼';
  if (/\.(csv|tsv|xlsx?|ods)$/i.test(name)) return '📊';
  if (/\.(pdf)$/i.test(name)) return '📕';
  return '📄';
}

/** A folder cut from its start, keeping its last `keep` parts ("…/dir/sub"): the end tells folders apart. */
function folderTail(folder: string, keep: number): string {
  const parts = folder.split('/');
  return keep >= parts.length ? folder : `…/${parts.slice(-keep).join('/')}`;
}

let measurer: CanvasRenderingContext2D | null | undefined;

/** How many of the folder's last parts fit on the element's line, in its font (at least one). */
function partsThatFit(el: HTMLElement, folder: string): number {
  const parts = folder.split('/').length;
  measurer ??= document.createElement('canvas').getContext('2d');
  if (!measurer || el.clientWidth === 0) return parts;
  measurer.font = getComputedStyle(el).font;
  for (let keep = parts; keep > 1; keep--) {
    if (measurer.measureText(folderTail(folder, keep)).width <= el.clientWidth) return keep;
  }
  return 1;
}

/** A result card's folder line: the whole folder when it fits, else as much of its end as fits. */
function FolderLine({ folder }: { folder: string }) {
  const ref = useRef<HTMLSpanElement>(null);
  const [keep, setKeep] = useState(Number.POSITIVE_INFINITY);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const refit = () => setKeep(partsThatFit(el, folder));
    refit();
    const watch = new ResizeObserver(refit);
    watch.observe(el);
    return () => watch.disconnect();
  }, [folder]);
  return (
    <span ref={ref} class="result-folder">
      {folderTail(folder, keep)}
    </span>
  );
}

/** The file names more than one of the cards has (north/report.md and south/report.md). */
function repeatedNames(names: string[]): Set<string> {
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  return new Set(names.filter((n) => (count.get(n) ?? 0) > 1));
}

/** Result files as cards right under the answer: what the task made, where, and Open. */
export function ResultCards({ task, threadId }: { task: Task; threadId: string }) {
  const changes = useStore(appStore, (s) => s.details[threadId]?.changes[task.id]);
  const roots = useRootPaths();
  if (!changes) return null;
  const files = resultFiles(changes).map((f) => {
    // Shown (and named to screen readers) with hidden characters as markers; links keep f.path.
    const rel = shownPath(f.path, roots);
    return { ...f, rel, name: rel.split('/').pop() ?? rel };
  });
  if (!files.length) return null;
  const repeated = repeatedNames(files.map((f) => f.name));
  return (
    <ul class="result-cards" aria-label="Result files">
      {files.map((f) => {
        const { rel, name } = f;
        const folder = rel.includes('/') ? rel.slice(0, rel.length - name.length - 1) : '';
        // Cards whose files share a name say which one in their links' names, by the whole path.
        const called = repeated.has(name) ? rel : name;
        return (
          <li key={f.path} class={`result-card${f.undone ? ' undone' : ''}`}>
            <span class="result-icon" aria-hidden="true">
              {fileIcon(name)}
            </span>
            <span class="result-text">
              <span class="result-name">{name}</span>
              {folder && <FolderLine folder={folder} />}
            </span>
            {f.undone ? (
              <span class="muted">{f.created ? 'Removed by undo' : 'Put back as it was by undo'}</span>
            ) : (
              <>
                <a
                  class="result-diff"
                  href={hrefFor({ name: 'diff', threadId, taskId: task.id, path: f.path })}
                  aria-label={`View changes to ${called}`}
                >
                  Changes
                </a>
                <a
                  class="result-open"
                  href={hrefFor({ name: 'file', threadId, taskId: task.id, path: f.path })}
                  aria-label={`Open ${called} (result file)`}
                >
                  Open
                </a>
              </>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/** Per task, the newest task.changes request on its way: an answer to an older one that comes later is dropped. */
const changesFetches = new Map<string, Promise<void>>();

/**
 * Fetch a task's change list (later changes arrive as changes.updated events). Without `force`, a
 * request already on its way is the answer.
 */
export function ensureChanges(threadId: string, taskId: string, force = false): Promise<void> {
  const pending = changesFetches.get(taskId);
  if (pending && !force) return pending;
  const fetching: Promise<void> = request({ type: 'task.changes', taskId })
    .then(({ changes: list }) => {
      if (changesFetches.get(taskId) !== fetching) return;
      appStore.set((s) => {
        const d = s.details[threadId];
        return d
          ? { ...s, details: { ...s.details, [threadId]: { ...d, changes: { ...d.changes, [taskId]: list } } } }
          : s;
      });
    })
    .finally(() => {
      if (changesFetches.get(taskId) === fetching) changesFetches.delete(taskId);
    });
  changesFetches.set(taskId, fetching);
  return fetching;
}

/** Tasks whose change list is on screen, by task id: the thread, and how many cards show it. */
const watched = new Map<string, { threadId: string; cards: number }>();

/**
 * Keep a task's change list current while a card shows it (returns the release). An event too long
 * to carry the list drops it from the state (model.ts); a shown one is then fetched anew, at once
 * or after the next sync (a replayed event arrives before requests can go out).
 */
export function watchChanges(threadId: string, taskId: string): () => void {
  const w = watched.get(taskId) ?? { threadId, cards: 0 };
  w.cards++;
  watched.set(taskId, w);
  return () => {
    if (--w.cards === 0 && watched.get(taskId) === w) watched.delete(taskId);
  };
}

/** Fetch a shown task's list the state no longer holds (its thread still held). */
const refetchMissing = (taskId: string, threadId: string) => {
  const d = appStore.get().details[threadId];
  if (d && !d.changes[taskId]) ensureChanges(threadId, taskId, true).catch(() => undefined);
};
onEvent((ev) => {
  if (ev.kind !== 'changes.updated' || !ev.omitted) return;
  const w = watched.get(ev.taskId);
  if (w) refetchMissing(ev.taskId, w.threadId);
});
onSynced(() => {
  for (const [taskId, w] of watched) refetchMissing(taskId, w.threadId);
});

export function ChangesList({ task, threadId }: { task: Task; threadId: string }) {
  const changes = appStore.get().details[threadId]?.changes[task.id];
  const roots = useRootPaths();
  const [error, setError] = useState<string>();
  useEffect(() => {
    ensureChanges(threadId, task.id, true).catch((e: Error) => setError(e.message));
  }, [task.id, threadId]);
  if (error) return <ErrorText error={error} />;
  if (!changes) return <p class="muted">Loading changes…</p>;
  if (!changes.length) return <p class="muted">No file changes.</p>;
  // One row per file, followed through moves; paths from the shared folder they are in.
  return (
    <ul class="changes" aria-label="Changed files">
      {changeRows(changes).map((r) => {
        const shown = shownPath(r.path, roots);
        const viewable = !r.folder && !r.trashed && !r.undone;
        return (
          <li key={r.key} class={r.undone ? 'undone' : ''}>
            <span class="op">{r.label}</span>
            {viewable ? (
              <a href={hrefFor({ name: 'file', threadId, taskId: task.id, path: r.path })} aria-label={`View ${shown}`}>
                {shown}
              </a>
            ) : (
              <span class="path">{shown}</span>
            )}
            {r.from && <span class="muted from">from {shownPath(r.from, roots)}</span>}
            {viewable && r.diffPath && (
              <a
                class="diff-link"
                href={hrefFor({ name: 'diff', threadId, taskId: task.id, path: r.diffPath })}
                aria-label={`View changes to ${shown}`}
              >
                View changes
              </a>
            )}
          </li>
        );
      })}
    </ul>
  );
}

/**
 * The limit a task stopped at, when it is one a retry starts afresh (turns, output, minutes of work
 * count per run): the retry goes on from where the task stopped, so it is offered as Continue.
 */
export function limitReached(reason: string | undefined): { setting: string } | undefined {
  const m = /\(limit: (agent\.(?:maxTurns|maxOutputTokens|maxWallMinutes)) = [^)]*\)/.exec(reason ?? '');
  return m ? { setting: m[1] } : undefined;
}

/**
 * A failed task: what happened in one sentence, what to do next, the host's full reason behind
 * Details, and Retry (Continue after a per-run limit).
 */
function FailureCard({ reason, busy, onRetry }: { reason?: string; busy: boolean; onRetry?: () => void }) {
  const words = failureWords(reason);
  const limit = limitReached(reason);
  return (
    <section class="failure-card" aria-label="Task failed">
      <p class="reason">{words.sentence}</p>
      {limit ? (
        <p class="next-step">
          Continue goes on from where it stopped, with the same limit again. To change the limit, set{' '}
          <code>{limit.setting}</code> in config.json.
        </p>
      ) : (
        words.nextStep && <p class="next-step">{words.nextStep}</p>
      )}
      {words.details && (
        <details class="failure-details">
          <summary>Details</summary>
          <p>{words.details}</p>
        </details>
      )}
      {onRetry && (
        <button
          type="button"
          class="primary"
          aria-label={limit ? 'Continue task' : 'Retry task'}
          disabled={busy}
          onClick={onRetry}
        >
          {limit ? 'Continue' : 'Retry'}
        </button>
      )}
    </section>
  );
}

export function TaskFooter({
  task,
  threadId,
  awaitingPerson,
  reasonShown,
}: {
  task: Task;
  threadId: string;
  /**
   * An approval or a question of this task is on screen: the composer's Stop is the one way to end
   * the task (no Cancel beside Deny, nor a second stop control under the question).
   */
  awaitingPerson?: boolean;
  /** A notice of the task's own already says why it ended (a crash's): not said twice. */
  reasonShown?: boolean;
}) {
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useCommandError();
  const [showChanges, setShowChanges] = useState(false);
  const [confirmUndo, setConfirmUndo] = useState(false);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const footer = useRef<HTMLDivElement>(null);
  const showCost = useStore(showCostStore, (v) => v);
  // The computer refuses to undo, retry or resume in a deleted thread: offered again once it is restored.
  const threadDeleted = useStore(appStore, (s) => s.threads[threadId]?.state === 'deleted');
  // Subscribed, so the footer can be memoised (a streamed word renders none of its props).
  const changes = useStore(appStore, (s) => s.details[threadId]?.changes[task.id]);
  const laterRan = useLaterMessageRan(threadId, task);
  const open = changes?.filter((c) => !c.undone);
  // Files, not folders: a folder made on the way to a file is not a result of its own; a file
  // written twice counts once.
  const files = (list: ChangeEntry[]) => new Set(list.filter((c) => c.op !== 'mkdir').map((c) => c.toPath ?? c.path));
  const changeCount = open ? files(open).size : (task.changedFiles?.length ?? 0);
  // Files whose changes were all undone: still in the list (marked "undone"), so the count says so too.
  const openFiles = open ? files(open) : undefined;
  const undoneCount = changes
    ? [...files(changes.filter((c) => c.undone))].filter((f) => !openFiles?.has(f)).length
    : 0;
  const changedLabel =
    undoneCount === 0
      ? `Changed files (${changeCount})`
      : changeCount === 0
        ? `Changed files (${undoneCount} undone)`
        : `Changed files (${changeCount}, ${undoneCount} undone)`;
  const undoable = open ? open.length > 0 : changeCount > 0;
  const ended = ENDED_TASK_STATES.has(task.state);
  useEffect(() => {
    if (ended && !changes) ensureChanges(threadId, task.id).catch(() => undefined);
  }, [ended, task.id, threadId]);
  // The result cards and the open list show the list: kept current while they are on screen.
  useEffect(
    () => (ended || showChanges ? watchChanges(threadId, task.id) : undefined),
    [ended, showChanges, task.id, threadId],
  );
  const run = async (type: 'task.cancel' | 'task.retry' | 'task.resume' | 'task.undo') => {
    // The button pressed goes once it worked (Undo's confirmation once nothing is left to undo):
    // focus then goes to the task's state line, else the message box; never to the top of the page.
    refocusWhenGone(() => [
      footer.current?.querySelector<HTMLElement>('.task-line'),
      footer.current?.closest('.screen')?.querySelector<HTMLElement>('.composer-input'),
    ]);
    setBusy(type);
    setError();
    try {
      await request({ type, taskId: task.id });
      if (type === 'task.undo') setConfirmUndo(false);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(undefined);
    }
  };
  return (
    <div class="task-footer" aria-label="Task" ref={footer}>
      {ended && <ResultCards task={task} threadId={threadId} />}
      {task.state === 'failed' && (
        // What happened comes first, with Retry; state and usage follow.
        <FailureCard
          reason={task.reason}
          busy={!!busy}
          onRetry={threadDeleted ? undefined : () => void run('task.retry')}
        />
      )}
      <div class="task-line">
        <StateChip state={task.state} />
        {showCost && <span class="usage">{usageLine(task)}</span>}
      </div>
      {!showCost && (
        // Tokens and cost are a detail (a setting shows them inline); they update while the task runs.
        <details class="usage-details">
          <summary>Usage</summary>
          <p class="usage">{usageLine(task)}</p>
        </details>
      )}
      {task.reason &&
        !reasonShown &&
        ENDED_TASK_STATES.has(task.state) &&
        task.state !== 'done' &&
        task.state !== 'failed' && (
          // Cancelled or interrupted is not an error: said plainly, not in the failure colour.
          <p class="reason reason-plain">{task.reason}</p>
        )}
      {laterRan && (task.state === 'cancelled' || task.state === 'interrupted') && (
        <p class="muted">A later message has run since; send a new message to go on from here.</p>
      )}
      {changes && changes.length > 0 && !undoable && (
        <p class="muted" role="status">
          All of this task's changes were undone.
        </p>
      )}
      <div class="btn-row">
        {ACTIVE_TASK_STATES.has(task.state) && !awaitingPerson && !threadDeleted && (
          <button
            type="button"
            class="danger"
            aria-label={confirmCancel ? 'Confirm cancel task' : 'Cancel task'}
            disabled={!!busy}
            onClick={() => {
              // Once the task has done some work, the first tap asks: that work in progress would stop.
              if (!confirmCancel && (task.turns > 0 || undoable)) setConfirmCancel(true);
              else void run('task.cancel');
            }}
          >
            {confirmCancel ? 'Tap again to cancel' : 'Cancel'}
          </button>
        )}
        {task.state === 'interrupted' && !laterRan && !threadDeleted && (
          <button
            type="button"
            class="primary"
            aria-label="Resume task"
            disabled={!!busy}
            onClick={() => void run('task.resume')}
          >
            Resume
          </button>
        )}
        {(task.state === 'cancelled' || task.state === 'interrupted') && !laterRan && !threadDeleted && (
          <button type="button" aria-label="Retry task" disabled={!!busy} onClick={() => void run('task.retry')}>
            Retry
          </button>
        )}
        {(undoable || (changes?.length ?? 0) > 0) && (
          <button type="button" aria-expanded={showChanges} onClick={() => setShowChanges(!showChanges)}>
            {changedLabel}
          </button>
        )}
        {ENDED_TASK_STATES.has(task.state) &&
          undoable &&
          !threadDeleted &&
          (confirmUndo ? (
            <button
              type="button"
              class="danger"
              aria-label="Confirm undo changes"
              disabled={!!busy}
              onClick={() => void run('task.undo')}
            >
              Tap again to undo
            </button>
          ) : (
            <button type="button" aria-label="Undo changes" disabled={!!busy} onClick={() => setConfirmUndo(true)}>
              Undo changes
            </button>
          ))}
      </div>
      {confirmCancel && ACTIVE_TASK_STATES.has(task.state) && (
        <p class="undo-preview" role="status">
          Cancel stops the task where it is: what it has done so far stays, the rest is not done.
        </p>
      )}
      {confirmUndo && changes && (
        <p class="undo-preview" role="status">
          {undoPreview(changes)}
        </p>
      )}
      <ErrorText error={error} />
      {showChanges && <ChangesList task={task} threadId={threadId} />}
    </div>
  );
}
