// The app's state and the pure functions that change it. No I/O here: the connection manager feeds
// events in, the UI reads state out, and tests drive it directly.
import type {
  Approval,
  ChangeEntry,
  Device,
  HostStatus,
  PushOutcome,
  Question,
  ServerEvent,
  Task,
  ThreadDetailResult,
  ThreadItem,
  ThreadSummary,
} from '../../../shared/src/index.js';
import { mostUrgentState } from '../../../shared/src/task-states.js';

export interface ThreadDetail {
  items: ThreadItem[];
  tasks: Record<string, Task>;
  approvals: Record<string, Approval>;
  questions: Record<string, Question>;
  changes: Record<string, ChangeEntry[]>;
}

export interface AppState {
  /** The newest event sequence number applied to this state; saved together with it. */
  lastSeq: number;
  /**
   * The `at` of the event numbered lastSeq, saved with it: the host checks it on resume, so a home
   * restored from an older backup (which numbers new events as the ones seen here) sends a snapshot.
   */
  lastAt?: number;
  hostId?: string;
  threads: Record<string, ThreadSummary>;
  /** Full histories of threads the user opened, kept current by events. */
  details: Record<string, ThreadDetail>;
  /** Per thread, the updatedAt the user has seen; newer means unread. */
  seen: Record<string, number>;
  devices?: Device[];
  host?: HostStatus;
  pushOutcomes: PushOutcome[];
  notices: { level: 'info' | 'warning' | 'error'; text: string; at: number }[];
}

export const emptyState = (): AppState => ({
  lastSeq: 0,
  threads: {},
  details: {},
  seen: {},
  pushOutcomes: [],
  notices: [],
});

export const emptyDetail = (): ThreadDetail => ({ items: [], tasks: {}, approvals: {}, questions: {}, changes: {} });

/** Where an item is: looked for from the end, where the items that change (streaming) are. */
function indexOfItem(items: ThreadItem[], id: string): number {
  for (let i = items.length - 1; i >= 0; i--) if (items[i].id === id) return i;
  return -1;
}

function upsertItem(items: ThreadItem[], item: ThreadItem): ThreadItem[] {
  const i = indexOfItem(items, item.id);
  if (i === -1) return [...items, item];
  const next = items.slice();
  next[i] = item;
  return next;
}

function withDetail(state: AppState, threadId: string, fn: (d: ThreadDetail) => ThreadDetail): AppState {
  const d = state.details[threadId];
  // A thread we have not loaded yet: its history is fetched when opened, nothing to keep current.
  if (!d) return state;
  return { ...state, details: { ...state.details, [threadId]: fn(d) } };
}

function taskThread(state: AppState, taskId: string): string | undefined {
  for (const [tid, d] of Object.entries(state.details)) if (d.tasks[taskId]) return tid;
  return undefined;
}

/** Apply one daemon event. Pure: returns a new state, never mutates. Idempotent for all but deltas,
 *  which the caller guards by sequence number. */
