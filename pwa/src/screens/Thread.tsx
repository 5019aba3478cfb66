import { render } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { Approval, Question, Task, ThreadItem } from '../../../shared/src/index.js';
import { ENDED_TASK_STATES, mostUrgentState } from '../../../shared/src/task-states.js';
import { visibleProse, visibleText } from '../../../shared/src/visible-text.js';
import { loadThread, request } from '../conn/connection.js';
import {
  createdStore,
  discard,
  type OutboxEntry,
  outboxStore,
  type ResponseEntry,
  responsesStore,
  retry,
} from '../conn/outbox.js';
import { answerFor, DECISION_WORDS, decisionFor, entriesFor, refusedFor } from '../conn/outbox-logic.js';
import { asksToContinue, relativeToRoot } from '../lib/approval-words.js';
import { renderMarkdown } from '../lib/markdown.js';
import { markdownParts } from '../lib/markdown-parts.js';
import { linkPaths, pathTargets } from '../lib/path-links.js';
import { back, hrefFor, navigate } from '../lib/route.js';
import { useThreadNotificationsClosed } from '../lib/thread-notifications.js';
import { appStore, connStore } from '../state/app.js';
import { groupByTask, markSeen, withoutReplacedNotices } from '../state/model.js';
import { useStore } from '../state/store.js';
import { ErrorText, Header, IconButton, StateChip } from '../ui/common.js';
import { focusLost, refocusWhenGone } from '../ui/focus.js';
import { useStoreByFrame } from '../ui/frame-store.js';
import { useKeepLatestOnResize } from '../ui/keep-latest-on-resize.js';
import { memo, sameElements } from '../ui/memo.js';
import {
  ApprovalCard,
  QuestionCard,
  resultFiles,
  TaskFooter,
  ToolRow,
  useCommandError,
  useRootPaths,
} from './Cards.js';
import { Composer } from './Composer.js';
import { CrashNotice, isCrashNotice } from './CrashNotice.js';
import { ThinkingItem } from './ThinkingItem.js';
import { FetchOffNotice, isFetchOffNotice, isWebStep, Sources, WebStepRow } from './WebSteps.js';

/** Outbox entries not yet matched by a user message the host already recorded (no double bubble). */
function unsent(entries: OutboxEntry[], items: ThreadItem[]): OutboxEntry[] {
  const used = new Set<string>();
  return entries.filter((e) => {
    const match = items.find(
      (i) => i.kind === 'user' && !used.has(i.id) && i.text === e.text && i.createdAt >= e.createdAt - 120_000,
    );
    if (match) {
      used.add(match.id);
      return false;
    }
    return true;
  });
}

function PendingBubble({ entry, online }: { entry: OutboxEntry; online: boolean }) {
  const names = [...entry.uploaded.map((u) => u.name), ...entry.files.map((f) => f.name)];
  return (
    <div
      class={`msg msg-user pending${entry.state === 'failed' ? ' failed' : ''}`}
      aria-label="Message not yet delivered"
    >
      <div class="bubble">
        <p class="plain">{entry.text}</p>
        {names.length > 0 && (
          <ul class="att-list">
            {names.map((n) => (
              <li key={n}>📎 {n}</li>
            ))}
          </ul>
        )}
      </div>
      {entry.state === 'failed' ? (
        <div class="pending-state">
          <span class="error">Not sent: {entry.error}</span>
          <button type="button" aria-label="Retry sending" onClick={() => void retry(entry.id)}>
            Retry
          </button>
          <button type="button" aria-label="Discard message" onClick={() => void discard(entry.id)}>
            Discard
          </button>
        </div>
      ) : (
        <div class="pending-state muted" role="status">
          {online ? 'Sending…' : 'Waiting for your computer'}
        </div>
      )}
    </div>
  );
}

/**
 * An answer or an approval decision the computer refused after its card had gone (answered from
 * another device, expired while this phone was away): the person learns it was not used.
 */
function RefusedNote({ entry }: { entry: ResponseEntry }) {
  // The computer's reason says what became of it ("…was already answered (from this or another device)").
  return (
    <div class="refused-note" role="status">
      <p>
        {entry.type === 'task.answer' ? (
          <>
            Your answer “<span class="plain">{entry.text}</span>”:
          </>
        ) : (
          <>
            Your {DECISION_WORDS[entry.decision]} for “<bdo dir="ltr">{visibleText(entry.summary)}</bdo>”:
          </>
        )}{' '}
        {entry.error}
      </p>
      <button type="button" aria-label="Dismiss this note" onClick={() => void discard(entry.id)}>
        Dismiss
      </button>
    </div>
  );
}

