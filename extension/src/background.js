// Background (Chrome service worker, Firefox event page). The only place that reads the
// API key. Listeners are registered synchronously at start: an MV3 worker woken by a
// message must find its listener before any await.
//
// Messages (every one typed and checked against its sender):
//   from the content script (a tab's top frame):
//     lens:page {url, hints}        -> {show, token, expanded, position} | {show: false}
//     lens:position {side, top}
//   from the extension's own pages (overlay iframe, popup, options):
//     lens:card {token, first?, refresh?, lookup?, pick?}
//                                         -> {card, partial?} | {onDemand, message} | {error, message}
//     lens:act {token, target, action}    -> {ok, changed, message, target} | {ok: false, kind, message}
//     lens:choices {token}                -> {ok, lists}
//     lens:size {token, width, height}, lens:expand {token, expanded}, lens:close {token}
//                                         (relayed to the tab's content script)
//     lens:tab {tabId}                    -> {token, url} (the popup)
//     lens:pause {site, paused}           -> {ok}
//     lens:whoami {apiKey, baseUrl}, lens:usage {}  (the options page)
import init, {
  lookupCard, pageQuery, performAction, listChoices, whoami, usage, budget, exportState, importState, registrableDomain,
} from './wasm/lens_worker.js';

const api = globalThis.browser ?? globalThis.chrome;
const DEFAULT_BASE_URL = 'https://api.affinity.co';
const EXTENSION_ORIGIN = new URL(api.runtime.getURL('')).origin;
// The overlay is web-accessible only through a URL a page cannot guess (Chrome's
// use_dynamic_url: a per-session id; Firefox: the per-install UUID). Chrome serves the
// frame from the extension's own origin; its dynamic origin is accepted as the same.
const OVERLAY_ORIGIN = new URL(api.runtime.getURL('overlay.html')).origin;
const STATE_KEY = 'lensState';

// The wasm, then the cache and limiter a previous worker left (persisted below).
const ready = (async () => {
  await init({ module_or_path: new URL('./wasm/lens_worker_bg.wasm', import.meta.url) });
  const { [STATE_KEY]: saved } = await api.storage.local.get(STATE_KEY);
  if (typeof saved === 'string') importState(saved);
})();

const lookups = new Map(); // token -> Promise<{card} | {error, message}>

async function settings() {
  const s = await api.storage.local.get(['apiKey', 'baseUrl', 'ignored', 'paused', 'overlay', 'position', 'onDemandBelow']);
  return {
    apiKey: s.apiKey ?? '',
    baseUrl: s.baseUrl || DEFAULT_BASE_URL,
    ignored: Array.isArray(s.ignored) ? s.ignored : [],
    paused: Array.isArray(s.paused) ? s.paused : [],
    overlay: s.overlay !== false,
    position: s.position ?? null,
    // Below this share (%) of the month's budget left, pages are looked up on demand only.
    onDemandBelow: Number.isFinite(s.onDemandBelow) ? s.onDemandBelow : 5,
  };
}

/** When the month's budget (as Affinity's last answer said) is low: a sentence saying so. */
function budgetLow(s) {
  if (!s.apiKey) return null;
  const b = budget(s);
  if (!b || b.percentLeft == null || b.percentLeft >= s.onDemandBelow) return null;
  const fmt = (n) => Number(n).toLocaleString('en-US');
  return `This month's Affinity budget is low (${fmt(b.remaining)} of ${fmt(b.limit)} requests left), so pages are looked up only when you ask.`;
}

// ---- persistence: the cache and the limiter outlive the worker -------------------------
let saveTimer = null;
function persistSoon() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    const state = exportState();
    if (state) api.storage.local.set({ [STATE_KEY]: state }).catch(() => {});
  }, 300);
}
api.storage.onChanged.addListener((changes, area) => {
  // A new key or base URL: nothing cached for the old one may be shown.
  if (area === 'local' && (changes.apiKey || changes.baseUrl)) {
    clearTimeout(saveTimer);
    api.storage.local.remove(STATE_KEY).catch(() => {});
    lookups.clear();
  }
});

