// The app's live stores and their persistence: the state cache (saved together with lastSeq, so a
// restart resumes exactly where the saved state ends), the pairing record and connection status.
// Importing this does nothing: main.tsx reads the saved state and starts saving it.
import type { Device } from '../../../shared/src/index.js';
import { clearAllDrafts } from '../lib/drafts.js';
import { idb } from '../lib/idb.js';
import { type AppState, emptyState } from './model.js';
import { createStore } from './store.js';

export interface AuthRecord {
  token: string;
  deviceId: string;
  hostName: string;
  deviceName: string;
  pairedAt: number;
}

export type ConnStatus = 'loading' | 'unpaired' | 'connecting' | 'online' | 'offline' | 'revoked';
export interface ConnState {
  status: ConnStatus;
  /** When we last heard from the host (any frame). */
  lastSeenAt?: number;
  /** When the next reconnect attempt happens, while offline. */
  retryAt?: number;
  device?: Device;
  hostName?: string;
  reason?: string;
}

export const appStore = createStore<AppState>(emptyState());
export const connStore = createStore<ConnState>({ status: 'loading' });
export const authStore = createStore<AuthRecord | undefined>(undefined);

const CACHE_KEY = 'cache';
const MAX_CACHED_DETAILS = 12;

// Each thread's history is kept under its own key, written in the same transaction as the rest
// (lastSeq with it) and only when it changed: a streamed word then clones one thread, not all.
const detailKey = (id: string) => `detail:${id}`;
type Cached = Pick<AppState, 'lastSeq' | 'lastAt' | 'hostId' | 'threads' | 'seen'> & {
  lastSeenAt?: number;
  /** The threads whose histories are saved (detailKey). */
  detailIds?: string[];
  /** Histories inline: how caches were saved before detailIds. */
  details?: AppState['details'];
};

/** The histories as last written (by reference): what the next save can leave out. */
let savedDetails = new Map<string, AppState['details'][string]>();

export async function loadPersisted(): Promise<void> {
  const [auth, cache] = await Promise.all([idb.get<AuthRecord>('kv', 'auth'), idb.get<Cached>('kv', CACHE_KEY)]);
  authStore.set(auth);
  if (cache && auth) {
    const { detailIds, details: inline, ...rest } = cache;
    const details: AppState['details'] = { ...inline };
    const loaded = await Promise.all(
      (detailIds ?? []).map((id) => idb.get<AppState['details'][string]>('kv', detailKey(id))),
    );
    (detailIds ?? []).forEach((id, i) => {
      const d = loaded[i];
      if (d) details[id] = d;
    });
    savedDetails = new Map(inline ? [] : Object.entries(details));
    appStore.set({ ...emptyState(), ...rest, details });
    connStore.set((c) => ({ ...c, lastSeenAt: cache.lastSeenAt }));
  }
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
/** When the pending save runs (Date.now()). */
let saveDue = 0;
let saving: Promise<void> = Promise.resolve();
/** The state the last save wrote, and when: a change since then that only added streamed words waits. */
let savedState: AppState | undefined;
let savedAt = 0;
const SAVE_MS = 400;
/** While words stream in, at most one save this often: each copies the whole thread, a task on the
 *  phone's main thread; a reload fetches the stream again from the saved lastSeq anyway. */
const STREAM_SAVE_MS = 2000;

/** Only streamed words changed: the cached parts are the same but some answers' text grew. */
function onlyWordsStreamed(prev: AppState, next: AppState): boolean {
  if (prev.threads !== next.threads || prev.seen !== next.seen || prev.hostId !== next.hostId) return false;
  if (prev.details === next.details) return true;
  const ids = Object.keys(next.details);
  if (ids.length !== Object.keys(prev.details).length) return false;
  return ids.every((id) => {
    const a = prev.details[id];
    const b = next.details[id];
    if (a === b) return true;
    if (!a || !b || a.tasks !== b.tasks || a.approvals !== b.approvals || a.questions !== b.questions) return false;
    if (a.changes !== b.changes || a.items.length !== b.items.length) return false;
    return b.items.every((item, i) => {
      const was = a.items[i];
      return item === was || (item.kind === 'assistant' && was.kind === 'assistant' && item.id === was.id);
    });
  });
}

/** Keep only the most recently updated threads' histories, to bound the cache. */
function trimDetails(s: AppState): AppState['details'] {
  const ids = Object.keys(s.details);
  if (ids.length <= MAX_CACHED_DETAILS) return s.details;
  ids.sort((a, b) => (s.threads[b]?.updatedAt ?? 0) - (s.threads[a]?.updatedAt ?? 0));
  return Object.fromEntries(ids.slice(0, MAX_CACHED_DETAILS).map((id) => [id, s.details[id]]));
}

export function saveNow(): Promise<void> {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  if (!authStore.get()) return saving;
  const s = appStore.get();
  savedState = s;
  savedAt = Date.now();
  const details = trimDetails(s);
  const cache: Cached = {
    lastSeq: s.lastSeq,
    lastAt: s.lastAt,
    hostId: s.hostId,
    threads: s.threads,
    detailIds: Object.keys(details),
    seen: s.seen,
    lastSeenAt: connStore.get().lastSeenAt,
  };
  // Compared once the previous save is done, with what it wrote.
  saving = saving
    .then(async () => {
      const puts: Array<[string, unknown]> = Object.entries(details)
        .filter(([id, d]) => savedDetails.get(id) !== d)
        .map(([id, d]) => [detailKey(id), d]);
      const dels = [...savedDetails.keys()].filter((id) => !details[id]).map(detailKey);
      await idb.batch('kv', [...puts, [CACHE_KEY, cache]], dels);
      savedDetails = new Map(Object.entries(details));
    })
    .catch(() => {
      // Not written: the next save writes every history again.
      savedDetails = new Map();
      savedState = undefined;
    });
  return saving;
}

export function scheduleSave(): void {
  const now = Date.now();
  // A save due soon covers this change too.
  if (saveTimer !== undefined && saveDue <= now + SAVE_MS) return;
  const words = !!savedState && onlyWordsStreamed(savedState, appStore.get());
  const wait = words ? Math.max(SAVE_MS, savedAt + STREAM_SAVE_MS - now) : SAVE_MS;
  if (saveTimer !== undefined && saveDue <= now + wait) return;
  clearTimeout(saveTimer);
  saveDue = now + wait;
  saveTimer = setTimeout(() => void saveNow(), wait);
}

/** Save the state cache a moment after each change (called once, from main.tsx). */
export function startPersistence(): () => void {
  return appStore.subscribe(scheduleSave);
}

export async function saveAuth(a: AuthRecord): Promise<void> {
  await idb.put('kv', 'auth', a);
  await idb.batch('kv', [], [CACHE_KEY, ...[...savedDetails.keys()].map(detailKey)]);
  savedDetails = new Map();
  savedState = undefined;
  appStore.set(emptyState());
  authStore.set(a);
}

export async function forgetPairing(): Promise<void> {
  clearTimeout(saveTimer);
  saveTimer = undefined;
  // The whole kv store: auth, the cached state, and drafts (what was written here stays here).
  clearAllDrafts();
  await Promise.all([idb.clear('kv'), idb.clear('outbox')]);
  savedDetails = new Map();
  savedState = undefined;
  authStore.set(undefined);
  appStore.set(emptyState());
}