/** An approval or a question card is (partly) in the conversation's view. */
function waitingCardInView(scroller: HTMLElement): boolean {
  const view = scroller.getBoundingClientRect();
  // The web fetch notice too, while it offers its Allow button.
  return [...scroller.querySelectorAll('.approval-pending, .card.question, .web-off:has(button)')].some((card) => {
    const r = card.getBoundingClientRect();
    return r.bottom > view.top && r.top < view.bottom;
  });
}

/** A task's notice already says why it ended (after a crash, with what to do): the footer need not. */
export function reasonInItems(items: readonly ThreadItem[], task: Task | undefined): boolean {
  const reason = task?.reason;
  return !!reason && items.some((i) => i.kind === 'notice' && i.taskId === task.id && i.text.startsWith(reason));
}

/** The approvals a thread shows: the pending ones, as the computer gives them (thread.get). */
export const shownApprovals = (approvals: Record<string, Approval> | undefined): Approval[] =>
  Object.values(approvals ?? {}).filter((a) => a.state === 'pending');

/**
 * The approval the message box denies with the person's words when no question is open: the oldest
 * one waiting with no decision on its way. Typed while an action waits ("stop, only list them"), a
 * message queued behind the waiting task reached it only after the action had run. Not a "may it go
 * on?" check: denying that ends the task, and a message then runs as the next one.
 */
export function approvalToDeny(approvals: readonly Approval[], outbox: Parameters<typeof decisionFor>[0]) {
  return approvals
    .filter((a) => !asksToContinue(a) && decisionFor(outbox, a.id)?.state !== 'pending')
    .sort((a, b) => a.createdAt - b.createdAt)[0];
}

/**
 * The question the message box answers: the oldest open one whose answer is not already on its way
 * (a second answer to it would be refused).
 */
export function questionToAnswer(
  questions: Record<string, Question> | undefined,
  outbox: Parameters<typeof answerFor>[0],
): Question | undefined {
  return Object.values(questions ?? {})
    .filter((q) => answerFor(outbox, q.id)?.state !== 'pending')
    .sort((a, b) => a.createdAt - b.createdAt)[0];
}

/**
 * A question the agent asked, once answered: the question, and the person's answer as their own
 * message, where it happened. (While it is open, the question card and the message box handle it.)
 */
function AskedItem({ item }: { item: Extract<ThreadItem, { kind: 'tool' }> }) {
  if (item.state === 'pending' || item.state === 'running') return null;
  const q = (item.input as { question?: unknown } | undefined)?.question;
  const question = typeof q === 'string' && q ? q : item.summary.replace(/^Asked: /, '');
  return (
    <div class="asked">
      <p class="asked-q">
        <span aria-hidden="true">? </span>
        {visibleText(question, true)}
      </p>
      {item.state === 'completed' && item.output !== undefined ? (
        <div class="msg msg-user">
          <div class="bubble">
            <p class="plain">{item.output}</p>
          </div>
        </div>
      ) : (
        <p class="muted">Not answered.</p>
      )}
    </div>
  );
}

function Item({
  item,
  streaming,
  threadId,
  taskEnded,
}: {
  item: ThreadItem;
  streaming: boolean;
  threadId: string;
  taskEnded?: boolean;
}) {
  switch (item.kind) {
    case 'user':
      return (
        <div class="msg msg-user">
          <div class="bubble">
            <p class="plain">{item.text}</p>
            {item.attachments && item.attachments.length > 0 && (
              <ul class="att-list">
                {item.attachments.map((a) => (
                  <li key={a.id}>📎 {a.name}</li>
                ))}
              </ul>
            )}
          </div>
        </div>
      );
    case 'assistant':
      return <AssistantMessage item={item} streaming={streaming} threadId={threadId} />;
    case 'tool':
      if (item.tool === 'ask_user') return <AskedItem item={item} />;
      return isWebStep(item) ? <WebStepRow item={item} /> : <ToolRow item={item} threadId={threadId} />;
    case 'thought':
      return <ThinkingItem item={item} />;
    case 'notice':
      // A retry in progress is news only while its task runs.
      if (item.transient && taskEnded) return null;
      if (isFetchOffNotice(item)) return <FetchOffNotice item={item} threadId={threadId} />;
      if (isCrashNotice(item)) return <CrashNotice item={item} threadId={threadId} />;
      return <p class="item-notice">{item.text}</p>;
  }
}