// ---- lookups ---------------------------------------------------------------------------
function siteOf(url) {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    return registrableDomain(u.hostname) ?? u.hostname;
  } catch {
    return null;
  }
}

async function lookup(page, options = {}, onPartial = undefined) {
  await ready;
  const s = await settings();
  if (!s.apiKey) return { error: 'no-key', message: 'Add your Affinity API key in the Lens options.' };
  // A paused site is, for the lookup, one more site never looked up: its card says so.
  const site = siteOf(page.url);
  const ignored = site && s.paused.includes(site) ? [...s.ignored, site] : s.ignored;
  try {
    const card = await lookupCard(
      page.url, { ...s, ignored },
      { refresh: options.refresh === true, hints: page.hints ?? {}, pick: page.pick ?? null }, onPartial,
    );
    persistSoon();
    return card ? { card } : { error: 'unsupported', message: 'Nothing to look up on this page.' };
  } catch (e) {
    return { error: 'internal', message: String(e) };
  }
}

function newToken() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

// The worker may be stopped between messages: what a token stands for is kept in session
// storage (memory only, gone with the browser session).
async function pageOf(token) {
  const key = `page:${token}`;
  return (await api.storage.session.get(key))[key] ?? null;
}
async function savePage(token, page) {
  await api.storage.session.set({ [`page:${token}`]: page });
}

// token -> Promise of the first thing to show: the identity as soon as the first round
// found it ({card, partial: true}), or the whole answer if that comes first.
const firsts = new Map();

function start(token, page, options) {
  let first;
  firsts.set(token, new Promise((resolve) => { first = resolve; }));
  const pending = lookup(page, options, (card) => first({ card, partial: true })).then((reply) => {
    first(reply);
    // Only the tab's current page sets its badge (not a slow lookup of a page left since).
    if (page.tabId !== undefined && lookups.get(token) === pending) badge(page.tabId, reply).catch(() => {});
    return reply;
  });
  lookups.set(token, pending);
  return pending;
}

const BADGES = {
  matched: ['✓', '#1a7f37'], ambiguous: ['?', '#b54708'], not_found: ['', '#5b6577'], ignored: ['', '#5b6577'], error: ['!', '#b42318'],
};
async function badge(tabId, reply) {
  const [text, color] = reply.card ? BADGES[reply.card.status] ?? ['', '#5b6577'] : reply.error === 'unsupported' ? ['', '#5b6577'] : ['!', '#b42318'];
  await api.action.setBadgeBackgroundColor({ tabId, color });
  await api.action.setBadgeText({ tabId, text });
  const title = reply.card?.entity ? `Affinity Lens: ${reply.card.entity.name} is in Affinity` : 'Affinity Lens';
  await api.action.setTitle({ tabId, title });
}

async function onPage(msg, sender) {
  await ready;
  const tabId = sender.tab.id;
  const s = await settings();
  const hints = sanitizeHints(msg.hints);
  const query = pageQuery(msg.url, s.ignored, hints);
  await forgetTab(tabId);
  if (!query || query.ignored) {
    await api.action.setBadgeText({ tabId, text: '' });
    return { show: false };
  }
  const token = newToken();
  const low = budgetLow(s);
  const page = { url: msg.url, hints, tabId, onDemand: low };
  await savePage(token, page);
  await api.storage.session.set({ [`tab:${tabId}`]: token });
  if (low) await api.action.setBadgeText({ tabId, text: '' });
  else start(token, page);
  const site = siteOf(msg.url);
  return { show: s.overlay && !s.paused.includes(site), token, position: s.position };
}