export function applyEvent(state: AppState, ev: ServerEvent): AppState {
  switch (ev.kind) {
    case 'thread.updated': {
      const threads = { ...state.threads };
      // A deleted thread leaves the list (threadsSorted). One whose history is held (open, or opened
      // before) keeps its summary marked deleted: its screen says so and offers Restore, instead of
      // looking live until a message into it is refused.
      if (ev.thread.state === 'deleted' && !state.details[ev.thread.id]) delete threads[ev.thread.id];
      else threads[ev.thread.id] = ev.thread;
      return { ...state, threads };
    }
    case 'item.added':
    case 'item.updated':
      return withDetail(state, ev.threadId, (d) => ({ ...d, items: upsertItem(d.items, ev.item) }));
    case 'item.delta':
      return withDetail(state, ev.threadId, (d) => {
        const i = indexOfItem(d.items, ev.itemId);
        if (i === -1) {
          const item: ThreadItem = {
            kind: 'assistant',
            id: ev.itemId,
            taskId: ev.taskId,
            text: ev.delta,
            createdAt: Date.now(),
          };
          return { ...d, items: [...d.items, item] };
        }
        const cur = d.items[i];
        if (cur.kind !== 'assistant') return d;
        const items = d.items.slice();
        items[i] = { ...cur, text: cur.text + ev.delta };
        return { ...d, items };
      });
    case 'task.updated': {
      // A task the loaded thread does not know yet is a new one: the thread's latest.
      const before = state.details[ev.task.threadId];
      const isNew = !!before && !before.tasks[ev.task.id];
      let next = withDetail(state, ev.task.threadId, (d) => ({ ...d, tasks: { ...d.tasks, [ev.task.id]: ev.task } }));
      const t = next.threads[ev.task.threadId];
      // Keep the list's state chip current even before the daemon's thread.updated arrives.
      if (t) {
        const isLast = t.lastTaskId === ev.task.id || !t.lastTaskId || isNew;
        const lastTaskState = isLast ? ev.task.state : t.lastTaskState;
        // With the thread's tasks at hand the chip's urgent state is exact; without, the daemon's
        // thread.updated follows.
        const tasks = next.details[ev.task.threadId]?.tasks;
        const urgentState = tasks
          ? mostUrgentState(
              Object.values(tasks).map((x) => x.state),
              lastTaskState,
            )
          : mostUrgentState([ev.task.state, ...(t.urgentState ? [t.urgentState] : [])], lastTaskState);
        next = {
          ...next,
          threads: {
            ...next.threads,
            [t.id]: { ...t, ...(isLast ? { lastTaskId: ev.task.id } : {}), lastTaskState, urgentState },
          },
        };
      }
      return next;
    }
    case 'approval.requested':
      return withDetail(state, ev.approval.threadId, (d) => ({
        ...d,
        approvals: { ...d.approvals, [ev.approval.id]: ev.approval },
      }));
    case 'approval.resolved':
      // Decided or expired, it goes: the computer keeps pending approvals only (thread.get), so a
      // phone that watched shows what a phone that loads the thread later shows. The step it asked
      // about records what became of it.
      return withDetail(state, ev.approval.threadId, (d) => {
        if (!d.approvals[ev.approval.id]) return d;
        const approvals = { ...d.approvals };
        delete approvals[ev.approval.id];
        return { ...d, approvals };
      });
    case 'question.asked':
      return withDetail(state, ev.question.threadId, (d) => ({
        ...d,
        questions: { ...d.questions, [ev.question.id]: ev.question },
      }));
    case 'question.answered': {
      const tid = taskThread(state, ev.taskId);
      if (!tid) return state;
      return withDetail(state, tid, (d) => {
        const questions = { ...d.questions };
        delete questions[ev.questionId];
        return { ...d, questions };
      });
    }
    case 'changes.updated': {
      const tid = taskThread(state, ev.taskId);
      if (!tid) return state;
      return withDetail(state, tid, (d) => {
        if (!ev.omitted) return { ...d, changes: { ...d.changes, [ev.taskId]: ev.changes } };
        // A list too long for an event: the one held is out of date, and a missing list is fetched (Cards).
        const changes = { ...d.changes };
        delete changes[ev.taskId];
        return { ...d, changes };
      });
    }
    case 'device.updated': {
      if (!state.devices) return state;
      const devices = state.devices.some((x) => x.id === ev.device.id)
        ? state.devices.map((x) => (x.id === ev.device.id ? ev.device : x))
        : [...state.devices, ev.device];
      return { ...state, devices };
    }
    case 'device.revoked':
      return state.devices ? { ...state, devices: state.devices.filter((x) => x.id !== ev.deviceId) } : state;
    case 'connector.updated': {
      if (!state.host) return state;
      const connectors = state.host.connectors.some((c) => c.name === ev.connector.name)
        ? state.host.connectors.map((c) => (c.name === ev.connector.name ? ev.connector : c))
        : [...state.host.connectors, ev.connector];
      return { ...state, host: { ...state.host, connectors } };
    }
    case 'host.updated':
      return { ...state, host: ev.status };
    case 'push.outcome':
      return { ...state, pushOutcomes: [ev.outcome, ...state.pushOutcomes].slice(0, 20) };
    case 'notice':
      return { ...state, notices: [...state.notices, { level: ev.level, text: ev.text, at: ev.at }].slice(-5) };
    case 'schedule.updated':
    case 'schedule.removed':
      // The Schedules screen keeps its own list, fed by these events (onEvent).
      return state;
    default:
      return unhandled(ev, state);
  }
}