/** An answer: its Markdown (each part rendered once per text), with the files its task produced as links. */
function AssistantMessage({
  item,
  streaming,
  threadId,
}: {
  item: Extract<ThreadItem, { kind: 'assistant' }>;
  streaming: boolean;
  threadId: string;
}) {
  const changes = useStore(appStore, (s) => s.details[threadId]?.changes[item.taskId]);
  const roots = useRootPaths();
  const targets = useMemo(
    () =>
      pathTargets(
        resultFiles(changes ?? [])
          .filter((f) => !f.undone)
          .map((f) => ({ path: f.path, rel: relativeToRoot(f.path, roots) })),
      ),
    [changes, roots],
  );
  const toHref = useCallback(
    (path: string) => hrefFor({ name: 'file', threadId, taskId: item.taskId, path }),
    [threadId, item.taskId],
  );
  // In parts: while it streams only the last one is rendered again, and finishing changes none.
  const body = useMemo(
    () =>
      markdownParts(item.text).map((part, i) => <MarkdownPart key={i} text={part} toHref={toHref} targets={targets} />),
    [item.text, targets, toHref],
  );
  return (
    <div class={`msg msg-assistant${streaming ? ' streaming' : ''}`} data-item={item.id}>
      <div class="md">{body}</div>
      <Sources sources={item.sources} />
    </div>
  );
}

/** One part of an answer's Markdown (see markdownParts): rendered again only when its text changes. */
const MarkdownPart = memo(function MarkdownPart({
  text,
  toHref,
  targets,
}: {
  text: string;
  toHref: (path: string) => string;
  targets: Map<string, string>;
}) {
  return <>{linkPaths(renderMarkdown(text), toHref, targets)}</>;
});

/**
 * The first answer of a session ran its Markdown code cold (compiled on first use): ~40 ms more
 * script in its first streamed frames on a slow phone, a long task. Once a thread is open, a sample
 * is rendered off screen while the phone is idle, so the first real answer is as quick as the rest.
 */
const WARM_UP = [
  '## A heading',
  '',
  'Some **bold**, *emphasis*, `code`, a [link](https://example.com) and ~~more~~.',
  '',
  '- one',
  '- two',
  '',
  '1. first',
  '',
  '> a quote',
  '',
  '```',
  'a code block',
  '```',
  '',
  '| a | b |',
  '| - | - |',
  '| 1 | 2 |',
].join('\n');
let warmedUp = false;
function warmUpMarkdown(): void {
  if (warmedUp) return;
  warmedUp = true;
  const run = () => {
    const box = document.createElement('div');
    const targets = new Map([['code', '/code']]);
    render(
      <div class="md">
        {markdownParts(WARM_UP).map((part, i) => (
          <MarkdownPart key={i} text={part} toHref={String} targets={targets} />
        ))}
      </div>,
      box,
    );
    render(null, box);
  };
  if (typeof requestIdleCallback === 'function') requestIdleCallback(run, { timeout: 2000 });
  else setTimeout(run, 500);
}

const MemoItem = memo(Item);
// The header and the task footer do not change while words stream in: not rendered again per frame.
const MemoHeader = memo(Header);
const MemoFooter = memo(TaskFooter);
const goBack = () => back();
// The message box keeps its own state: a streamed word changes none of its props.
const MemoComposer = memo(Composer);

interface TaskGroupProps {
  items: ThreadItem[];
  task: Task | undefined;
  approvals: Approval[];
  questions: Question[];
  threadId: string;
  /** The message streaming in right now, when it is in this group. */
  streamingItemId: string | undefined;
}

/** One task's part of the conversation: its messages and steps, its open cards, its footer. */
function TaskGroupView({ items, task, approvals, questions, threadId, streamingItemId }: TaskGroupProps) {
  const running = task?.state === 'running';
  // Before the first words arrive: nothing from the agent yet after the person's message.
  const thinking = running && items[items.length - 1]?.kind === 'user' && approvals.length === 0;
  const taskEnded = !!task && ENDED_TASK_STATES.has(task.state);
  return (
    // data-task: where focus goes once the composer's Stop has ended this task.
    <section class="task-group" data-task={task?.id}>
      {withoutReplacedNotices(items).map((item) => (
        <MemoItem
          key={item.id}
          item={item}
          threadId={threadId}
          taskEnded={taskEnded}
          streaming={item.id === streamingItemId}
        />
      ))}
      {approvals.map((a) => (
        <ApprovalCard key={a.id} approval={a} />
      ))}
      {questions.map((q) => (
        <QuestionCard key={q.id} question={q} />
      ))}
      {thinking && (
        <p class="thinking" role="status">
          <span class="thinking-dots" aria-hidden="true" />
          Thinking…
        </p>
      )}
      {task && (
        <MemoFooter
          task={task}
          threadId={threadId}
          awaitingPerson={approvals.length > 0 || questions.length > 0}
          reasonShown={reasonInItems(items, task)}
        />
      )}
    </section>
  );
}

