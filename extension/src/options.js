// The options page: the form shows and saves the settings through the background, which
// checks them (the base URL must be https://, except on this computer), keeps them where
// only the extension can read them, and configures its client once.
import './browser-api.js';

const api = globalThis.lensApi;
/** @param {string} id */
const $ = (id) => /** @type {HTMLInputElement} */ (document.getElementById(id));

/** @typedef {import('./wasm/lens_worker.js').LensRequest} LensRequest */
/** @typedef {import('./wasm/lens_worker.js').LensReply} LensReply */
/** @typedef {import('./wasm/lens_worker.js').LensSettingsForm} LensSettingsForm */

/** @param {LensRequest} message @returns {Promise<LensReply>} */
async function ask(message) {
  try {
    return (await api.runtime.sendMessage(message)) ?? { ok: false, error: { kind: 'internal', message: 'No answer.' } };
  } catch (e) {
    return { ok: false, error: { kind: 'internal', message: String(e) } };
  }
}

/** @param {string} id @param {string} message */
function show(id, message, kind = '') {
  $(id).textContent = message;
  $(id).className = `status ${kind}`;
}

/** @param {LensSettingsForm} s */
function fill(s) {
  $('api-key').value = s.apiKey;
  $('base-url').value = s.baseUrl;
  $('ignored').value = s.ignored;
  $('paused').value = s.paused;
  $('overlay').checked = s.overlay;
  $('on-demand-below').value = s.onDemandBelow;
  $('team-mode').checked = s.mode === 'team';
  $('gateway-url').value = s.gatewayUrl;
  $('gateway-token').value = s.gatewayToken;
  $('badges').checked = s.badges !== false;
  $('no-badges').value = s.noBadges ?? '';
  showMode();
}

// Team mode: the gateway's fields, and the key is only for writes.
function showMode() {
  const team = $('team-mode').checked;
  /** @type {HTMLElement} */ (document.getElementById('team-fields')).hidden = !team;
  /** @type {HTMLElement} */ (document.getElementById('team-key-hint')).hidden = !team;
}
$('team-mode').addEventListener('change', showMode);

/** @returns {LensSettingsForm} */
const form = () => ({
  apiKey: $('api-key').value,
  baseUrl: $('base-url').value,
  ignored: $('ignored').value,
  paused: $('paused').value,
  overlay: $('overlay').checked,
  onDemandBelow: $('on-demand-below').value,
  mode: $('team-mode').checked ? 'team' : 'personal',
  gatewayUrl: $('gateway-url').value,
  gatewayToken: $('gateway-token').value,
  badges: $('badges').checked,
  noBadges: $('no-badges').value,
});

const stored = await ask({ type: 'lens:settings' });
if (stored.ok && stored.answer === 'settings') fill(stored.settings);
// Enabled only now, so that what the user types is never overwritten by the stored values.
for (const id of ['api-key', 'base-url', 'ignored', 'paused', 'overlay', 'on-demand-below', 'test', 'team-mode', 'gateway-url', 'gateway-token', 'badges', 'no-badges']) $(id).disabled = false;
/** @type {HTMLButtonElement} */ (document.querySelector('[data-testid="save"]')).disabled = false;

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const reply = await ask({ type: 'lens:save', settings: form() });
  if (!reply.ok) return show('status', reply.error.message, 'error');
  if (reply.answer === 'settings') fill(reply.settings);
  show('status', 'Saved.', 'ok');
  refreshUsage();
  refreshIndex();
});

// Test connection: whoami with what is in the form (saved or not).
$('test').addEventListener('click', async () => {
  show('test-status', 'Testing…');
  const { apiKey, baseUrl } = form();
  const reply = await ask({ type: 'lens:whoami', apiKey, baseUrl });
  if (reply.ok && reply.answer === 'me') {
    show('test-status', `Connected as ${reply.user}${reply.email ? ` (${reply.email})` : ''} at ${reply.firm}.`, 'ok');
  } else if (!reply.ok) {
    const why = reply.error.kind === 'unauthorized' ? 'Affinity rejected this key.' : reply.error.message;
    show('test-status', `Could not connect: ${why}`, 'error');
  }
});