/**
 * Every event kind the protocol defines is handled above: a new one fails to compile here until it
 * is. (At run time an event from a newer daemon is left alone.)
 */
function unhandled(_event: never, state: AppState): AppState {
  return state;
}

/** Apply a sequenced event exactly once: anything at or below lastSeq was applied already. `at`: the event frame's. */
export function applySequenced(state: AppState, seq: number, ev: ServerEvent, at?: number): AppState {
  if (seq <= state.lastSeq) return state;
  return { ...applyEvent(state, ev), lastSeq: seq, lastAt: at };
}

/** The reply of thread.get becomes the thread's detail. */
export function setDetail(state: AppState, r: ThreadDetailResult): AppState {
  const old = state.details[r.thread.id];
  const detail: ThreadDetail = {
    items: r.items,
    tasks: Object.fromEntries(r.tasks.map((t) => [t.id, t])),
    approvals: Object.fromEntries(r.approvals.map((a) => [a.id, a])),
    questions: Object.fromEntries(r.questions.map((q) => [q.id, q])),
    changes: old?.changes ?? {},
  };
  return {
    ...state,
    threads: { ...state.threads, [r.thread.id]: r.thread },
    details: { ...state.details, [r.thread.id]: detail },
  };
}

export function isUnread(state: AppState, t: ThreadSummary): boolean {
  return t.updatedAt > (state.seen[t.id] ?? 0);
}

/** Everything that exists now counts as seen (first sync of a freshly paired device). */
export function markAllSeen(state: AppState): AppState {
  const seen = { ...state.seen };
  for (const t of Object.values(state.threads)) seen[t.id] = Math.max(seen[t.id] ?? 0, t.updatedAt);
  return { ...state, seen };
}

export function markSeen(state: AppState, threadId: string): AppState {
  const t = state.threads[threadId];
  if (!t || (state.seen[threadId] ?? 0) >= t.updatedAt) return state;
  return { ...state, seen: { ...state.seen, [threadId]: t.updatedAt } };
}

export function threadsSorted(state: AppState): ThreadSummary[] {
  return Object.values(state.threads)
    .filter((t) => t.state === 'active')
    .sort((a, b) => b.updatedAt - a.updatedAt);
}

/** Items grouped by task, in order, for rendering task footers after each task's items. */
export function groupByTask(items: ThreadItem[]): { taskId: string | undefined; items: ThreadItem[] }[] {
  const groups: { taskId: string | undefined; items: ThreadItem[] }[] = [];
  for (const item of items) {
    const taskId = item.taskId;
    const last = groups[groups.length - 1];
    if (last && last.taskId === taskId) last.items.push(item);
    else groups.push({ taskId, items: [item] });
  }
  return groups;
}

const isTransientNotice = (item: ThreadItem | undefined): item is Extract<ThreadItem, { kind: 'notice' }> =>
  item?.kind === 'notice' && !!item.transient;

/**
 * The items a thread shows: a transient notice (a retry in progress) that the next item of its task
 * replaces with a newer one is left out, so a model call retried six times shows one line, the
 * latest, not six. The items themselves stay as the computer keeps them.
 */
export function withoutReplacedNotices(items: readonly ThreadItem[]): ThreadItem[] {
  return items.filter((item, i) => {
    const next = items[i + 1];
    return !(isTransientNotice(item) && isTransientNotice(next) && next.taskId === item.taskId);
  });
}

/** A `snapshot` (the client was too far behind for a replay): the list is replaced, histories are
 *  dropped (fetched again when opened), unread marks are kept. `at`: the snapshot's. */
export function applySnapshot(state: AppState, seq: number, threads: ThreadSummary[], at?: number): AppState {
  return {
    ...state,
    lastSeq: seq,
    lastAt: at,
    threads: Object.fromEntries(threads.map((t) => [t.id, t])),
    details: {},
  };
}

/** After auth: does our saved state describe another host, or a host whose log is behind what we saw? */
export function cacheIsStale(state: AppState, hostId: string, hostSeq: number): boolean {
  return (state.hostId !== undefined && state.hostId !== hostId) || hostSeq < state.lastSeq;
}