// A tab's previous page (navigated away from, or closed): its card is no longer shown.
async function forgetTab(tabId) {
  const key = `tab:${tabId}`;
  const old = (await api.storage.session.get(key))[key];
  if (!old) return;
  lookups.delete(old);
  firsts.delete(old);
  await api.storage.session.remove([key, `page:${old}`]);
}
api.tabs.onRemoved.addListener((tabId) => { forgetTab(tabId).catch(() => {}); });

async function onCard(msg) {
  let page = await pageOf(msg.token);
  if (!page) return { error: 'expired', message: 'This card has expired: reload the page.' };
  if (msg.pick) {
    page = { ...page, pick: msg.pick };
    await savePage(msg.token, page);
    return start(msg.token, page, { refresh: msg.refresh === true });
  }
  if (msg.first === true && firsts.has(msg.token)) return firsts.get(msg.token);
  const pending = msg.refresh === true ? undefined : lookups.get(msg.token);
  if (pending) return pending;
  // On demand (the budget is low): only when the user asks (`lookup`, or a refresh).
  if (page.onDemand && msg.lookup !== true && msg.refresh !== true) return { onDemand: true, message: page.onDemand };
  return start(msg.token, page, { refresh: msg.refresh === true });
}

async function onAct(msg) {
  if (!(await pageOf(msg.token))) return { ok: false, kind: 'expired', message: 'This card has expired: reload the page.' };
  await ready;
  const s = await settings();
  if (!s.apiKey) return { ok: false, kind: 'no_key', message: 'Add your Affinity API key in the Lens options.' };
  try {
    const result = await performAction(s, msg.target ?? null, msg.action);
    persistSoon();
    return result;
  } catch (e) {
    return { ok: false, kind: 'internal', message: String(e) };
  }
}

async function onChoices() {
  await ready;
  const s = await settings();
  if (!s.apiKey) return { ok: false, kind: 'no_key', message: 'No API key.' };
  return listChoices(s);
}

async function onTab(msg) {
  await ready;
  const tab = await api.tabs.get(msg.tabId);
  const key = `tab:${msg.tabId}`;
  let token = (await api.storage.session.get(key))[key];
  if (token && (await pageOf(token))?.url !== tab.url) token = null;
  if (!token) {
    // A tab the content script never reported (opened before the install, say).
    const s = await settings();
    const query = tab.url ? pageQuery(tab.url, s.ignored, null) : null;
    if (!query || query.ignored) return { token: null, url: tab.url ?? '', ignored: !!query?.ignored };
    token = newToken();
    const page = { url: tab.url, hints: {}, tabId: msg.tabId, onDemand: budgetLow(s) };
    await savePage(token, page);
    await api.storage.session.set({ [key]: token });
  }
  return { token, url: tab.url, site: siteOf(tab.url) };
}

async function onPause(msg) {
  const { paused = [] } = await api.storage.local.get('paused');
  const next = paused.filter((p) => p !== msg.site);
  if (msg.paused) next.push(msg.site);
  await api.storage.local.set({ paused: next });
  return { ok: true, paused: next };
}

async function onWhoami(msg) {
  await ready;
  if (!msg.apiKey) return { ok: false, kind: 'no_key', message: 'Enter an API key first.' };
  try {
    return await whoami({ apiKey: msg.apiKey, baseUrl: msg.baseUrl || DEFAULT_BASE_URL });
  } catch (e) {
    return { ok: false, kind: 'internal', message: String(e) };
  }
}

async function onUsage() {
  await ready;
  const s = await settings();
  if (!s.apiKey) return { ok: false, kind: 'no_key', message: 'No API key yet.' };
  const reply = await usage(s);
  persistSoon();
  return reply;
}

// Hints are page text: short strings only.
function sanitizeHints(h) {
  const out = {};
  if (!h || typeof h !== 'object') return out;
  for (const k of ['title', 'name', 'headline', 'company', 'company_url', 'website']) {
    if (typeof h[k] === 'string' && h[k].trim()) out[k] = h[k].trim().slice(0, 300);
  }
  return out;
}

