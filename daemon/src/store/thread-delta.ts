// What changed in a thread since it was last recorded: the journal stores this delta, never the
// whole thread. A shadow per thread remembers what was recorded (JSON of small parts, references of
// conversation messages) so a turn's checkpoint costs what the turn added.
import type { Task, ThreadItem } from '../../../shared/src/index.js';
import type { ThreadDoc, ThreadMeta } from './thread-doc.js';

export interface ThreadDelta {
  id: string;
  /** A new thread: the whole document. */
  create?: ThreadDoc;
  meta?: ThreadMeta;
  /** Items added or replaced (by id), in document order. */
  items?: ThreadItem[];
  /** The full id order, when items were removed or moved. */
  itemOrder?: string[];
  tasks?: Task[];
  taskOrder?: string[];
  /** Per-task agent records set (null: removed). */
  agentTasks?: Record<string, unknown>;
  /** The conversation: cut to `from` messages, then append `add`. */
  messages?: { from: number; add: unknown[] };
  /** Other keys of the agent record. */
  agentRest?: Record<string, unknown>;
}

interface Shadow {
  meta: string;
  /** Items are replaced, never changed in place (see upsertItem), so the recorded objects are enough. */
  items: ThreadItem[];
  tasks: Map<string, string>;
  taskIds: string[];
  agentTasks: Map<string, RecordMark>;
  messages: unknown[];
  /** JSON of the last messages, which may be changed in place. */
  tail: string[];
  agentRest: string;
}

const TAIL = 2;
const json = (v: unknown) => JSON.stringify(v) ?? 'null';

/**
 * How a per-task agent record was recorded. Its `start` (the person's message, with any images as
 * base64) is set once and replaced, never changed in place, so it is compared as an object: turned
 * into JSON on every change, a 4 MB photo in one earlier task cost every later change to the
 * thread (each turn's checkpoint) two 4 MB strings.
 */
interface RecordMark {
  start: unknown;
  rest: string;
}

function markOf(v: unknown): RecordMark {
  if (v === null || typeof v !== 'object' || !('start' in v)) return { start: undefined, rest: json(v) };
  const { start, ...rest } = v as { start: unknown };
  return { start, rest: json(rest) };
}

const sameMark = (a: RecordMark | undefined, b: RecordMark) =>
  a !== undefined && a.start === b.start && a.rest === b.rest;

function agentParts(doc: ThreadDoc): {
  messages: unknown[];
  tasks: Record<string, unknown>;
  rest: Record<string, unknown>;
} {
  const { messages, tasks, ...rest } = doc.agent as { messages?: unknown[]; tasks?: Record<string, unknown> };
  return { messages: messages ?? [], tasks: tasks ?? {}, rest };
}

export function shadowOf(doc: ThreadDoc): Shadow {
  const a = agentParts(doc);
  return {
    meta: json(doc.meta),
    items: [...doc.items],
    tasks: new Map(doc.tasks.map((t) => [t.id, json(t)])),
    taskIds: doc.tasks.map((t) => t.id),
    agentTasks: new Map(Object.entries(a.tasks).map(([k, v]) => [k, markOf(v)])),
    messages: [...a.messages],
    tail: a.messages.slice(-TAIL).map(json),
    agentRest: json(a.rest),
  };
}

function isPrefix(prefix: string[], all: string[]): boolean {
  if (prefix.length > all.length) return false;
  for (let i = 0; i < prefix.length; i++) if (prefix[i] !== all[i]) return false;
  return true;
}

function diffList<T extends { id: string }, K>(
  list: T[],
  seen: Map<string, K>,
  ids: string[],
  key: (x: T) => K,
): { changed: T[]; order?: string[]; seen: Map<string, K>; ids: string[] } {
  const changed: T[] = [];
  const next = new Map<string, K>();
  for (const x of list) {
    const k = key(x);
    next.set(x.id, k);
    if (seen.get(x.id) !== k) changed.push(x);
  }
  const nowIds = list.map((x) => x.id);
  return { changed, order: isPrefix(ids, nowIds) ? undefined : nowIds, seen: next, ids: nowIds };
}

/**
 * Items added or replaced since `recorded` (compared as objects), and the new order when one was
 * removed or moved. Most changes append: the recorded items come first, unchanged, and nothing is
 * looked up (a long thread's items were put in a map on every change).
 */
