// A very small IndexedDB wrapper: one database, a key-value store and the outbox store.
// Values are structured-cloned, so Blobs (attachments composed offline) can be kept too.

const DB_NAME = 'errand';
const DB_VERSION = 1;
export type StoreName = 'kv' | 'outbox';

let dbPromise: Promise<IDBDatabase> | undefined;

function open(): Promise<IDBDatabase> {
  dbPromise ??= new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('kv')) db.createObjectStore('kv');
      if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox');
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => {
      dbPromise = undefined;
      reject(req.error);
    };
  });
  return dbPromise;
}

function run<T>(store: StoreName, mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  return open().then(
    (db) =>
      new Promise<T>((resolve, reject) => {
        const tx = db.transaction(store, mode);
        const req = fn(tx.objectStore(store));
        // Resolve when the transaction commits, so a caller that awaits a put knows it is durable.
        tx.oncomplete = () => resolve(req.result as T);
        tx.onerror = () => reject(tx.error);
        tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
      }),
  );
}

export const idb = {
  get: <T>(store: StoreName, key: string) => run<T | undefined>(store, 'readonly', (s) => s.get(key)),
  put: (store: StoreName, key: string, value: unknown) => run<void>(store, 'readwrite', (s) => s.put(value, key)),
  del: (store: StoreName, key: string) => run<void>(store, 'readwrite', (s) => s.delete(key)),
  all: <T>(store: StoreName) => run<T[]>(store, 'readonly', (s) => s.getAll()),
  clear: (store: StoreName) => run<void>(store, 'readwrite', (s) => s.clear()),
  /** Several puts and deletes in one transaction: all of them are durable, or none. */
  batch: (store: StoreName, puts: Array<[string, unknown]>, dels: string[] = []) =>
    run<void>(store, 'readwrite', (s) => {
      for (const key of dels) s.delete(key);
      let last: IDBRequest | undefined;
      for (const [key, value] of puts) last = s.put(value, key);
      return last ?? s.count();
    }),
};