const isToken = (t) => typeof t === 'string' && /^[0-9a-f]{32}$/.test(t);
const isTarget = (t) => t === null || t === undefined
  || (t && (t.kind === 'organization' || t.kind === 'person') && Number.isSafeInteger(t.id));

// The overlay frame reaches its tab's content script through here, never by postMessage
// (which the page could read); the content script reaches the frame through its URL's
// fragment.
function toContent(tabId, msg) {
  api.tabs.sendMessage(tabId, msg, { frameId: 0 }).catch(() => {});
}

function handle(msg, sender) {
  const fromOwnOrigin = (url) => typeof url === 'string'
    && (url.startsWith(`${EXTENSION_ORIGIN}/`) || url.startsWith(`${OVERLAY_ORIGIN}/`));
  const fromContent = sender.tab?.id !== undefined && sender.frameId === 0 && !fromOwnOrigin(sender.url);
  const fromExtensionPage = fromOwnOrigin(sender.url);
  switch (msg.type) {
    case 'lens:page':
      if (fromContent && typeof msg.url === 'string' && sameOrigin(msg.url, sender.url)) return onPage(msg, sender);
      break;
    case 'lens:size':
      if (fromExtensionPage && sender.tab && isToken(msg.token) && Number.isFinite(msg.height)) {
        toContent(sender.tab.id, { type: 'lens:size', token: msg.token, height: msg.height, width: Number(msg.width) || 0 });
      }
      break;
    case 'lens:expand':
    case 'lens:close':
      if (fromExtensionPage && sender.tab && isToken(msg.token)) {
        toContent(sender.tab.id, { type: msg.type, token: msg.token, expanded: msg.expanded === true });
      }
      break;
    case 'lens:position':
      if (fromContent && (msg.side === 'left' || msg.side === 'right') && Number.isFinite(msg.top)) {
        return api.storage.local.set({ position: { side: msg.side, top: Math.max(0, Math.round(msg.top)) } }).then(() => ({ ok: true }));
      }
      break;
    case 'lens:card':
      if (fromExtensionPage && isToken(msg.token) && isTarget(msg.pick)) return onCard(msg);
      break;
    case 'lens:act':
      if (fromExtensionPage && isToken(msg.token) && isTarget(msg.target) && msg.action && typeof msg.action.action === 'string') return onAct(msg);
      break;
    case 'lens:choices':
      if (fromExtensionPage) return onChoices();
      break;
    case 'lens:tab':
      if (fromExtensionPage && Number.isSafeInteger(msg.tabId)) return onTab(msg);
      break;
    case 'lens:pause':
      if (fromExtensionPage && typeof msg.site === 'string' && msg.site) return onPause(msg);
      break;
    case 'lens:whoami':
      if (fromExtensionPage && typeof msg.apiKey === 'string') return onWhoami(msg);
      break;
    case 'lens:usage':
      if (fromExtensionPage) return onUsage();
      break;
  }
  return null;
}

function sameOrigin(a, b) {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

api.runtime.onMessage.addListener((msg, sender, sendResponse) => {
  // Only our own content scripts and pages talk to the background.
  if (sender.id !== api.runtime.id || !msg || typeof msg.type !== 'string') return false;
  const reply = handle(msg, sender);
  if (!reply) return false;
  reply.then(sendResponse, (e) => sendResponse({ error: 'internal', message: String(e) }));
  return true;
});

// The keyboard shortcut (manifest `commands`): show or hide the card in the active tab.
async function onCommand(command) {
  if (command !== 'toggle-card') return;
  const [tab] = await api.tabs.query({ active: true, currentWindow: true });
  if (tab?.id !== undefined) toContent(tab.id, { type: 'lens:toggle' });
}
api.commands.onCommand.addListener((command) => { onCommand(command).catch(() => {}); });
// For the end-to-end tests, which cannot press a browser-level shortcut in headless mode.
globalThis.lensCommand = onCommand;
