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
  tasks: Map<string, Recorded>;
  taskIds: string[];
  agentTasks: Map<string, Recorded>;
  messages: unknown[];
  /** JSON of the last messages, which may be changed in place. */
  tail: string[];
  agentRest: string;
}

const TAIL = 2;
const json = (v: unknown) => JSON.stringify(v) ?? 'null';

/**
 * A task or per-task agent record as it was recorded, cheap to compare again. Tasks and records are
 * changed in place, so each is compared on every change of its thread: as JSON, a thread with
 * 3,000 tasks cost every turn's checkpoint about 6 ms. Kept field by field instead: a primitive as
 * it is, a flat object or array (a task's usage, its changed files) as a shallow copy, anything
 * deeper as JSON. A record's `start` (the person's message, any photo as base64) is set once and
 * replaced, never changed in place, so it is kept as the object itself.
 */
interface Recorded {
  keys: string[];
  values: unknown[];
}
class Deep {
  constructor(readonly json: string) {}
}
class Flat {
  constructor(
    readonly keys: string[],
    readonly values: unknown[],
  ) {}
}
class FlatList {
  constructor(readonly values: unknown[]) {}
}
const BY_IDENTITY = 'start';

const isPrimitive = (v: unknown) => v === null || (typeof v !== 'object' && typeof v !== 'function');
// NaN equals itself here, as in JSON (both "null").
const samePrimitive = (a: unknown, b: unknown) => a === b || (Number.isNaN(a) && Number.isNaN(b));

function keep(key: string, v: unknown): unknown {
  if (isPrimitive(v) || key === BY_IDENTITY) return v;
  if (Array.isArray(v)) return v.every(isPrimitive) ? new FlatList([...v]) : new Deep(json(v));
  const keys = Object.keys(v as object);
  const values = keys.map((k) => (v as Record<string, unknown>)[k]);
  return values.every(isPrimitive) ? new Flat(keys, values) : new Deep(json(v));
}

function recordedOf(v: object): Recorded {
  const keys = Object.keys(v);
  return { keys, values: keys.map((k) => keep(k, (v as Record<string, unknown>)[k])) };
}

function sameKeys(v: object, keys: string[], values: unknown[], same: (a: unknown, b: unknown, k: string) => boolean) {
  // for-in, not Object.keys: no array made per task per change (tasks and records are plain objects).
  let i = 0;
  for (const k in v) {
    if (k !== keys[i] || !same((v as Record<string, unknown>)[k], values[i], k)) return false;
    i++;
  }
  return i === keys.length;
}

function sameValue(v: unknown, kept: unknown, key: string): boolean {
  if (key === BY_IDENTITY) return v === kept;
  if (kept instanceof Deep) return !isPrimitive(v) && json(v) === kept.json;
  if (kept instanceof FlatList)
    return Array.isArray(v) && v.length === kept.values.length && v.every((x, i) => samePrimitive(x, kept.values[i]));
  if (kept instanceof Flat)
    return !isPrimitive(v) && !Array.isArray(v) && sameKeys(v as object, kept.keys, kept.values, samePrimitive);
  return isPrimitive(v) && samePrimitive(v, kept);
}

const sameAsRecorded = (v: unknown, r: Recorded | undefined) =>
  r !== undefined && !isPrimitive(v) && sameKeys(v as object, r.keys, r.values, sameValue);

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
    tasks: new Map(doc.tasks.map((t) => [t.id, recordedOf(t)])),
    taskIds: doc.tasks.map((t) => t.id),
    agentTasks: new Map(Object.entries(a.tasks).map(([k, v]) => [k, recordedOf(v as object)])),
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

/** Tasks changed or added since recorded (the shadow is brought up to date), and the new order when one was removed or moved. */
function diffTasks(list: Task[], shadow: Shadow): { changed: Task[]; order?: string[] } {
  const changed: Task[] = [];
  const ids = shadow.taskIds;
  let moved = list.length < ids.length;
  for (let i = 0; i < list.length; i++) {
    const t = list[i];
    if (i < ids.length && ids[i] !== t.id) moved = true;
    if (!sameAsRecorded(t, shadow.tasks.get(t.id))) {
      changed.push(t);
      shadow.tasks.set(t.id, recordedOf(t));
    }
  }
  if (!moved) {
    for (let i = ids.length; i < list.length; i++) ids.push(list[i].id);
    return { changed };
  }
  shadow.taskIds = list.map((t) => t.id);
  const present = new Set(shadow.taskIds);
  for (const id of shadow.tasks.keys()) if (!present.has(id)) shadow.tasks.delete(id);
  return { changed, order: shadow.taskIds };
}

/** Per-task agent records set or removed (null) since recorded; the shadow is brought up to date. */
function diffRecords(records: Record<string, unknown>, shadow: Shadow): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  const recorded = shadow.agentTasks.size;
  let known = 0;
  for (const k in records) {
    if (!Object.hasOwn(records, k)) continue;
    const v = records[k];
    const was = shadow.agentTasks.get(k);
    if (was) known++;
    if (!sameAsRecorded(v, was)) {
      out ??= {};
      out[k] = v;
      shadow.agentTasks.set(k, isPrimitive(v) ? { keys: [], values: [] } : recordedOf(v as object));
    }
  }
  // Some recorded record is gone only when fewer were met than were recorded.
  if (known < recorded)
    for (const k of shadow.agentTasks.keys())
      if (!Object.hasOwn(records, k)) {
        out ??= {};
        out[k] = null;
        shadow.agentTasks.delete(k);
      }
  return out;
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
  const recordedItems = shadow.items.length;
  const items = diffItems(doc.items, shadow.items);
  if (items.changed.length || items.order) {
    delta.items = items.changed;
    if (items.order) delta.itemOrder = items.order;
    any = true;
  }
  // Appended only (the common case): the shadow takes the new ones, not a copy of the whole list.
  if (!items.order && items.changed.length === doc.items.length - recordedItems && doc.items.length >= recordedItems)
    shadow.items.push(...items.changed);
  else shadow.items = [...doc.items];
  const tasks = diffTasks(doc.tasks, shadow);
  if (tasks.changed.length || tasks.order) {
    delta.tasks = tasks.changed;
    if (tasks.order) delta.taskOrder = tasks.order;
    any = true;
  }

  const a = agentParts(doc);
  const records = diffRecords(a.tasks, shadow);
  if (records) {
    delta.agentTasks = records;
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
  if (from === old.length) old.push(...msgs.slice(from));
  else shadow.messages = [...msgs];
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
