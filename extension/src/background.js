// Background (Chrome service worker, Firefox event page): a router from the browser's
// events to the Lens (Rust, `lens_worker`), which decodes every message (the protocol is
// in crates/lens-web/src/protocol.rs and docs/design.md), checks its sender, decides
// and answers. This file only gives it the browser: storage, the badge, tabs.
// Listeners are registered synchronously at start: an MV3 worker woken by a message must
// find its listener before any await.
import './browser-api.js';
import init, { Lens, migrateSettings } from './wasm/lens_worker.js';
import * as store from './store.js';

const api = globalThis.lensApi;
const SETTINGS = 'settings';
const STATE = 'state';
// The index of the firm's companies: bytes (a few hundred KiB for 50,000 companies).
const INDEX = 'index';
const MIGRATED = 'migrated';

/** @type {import('./wasm/lens_worker.js').LensHost} */
const host = {
  sessionGet: async (key) => (await api.storage.session.get(key))[key],
  sessionSet: (key, value) => api.storage.session.set({ [key]: value }),
  sessionRemove: (keys) => api.storage.session.remove(keys),
  saveSettings: (settings) => store.set(SETTINGS, settings),
  stateChanged: () => persistSoon(),
  forgetState: () => {
    clearTimeout(saveTimer);
    clearTimeout(indexTimer);
    store.remove(STATE).catch(() => {});
    store.remove(INDEX).catch(() => {});
  },
  indexChanged: () => persistIndexSoon(),
  // The gateway's index is binary: fetched here (the client's transport reads text). Without
  // an Authorization header the browser's cookies go with it, as with cards.
  fetchBytes: async (url, headers) => {
    try {
      const auth = headers.some(([k]) => k.toLowerCase() === 'authorization');
      const res = await fetch(url, {
        headers, credentials: auth ? 'omit' : 'include', cache: 'no-store', redirect: 'error',
      });
      const bytes = res.status === 200 ? new Uint8Array(await res.arrayBuffer()) : new Uint8Array(0);
      const retry = Number(res.headers.get('retry-after'));
      return { status: res.status, etag: res.headers.get('etag'), retryAfter: Number.isFinite(retry) && retry > 0 ? retry : null, bytes };
    } catch {
      return null;
    }
  },
  setBadge: (tabId, badge) => {
    api.action.setBadgeBackgroundColor({ tabId, color: badge.color }).catch(() => {});
    api.action.setBadgeText({ tabId, text: badge.text }).catch(() => {});
    api.action.setTitle({ tabId, title: badge.title }).catch(() => {});
  },
  // The overlay frame reaches its tab's content script through here, never by postMessage
  // (which the page could read).
  toContent: (tabId, message) => { api.tabs.sendMessage(tabId, message, { frameId: 0 }).catch(() => {}); },
  tabUrl: async (tabId) => (await api.tabs.get(tabId).catch(() => null))?.url,
};

// The wasm, the settings and the cache and limiter a previous worker left.
const lens = (async () => {
  await init({ module_or_path: new URL('./wasm/lens_worker_bg.wasm', import.meta.url) });
  const origins = {
    extension: new URL(api.runtime.getURL('')).origin,
    // Chrome's use_dynamic_url serves the overlay from another origin, still ours.
    overlay: new URL(api.runtime.getURL('overlay.html')).origin,
  };
  const [settings, state, index] = await Promise.all([
    store.get(SETTINGS), store.get(STATE).catch(() => undefined), store.get(INDEX).catch(() => undefined),
  ]);
  return new Lens(host, origins, settings ?? null, typeof state === 'string' ? state : undefined,
    index instanceof Uint8Array ? index : undefined);
})();

/** Whether `version` (the one updated from) kept its settings in storage.local: up to 0.1.0. */
function keptSettingsInStorageLocal(version = '') {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  return major === 0 && (minor === 0 || (minor === 1 && patch === 0));
}

/**
 * Settings an older version kept in storage.local (which content scripts can read and
 * write) move to the extension's own store, and storage.local is emptied: only on the
 * update from such a version, once, and never the base URL (nor a gateway). On a fresh
 * install, or at any other start, storage.local holds only what a page may have put there.
 * @param {{reason: string, previousVersion?: string}} details
 */
async function installed({ reason, previousVersion }) {
  if (reason !== 'install' && reason !== 'update') return;
  const l = await lens;
  const first = (await store.get(MIGRATED)) === undefined;
  await store.set(MIGRATED, true);
  if (reason !== 'update' || !first || !keptSettingsInStorageLocal(previousVersion)) return;
  const legacy = await api.storage.local.get(null);
  if (Object.keys(legacy).length === 0) return;
  if ((await store.get(SETTINGS)) === undefined) {
    const settings = migrateSettings(legacy);
    if (settings) {
      await store.set(SETTINGS, settings);
      l.configure(settings);
    }
  }
  await api.storage.local.clear();
}
api.runtime.onInstalled.addListener((details) => { installed(details).catch(() => {}); });
// For the end-to-end tests: Chromium reports every start of an extension loaded from the
// command line as an install, so they cannot update one.
/** @type {any} */ (globalThis).lensInstalled = installed;

// The cache and the limiter outlive the worker: written down shortly after each change.
/** @type {ReturnType<typeof setTimeout> | undefined} */
let saveTimer;
function persistSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(async () => {
    const state = (await lens).exportState();
    if (state) store.set(STATE, state).catch(() => {});
  }, 300);
}

// The index is written down a second after its last change (a sync, a live card that
// corrected it): encoding 50,000 companies takes a few milliseconds.
/** @type {ReturnType<typeof setTimeout> | undefined} */
let indexTimer;
function persistIndexSoon() {
  clearTimeout(indexTimer);
  indexTimer = setTimeout(async () => {
    const bytes = (await lens).exportIndex();
    if (bytes) store.set(INDEX, bytes).catch(() => {});
  }, 1000);
}

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Only this extension's own content scripts and pages reach the background; the Lens
  // answers every message, an unknown one with its one error reply.
  if (sender.id !== api.runtime.id) return false;
  const from = { tabId: sender.tab?.id, frameId: sender.frameId, url: sender.url };
  lens
    .then((l) => l.handle(message, from))
    .then(sendResponse, (e) => sendResponse({ ok: false, error: { kind: 'internal', message: String(e) } }));
  return true;
});

api.tabs.onRemoved.addListener((tabId) => {
  lens.then((l) => l.tabClosed(tabId)).catch(() => {});
});

// The keyboard shortcut (manifest `commands`): show or hide the card in the active tab.
/** @param {string} command */
async function onCommand(command) {
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  (await lens).command(command, tab?.id);
}
api.commands.onCommand.addListener((command) => { onCommand(command).catch(() => {}); });
// For the end-to-end tests, which cannot press a browser-level shortcut in headless mode.
/** @type {any} */ (globalThis).lensCommand = onCommand;