// Groups are rebuilt on every update from items that mostly were not: compare what they hold.
const TaskGroup = memo(
  TaskGroupView,
  (a, b) =>
    sameElements(a.items, b.items) &&
    a.task === b.task &&
    sameElements(a.approvals, b.approvals) &&
    sameElements(a.questions, b.questions) &&
    a.threadId === b.threadId &&
    a.streamingItemId === b.streamingItemId,
);

/** Task groups rendered at first in a long thread; earlier ones come as the person scrolls up. */
const GROUPS_PER_PAGE = 30;

/** Shows earlier messages: tapped, or by itself once scrolled into view. */
function EarlierButton({ count, onShow }: { count: number; onShow: () => void }) {
  const ref = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) onShow();
    });
    io.observe(el);
    return () => io.disconnect();
  }, [onShow, count]);
  return (
    <button type="button" class="earlier" ref={ref} onClick={onShow}>
      Show earlier messages ({count} {count === 1 ? 'task' : 'tasks'})
    </button>
  );
}

function useThreadPresence(threadId: string | undefined, online: boolean): void {
  useEffect(() => {
    if (!online || !threadId) return;
    const send = () =>
      void request({ type: 'presence.set', threadId, foreground: document.visibilityState === 'visible' }).catch(
        () => undefined,
      );
    send();
    document.addEventListener('visibilitychange', send);
    return () => {
      document.removeEventListener('visibilitychange', send);
      void request({ type: 'presence.set', threadId: null, foreground: document.visibilityState === 'visible' }).catch(
        () => undefined,
      );
    };
  }, [threadId, online]);
}

/**
 * In the message box's place while the thread is deleted: the computer refuses messages, retries and
 * resumes until it is restored. Restore brings it back as it was; the list is a tap away.
 */