function diffItems(list: ThreadItem[], recorded: ThreadItem[]): { changed: ThreadItem[]; order?: string[] } {
  let same = 0;
  const common = Math.min(list.length, recorded.length);
  while (same < common && list[same] === recorded[same]) same++;
  if (same === recorded.length) return { changed: list.slice(same) };
  const known = new Set(recorded);
  const ids = list.map((x) => x.id);
  const recordedIds = recorded.map((x) => x.id);
  return { changed: list.filter((x) => !known.has(x)), order: isPrefix(recordedIds, ids) ? undefined : ids };
}

/** The delta from the shadow to `doc`, updating the shadow; undefined when nothing changed. */
export function diffThread(doc: ThreadDoc, shadow: Shadow): ThreadDelta | undefined {
  const delta: ThreadDelta = { id: doc.meta.id };
  let any = false;
  const meta = json(doc.meta);
  if (meta !== shadow.meta) {
    delta.meta = { ...doc.meta };
    shadow.meta = meta;
    any = true;
  }
  const items = diffItems(doc.items, shadow.items);
  if (items.changed.length || items.order) {
    delta.items = items.changed;
    if (items.order) delta.itemOrder = items.order;
    any = true;
  }
  shadow.items = [...doc.items];
  const tasks = diffList(doc.tasks, shadow.tasks, shadow.taskIds, json);
  if (tasks.changed.length || tasks.order) {
    delta.tasks = tasks.changed;
    if (tasks.order) delta.taskOrder = tasks.order;
    any = true;
  }
  shadow.tasks = tasks.seen;
  shadow.taskIds = tasks.ids;

  const a = agentParts(doc);
  const at: Record<string, unknown> = {};
  let anyTask = false;
  const nextTasks = new Map<string, RecordMark>();
  for (const [k, v] of Object.entries(a.tasks)) {
    const mark = markOf(v);
    nextTasks.set(k, mark);
    if (!sameMark(shadow.agentTasks.get(k), mark)) {
      at[k] = v;
      anyTask = true;
    }
  }
  for (const k of shadow.agentTasks.keys())
    if (!nextTasks.has(k)) {
      at[k] = null;
      anyTask = true;
    }
  shadow.agentTasks = nextTasks;
  if (anyTask) {
    delta.agentTasks = at;
    any = true;
  }

  // Messages: the first one that is not the recorded object, or (for the last few, which may be
  // changed in place) whose JSON differs.
  const msgs = a.messages;
  const old = shadow.messages;
  let from = 0;
  const common = Math.min(msgs.length, old.length);
  while (from < common && msgs[from] === old[from]) from++;
  const tailStart = Math.max(0, old.length - shadow.tail.length);
  for (let i = tailStart; i < from; i++) {
    if (json(msgs[i]) !== shadow.tail[i - tailStart]) {
      from = i;
      break;
    }
  }
  if (from < msgs.length || msgs.length !== old.length) {
    delta.messages = { from, add: msgs.slice(from) };
    any = true;
  }
  shadow.messages = [...msgs];
  shadow.tail = msgs.slice(-TAIL).map(json);

  const rest = json(a.rest);
  if (rest !== shadow.agentRest) {
    delta.agentRest = a.rest;
    shadow.agentRest = rest;
    any = true;
  }
  return any ? delta : undefined;
}

/** Apply a recorded delta to a document (on load). */
export function applyDelta(doc: ThreadDoc, d: ThreadDelta): void {
  if (d.meta) doc.meta = d.meta;
  const merge = <T extends { id: string }>(list: T[], changed: T[] | undefined, order: string[] | undefined): T[] => {
    if (!changed && !order) return list;
    const byId = new Map(list.map((x) => [x.id, x]));
    const out = [...list];
    for (const x of changed ?? []) {
      if (byId.has(x.id)) out[out.findIndex((y) => y.id === x.id)] = x;
      else out.push(x);
      byId.set(x.id, x);
    }
    return order ? order.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])) : out;
  };
  doc.items = merge(doc.items, d.items, d.itemOrder);
  doc.tasks = merge(doc.tasks, d.tasks, d.taskOrder);
  const agent = doc.agent as { messages?: unknown[]; tasks?: Record<string, unknown> };
  if (d.agentRest) {
    const { messages, tasks } = agent;
    doc.agent = { ...d.agentRest, ...(messages ? { messages } : {}), ...(tasks ? { tasks } : {}) };
  }
  const a = doc.agent as { messages?: unknown[]; tasks?: Record<string, unknown> };
  if (d.agentTasks) {
    a.tasks ??= {};
    for (const [k, v] of Object.entries(d.agentTasks)) {
      if (v === null) delete a.tasks[k];
      else a.tasks[k] = v;
    }
  }
  if (d.messages) {
    a.messages = [...(a.messages ?? []).slice(0, d.messages.from), ...d.messages.add];
  }
}