/** @param {unknown} n */
const fmt = (n) => Number(n).toLocaleString('en-US');
async function refreshUsage() {
  const reply = await ask({ type: 'lens:usage' });
  if (!reply.ok || reply.answer !== 'usage') {
    $('usage').textContent = !reply.ok && reply.error.kind === 'no_key'
      ? 'Save a key to see the budget.'
      : `Could not read the budget: ${reply.ok ? 'no answer' : reply.error.message}`;
    return;
  }
  const month = reply.rate?.org_monthly ?? {};
  const minute = reply.rate?.api_key_per_minute ?? {};
  const parts = [];
  if (month.limit === 'unlimited' || month.limit == null) parts.push(`This month: ${fmt(month.used ?? 0)} requests (no monthly limit).`);
  else parts.push(`This month: ${fmt(month.used ?? 0)} of ${fmt(month.limit)} requests used, ${fmt(month.remaining ?? 0)} left.`);
  if (minute.limit != null && minute.limit !== 'unlimited') parts.push(`This minute: ${fmt(minute.used ?? 0)} of ${fmt(minute.limit)}.`);
  $('usage').textContent = parts.join(' ');
  // What this browser's Lens spent of it: the firm's budget is shared by every user and integration.
  const lens = reply.lens;
  if (lens) {
    const perView = lens.page_views > 0 ? (lens.calls / lens.page_views).toFixed(1) : '–';
    const share = typeof month.limit === 'number' && month.limit > 0
      ? ` (${((100 * lens.calls) / month.limit).toFixed(2)}% of the month's budget)` : '';
    $('lens-usage').textContent = `The Lens in this browser: ${fmt(lens.calls)} calls this month${share}, `
      + `${fmt(lens.page_views)} page views and ${fmt(lens.cards_opened)} opened cards: ${perView} calls a page view on average.`;
  }
}
$('usage-refresh').addEventListener('click', refreshUsage);
if (stored.ok && stored.answer === 'settings' && stored.settings.apiKey) refreshUsage();

// The index: "Index: 48,210 companies, 9 lists, synced 10:32, 104 calls today", and how a
// sync goes while it runs (asked again every second then, every 10 s otherwise).
/** @type {ReturnType<typeof setTimeout> | undefined} */
let indexTimer;
async function refreshIndex() {
  clearTimeout(indexTimer);
  const reply = await ask({ type: 'lens:index' });
  if (!reply.ok || reply.answer !== 'index') return;
  const time = (/** @type {string | null} */ iso) => (iso
    ? new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }) : null);
  let text;
  if (reply.syncing && reply.progress) {
    const p = reply.progress;
    text = `Index: syncing… ${fmt(p.organizations)} companies, ${p.lists_read} of ${p.lists_to_read || '?'} lists read, ${fmt(p.calls)} calls so far`;
  } else if (reply.syncing) {
    text = reply.source === 'gateway' ? 'Index: asking the gateway…' : 'Index: syncing…';
  } else if (reply.source === 'none') {
    text = 'No index yet: save a key (or a gateway in team mode).';
  } else if (!reply.syncedAt) {
    text = 'No index yet.';
  } else {
    const calls = reply.source === 'gateway' ? 'from the gateway' : `${fmt(reply.callsToday)} calls today`;
    text = `Index: ${fmt(reply.companies)} companies, ${fmt(reply.lists)} lists, synced ${time(reply.syncedAt)}, ${calls}`;
  }
  if (reply.error) text += ` (last ${reply.source === 'gateway' ? 'fetch' : 'sync'}: ${reply.error})`;
  $('index-status').textContent = text;
  indexTimer = setTimeout(refreshIndex, reply.syncing ? 1000 : 10000);
}
refreshIndex();
