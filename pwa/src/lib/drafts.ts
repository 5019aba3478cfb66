// What the person was writing, per thread (and for a new task), kept across navigation and app
// restarts: the text in localStorage (read synchronously, so it is there on the first frame), the
// attached files in IndexedDB (Files are structured-cloned).
import { idb } from './idb.js';

const TEXT_PREFIX = 'errand.draft.';
const FILES_KEY = (key: string) => `draft-files:${key}`;

export const draftKey = (threadId: string | undefined) => threadId ?? 'new';

export function loadDraftText(key: string): string {
  try {
    return localStorage.getItem(TEXT_PREFIX + key) ?? '';
  } catch {
    return '';
  }
}

export function saveDraftText(key: string, text: string): void {
  try {
    if (text) localStorage.setItem(TEXT_PREFIX + key, text);
    else localStorage.removeItem(TEXT_PREFIX + key);
  } catch {
    /* storage full or blocked: the draft lives only in memory */
  }
}

export async function loadDraftFiles(key: string): Promise<File[]> {
  try {
    return (await idb.get<File[]>('kv', FILES_KEY(key))) ?? [];
  } catch {
    return [];
  }
}

export function saveDraftFiles(key: string, files: File[]): Promise<void> {
  return (files.length ? idb.put('kv', FILES_KEY(key), files) : idb.del('kv', FILES_KEY(key))).catch(() => undefined);
}

export function clearDraft(key: string): Promise<void> {
  saveDraftText(key, '');
  return saveDraftFiles(key, []);
}

/** Forget every draft (when this phone is unpaired). */
export function clearAllDrafts(): void {
  try {
    for (const k of Object.keys(localStorage)) if (k.startsWith(TEXT_PREFIX)) localStorage.removeItem(k);
  } catch {
    /* nothing to clear */
  }
}