function DeletedThreadBar({ threadId }: { threadId: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useCommandError();
  const bar = useRef<HTMLDivElement>(null);
  // Deleted while the person was in the message box (now gone): focus comes here, not to the top.
  useEffect(() => {
    if (focusLost()) bar.current?.focus({ preventScroll: true });
  }, []);
  const restore = async () => {
    if (busy) return;
    setBusy(true);
    setError();
    // This bar goes once restored: focus goes to the screen's heading (the thread's title), not to
    // the message box, whose focus would open the phone's keyboard unasked.
    const screen = bar.current?.closest('.screen');
    refocusWhenGone(() => [
      screen?.querySelector<HTMLElement>('h1'),
      screen?.querySelector<HTMLElement>('.composer-input'),
    ]);
    try {
      const { thread } = await request({ type: 'thread.restore', threadId });
      // Live again at once (the thread.updated event says the same): the message box comes back.
      appStore.set((s) => ({ ...s, threads: { ...s.threads, [thread.id]: thread } }));
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="deleted-thread" ref={bar} tabIndex={-1} aria-label="Deleted thread">
      <p role="status">
        <strong>This thread was deleted.</strong> Restore it to go on here.
      </p>
      <ErrorText error={error} />
      <div class="btn-row">
        {/* aria-disabled, not disabled: focus stays on it while the restore is on its way. */}
        <button type="button" class="primary" aria-disabled={busy} onClick={() => void restore()}>
          Restore
        </button>
        <button type="button" onClick={goBack}>
          All threads
        </button>
      </div>
    </div>
  );
}

export function ThreadScreen({ id }: { id: string }) {
  const pendingId = id.startsWith('pending:') ? id : undefined;
  const created = useStore(createdStore, (m) => (pendingId ? m[pendingId] : undefined));
  const queued = useStore(outboxStore, (o) => (pendingId ? o.some((e) => `pending:${e.id}` === pendingId) : true));
  useEffect(() => {
    if (created) navigate({ name: 'thread', id: created }, true);
    // A new-task link whose message went out before a restart: nothing left to show here.
    else if (!queued) navigate({ name: 'list' }, true);
  }, [created, queued]);

  const online = useStore(connStore, (c) => c.status === 'online');
  const thread = useStore(appStore, (s) => s.threads[id]);
  // Streamed words arrive as many events: the conversation shows them once per frame.
  const detail = useStoreByFrame(appStore, (s) => s.details[id]);
  const outbox = useStore(outboxStore, (o) => o);
  const responses = useStore(responsesStore, (r) => r);
  const [error, setError] = useState<string>();
  const scroller = useRef<HTMLDivElement>(null);
  const nearBottom = useRef(true);
  // "Latest ↓": scrolled up from the newest message, and no waiting card in view.
  const [latestPill, setLatestPill] = useState(false);
  // Stable (refs and a state setter only), so the memoised composer is not rendered again per word.
  const toLatest = useCallback((smooth = false) => {
    const el = scroller.current;
    nearBottom.current = true;
    setLatestPill(false);
    if (el) el.scrollTo({ top: el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' });
  }, []);
  const onSent = useCallback(() => toLatest(), [toLatest]);

  useThreadPresence(pendingId ? undefined : id, online);
  useThreadNotificationsClosed(pendingId ? undefined : id);
  useEffect(warmUpMarkdown, []);

  useEffect(() => {
    if (pendingId) return;
    const load = () =>
      loadThread(id).then(
        () => setError(undefined),
        (e: Error) => setError(e.message),
      );
    if (online) void load();
  }, [id, online, pendingId]);

  useEffect(() => {
    if (thread) appStore.set((s) => markSeen(s, id));
  }, [thread?.updatedAt, id]);

  const items = detail?.items ?? [];
  const pending = unsent(entriesFor(outbox, id), items);
  const lastItem = items[items.length - 1];
  const streamingNow =
    lastItem?.kind === 'assistant' && Object.values(detail?.tasks ?? {}).some((t) => t.state === 'running');

  // Opened with an approval waiting: start at the card's top, its expiry in view (once per thread).
  const shownApprovalFor = useRef<string | undefined>(undefined);
  const scrolledByApp = useRef(false);
  const approvals = shownApprovals(detail?.approvals);
  const pendingApproval = approvals[0];
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && pendingApproval && shownApprovalFor.current !== id) {
      shownApprovalFor.current = id;
      const card = el.querySelector<HTMLElement>('.approval-pending');
      if (card) {
        nearBottom.current = false;
        // Our own scroll, not the person's: no "Jump to latest" over the Approve and Deny buttons.
        scrolledByApp.current = true;
        // (Measured on screen: the card's offsetParent is its task group, not the conversation.)
        el.scrollTop += card.getBoundingClientRect().top - el.getBoundingClientRect().top - 8;
        return;
      }
    }
    if (el && nearBottom.current) el.scrollTop = el.scrollHeight;
  });
  // The keyboard opening or the message box growing shrinks the conversation without a render here.
  const resizePending = useKeepLatestOnResize(scroller, nearBottom);

  // The thread's title is the model's words: hidden characters (tag text) shown as markers.
  const title = pendingId ? 'New task' : visibleProse(thread?.title ?? '') || 'Thread';
  // Deleted (on another device, or here): read-only, with Restore where the message box was.
  const deleted = thread?.state === 'deleted';
  const groups = useMemo(() => groupByTask(items), [items]);
  // A long thread shows its latest tasks first; earlier ones are added above, keeping the view in place.
  const [shownGroups, setShownGroups] = useState(GROUPS_PER_PAGE);
  useEffect(() => setShownGroups(GROUPS_PER_PAGE), [id]);
  const start = Math.max(0, groups.length - shownGroups);
  const keepFromBottom = useRef<number | undefined>(undefined);
  const showEarlier = useCallback(() => {
    const el = scroller.current;
    if (el) keepFromBottom.current = el.scrollHeight - el.scrollTop;
    setShownGroups((n) => n + GROUPS_PER_PAGE);
  }, []);
  useLayoutEffect(() => {
    const el = scroller.current;
    if (el && keepFromBottom.current !== undefined) {
      el.scrollTop = el.scrollHeight - keepFromBottom.current;
      keepFromBottom.current = undefined;
    }
  }, [shownGroups]);
  const headerState = detail
    ? mostUrgentState(
        Object.values(detail.tasks).map((t) => t.state),
        thread?.lastTaskState,
      )
    : (thread?.urgentState ?? thread?.lastTaskState);
  // While the agent waits on a question, the bottom box answers it (people type there, not in the card).
  const openQuestion = questionToAnswer(detail?.questions, responses);
  const openApproval = openQuestion ? undefined : approvalToDeny(approvals, responses);
  const refused = refusedFor(responses, id, {
    questions: new Set(Object.keys(detail?.questions ?? {})),
    approvals: new Set(approvals.map((a) => a.id)),
  });
  // The task the composer's Stop ends: one that is working or waiting for the person right now.
  const workingTask = Object.values(detail?.tasks ?? {}).find((t) => t.state === 'running' || t.state === 'waiting');
  const shownTasks = new Set(groups.map((g) => g.taskId));
  const orphanTasks = Object.values(detail?.tasks ?? {}).filter((t) => !shownTasks.has(t.id));

  // Built once per state shown, so the memoised header sees the same props while words stream in.
  const backButton = useMemo(() => <IconButton icon="back" label="Back to threads" onClick={goBack} />, []);
  const chip = useMemo(() => (headerState ? <StateChip state={headerState} /> : undefined), [headerState]);

  return (
    <div class="screen">
      <MemoHeader title={title} left={backButton} sub={chip} />
      <div
        class="conversation"
        ref={scroller}
        role="log"
        aria-label="Conversation"
        aria-live="polite"
        // While words stream in, screen readers wait and then hear the message once.
        aria-busy={streamingNow ? 'true' : 'false'}
        onScroll={(e) => {
          const el = e.currentTarget;
          // The browser's own scroll as the conversation shrinks (scroll anchoring as the keyboard
          // opens), not the person's: the newest stays the place to keep until the resize is handled.
          if (resizePending()) return;
          nearBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 80;
          if (scrolledByApp.current) {
            scrolledByApp.current = false;
            return;
          }
          // Never over a card waiting for the person: the pill would hide its command or its buttons.
          const showPill = !nearBottom.current && !waitingCardInView(el);
          if (latestPill !== showPill) setLatestPill(showPill);
        }}
      >
        {!pendingId &&
          !detail &&
          (error ? (
            <ErrorText error={error} />
          ) : (
            <p class="muted center">{online ? 'Loading…' : 'This thread will load when your computer is reachable.'}</p>
          ))}
        {start > 0 && <EarlierButton count={start} onShow={showEarlier} />}
        {groups.slice(start).map((g, gi) => (
          <TaskGroup
            key={g.taskId ?? `g${start + gi}`}
            items={g.items}
            task={g.taskId ? detail?.tasks[g.taskId] : undefined}
            approvals={approvals.filter((a) => a.taskId === g.taskId)}
            questions={Object.values(detail?.questions ?? {}).filter((q) => q.taskId === g.taskId)}
            threadId={id}
            streamingItemId={streamingNow && g.items.at(-1) === lastItem ? lastItem?.id : undefined}
          />
        ))}
        {orphanTasks.map((t) => (
          <section key={t.id} class="task-group" data-task={t.id}>
            <MemoFooter task={t} threadId={id} />
          </section>
        ))}
        {refused.map((e) => (
          <RefusedNote key={e.id} entry={e} />
        ))}
        {pending.map((e) => (
          <PendingBubble key={e.id} entry={e} online={online} />
        ))}
      </div>
      {latestPill && (
        // Anchored to the composer's top edge: the pill sits above the message box at any text size.
        <div class="jump-anchor">
          {/* Short, so it stays one line at any text size; its name says the whole of it. */}
          <button type="button" class="jump-latest" aria-label="Jump to latest ↓" onClick={() => toLatest(true)}>
            Latest ↓
          </button>
        </div>
      )}
      {!pendingId && deleted && <DeletedThreadBar threadId={id} />}
      {!pendingId && !deleted && (
        <MemoComposer
          threadId={id}
          placeholder="Follow up…"
          answering={openQuestion}
          denying={openApproval}
          stoppable={workingTask?.id}
          onSent={onSent}
        />
      )}
    </div>
  );
}

export function NewTaskScreen() {
  return (
    <div class="screen">
      <Header title="New task" left={<IconButton icon="back" label="Back to threads" onClick={() => back()} />} />
      <div class="conversation">
        <p class="muted pad">
          Tell your computer what to do. It works in the folders you allowed and tells you when it's done.
        </p>
      </div>
      <Composer
        autoFocus
        placeholder="e.g. Summarise the PDFs in Downloads into a report"
        onQueued={(pid) => navigate({ name: 'thread', id: `pending:${pid}` }, true)}
      />
    </div>
  );
}
