// Background (Chrome service worker, Firefox event page). The only place that reads the
// API key. Listeners are registered synchronously at start: an MV3 worker woken by a
// message must find its listener before any await.
import init, { lookupCard, registrableDomain } from './wasm/affinity_web.js';

const api = globalThis.browser ?? globalThis.chrome;
const wasmReady = init({ module_or_path: new URL('./wasm/affinity_web_bg.wasm', import.meta.url) });

const DEFAULT_BASE_URL = 'https://api.affinity.co';
const lookups = new Map(); // token -> Promise<{card} | {error}>

async function settings() {
  const { apiKey = '', baseUrl = DEFAULT_BASE_URL, ignored = [] } = await api.storage.local.get(['apiKey', 'baseUrl', 'ignored']);
  return { apiKey, baseUrl: baseUrl || DEFAULT_BASE_URL, ignored };
}

async function lookup(url, options = {}) {
  await wasmReady;
  const s = await settings();
  if (!s.apiKey) return { error: 'no-key', message: 'Add your Affinity API key in the Lens options.' };
  try {
    const card = await lookupCard(url, s, { refresh: options.refresh === true });
    return card ? { card } : { error: 'unsupported', message: 'Nothing to look up on this page.' };
  } catch (e) {
    return { error: 'internal', message: String(e) };
  }
}

function newToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function hostOf(url) {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.hostname : null;
  } catch {
    return null;
  }
}

async function onPage(msg) {
  await wasmReady;
  const host = hostOf(msg.url);
  if (!host || !registrableDomain(host)) return { show: false };
  const token = newToken();
  lookups.set(token, lookup(msg.url));
  // The worker may be stopped before the overlay asks: keep what is needed to redo it.
  await api.storage.session?.set({ [`page:${token}`]: { url: msg.url } });
  return { show: true, token };
}

async function onCard(msg) {
  if (typeof msg.token !== 'string' || !/^[0-9a-f]{32}$/.test(msg.token)) return { error: 'bad-request', message: 'Bad request.' };
  let pending = msg.refresh === true ? undefined : lookups.get(msg.token);
  if (!pending) {
    const key = `page:${msg.token}`;
    const stored = (await api.storage.session?.get(key))?.[key];
    if (!stored) return { error: 'expired', message: 'This card has expired: reload the page.' };
    pending = lookup(stored.url, { refresh: msg.refresh === true });
    lookups.set(msg.token, pending);
  }
  return pending;
}

api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  // Only our own content scripts and pages talk to the background.
  if (sender.id !== api.runtime.id || !msg || typeof msg.type !== 'string') return false;
  let reply;
  if (msg.type === 'lens:page' && typeof msg.url === 'string') reply = onPage(msg);
  else if (msg.type === 'lens:card') reply = onCard(msg);
  else if (msg.type === 'lens:size' && sender.tab?.id !== undefined && Number.isFinite(msg.height)) {
    // Relayed to the tab's content script only (frame 0: the top page).
    api.tabs.sendMessage(sender.tab.id, { type: 'lens:size', token: msg.token, height: msg.height }, { frameId: 0 }).catch(() => {});
    return false;
  }
  else return false;
  reply.then(sendResponse, (e) => sendResponse({ error: 'internal', message: String(e) }));
  return true;
});
