// The extension's own store: IndexedDB of the extension's origin, which extension pages and
// the background can open and a content script (which runs in the page's origin) cannot.
// It holds the settings (with the API key) and the persisted cache. storage.local, which
// content scripts can read, holds nothing.
const DB = 'affinity-lens';
const STORE = 'kv';

/** @type {Promise<IDBDatabase> | null} */
let opened = null;
function db() {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => { opened = null; reject(request.error); };
  });
  return opened;
}

/**
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest} use
 * @returns {Promise<any>}
 */
async function run(mode, use) {
  const store = (await db()).transaction(STORE, mode).objectStore(STORE);
  return new Promise((resolve, reject) => {
    const request = use(store);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** @param {string} key */
export const get = (key) => run('readonly', (s) => s.get(key));
/** @param {string} key @param {unknown} value */
export const set = (key, value) => run('readwrite', (s) => s.put(value, key));
/** @param {string} key */
export const remove = (key) => run('readwrite', (s) => s.delete(key));
