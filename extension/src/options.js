const api = globalThis.browser ?? globalThis.chrome;
const DEFAULT_BASE_URL = 'https://api.affinity.co';
const $ = (id) => document.getElementById(id);

function show(id, message, kind = '') {
  $(id).textContent = message;
  $(id).className = `status ${kind}`;
}

const lines = (id) => [...new Set($(id).value.split(/[\s,]+/).map((s) => s.trim().toLowerCase()).filter(Boolean))];
const site = (s) => s.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '').replace(/^www\./, '');

function baseUrlOrError() {
  const raw = $('base-url').value.trim() || DEFAULT_BASE_URL;
  try {
    const u = new URL(raw);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
    return { baseUrl: u.href.replace(/\/+$/, '') };
  } catch {
    return { error: 'The base URL must be an http(s) URL, like https://api.affinity.co.' };
  }
}

const stored = await api.storage.local.get(['apiKey', 'baseUrl', 'ignored', 'paused', 'overlay', 'onDemandBelow']);
$('api-key').value = stored.apiKey ?? '';
$('base-url').value = stored.baseUrl ?? DEFAULT_BASE_URL;
$('ignored').value = (stored.ignored ?? []).join('\n');
$('paused').value = (stored.paused ?? []).join('\n');
$('overlay').checked = stored.overlay !== false;
$('on-demand-below').value = String(stored.onDemandBelow ?? 5);
// Enabled only now, so that what the user types is never overwritten by the stored values.
for (const id of ['api-key', 'base-url', 'ignored', 'paused', 'overlay', 'on-demand-below', 'test']) $(id).disabled = false;
document.querySelector('[data-testid="save"]').disabled = false;

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const apiKey = $('api-key').value.trim();
  const { baseUrl, error } = baseUrlOrError();
  if (error) return show('status', error, 'error');
  if (!apiKey) return show('status', 'Enter your Affinity API key (Affinity: Settings → API).', 'error');
  const onDemandBelow = Number($('on-demand-below').value);
  if (!Number.isFinite(onDemandBelow) || onDemandBelow < 0 || onDemandBelow > 100) {
    return show('status', 'The budget share must be a number from 0 to 100.', 'error');
  }
  try {
    await api.storage.local.set({
      apiKey, baseUrl, ignored: lines('ignored').map(site), paused: lines('paused').map(site), overlay: $('overlay').checked,
      onDemandBelow,
    });
    show('status', 'Saved.', 'ok');
    refreshUsage();
  } catch (e) {
    show('status', `Could not save: ${e}`, 'error');
  }
});

// Test connection: whoami with what is in the form (saved or not).
$('test').addEventListener('click', async () => {
  const apiKey = $('api-key').value.trim();
  const { baseUrl, error } = baseUrlOrError();
  if (error) return show('test-status', error, 'error');
  if (!apiKey) return show('test-status', 'Enter an API key first.', 'error');
  show('test-status', 'Testing…');
  const reply = await api.runtime.sendMessage({ type: 'lens:whoami', apiKey, baseUrl }).catch((e) => ({ ok: false, message: String(e) }));
  if (reply?.ok) {
    show('test-status', `Connected as ${reply.user}${reply.email ? ` (${reply.email})` : ''} at ${reply.firm}.`, 'ok');
  } else {
    const why = reply?.kind === 'unauthorized' ? 'Affinity rejected this key.' : reply?.message ?? 'No answer.';
    show('test-status', `Could not connect: ${why}`, 'error');
  }
});

const fmt = (n) => Number(n).toLocaleString('en-US');
async function refreshUsage() {
  const reply = await api.runtime.sendMessage({ type: 'lens:usage' }).catch((e) => ({ ok: false, message: String(e) }));
  if (!reply?.ok) {
    $('usage').textContent = reply?.kind === 'no_key' ? 'Save a key to see the budget.' : `Could not read the budget: ${reply?.message}`;
    return;
  }
  const month = reply.rate?.org_monthly ?? {};
  const minute = reply.rate?.api_key_per_minute ?? {};
  const parts = [];
  if (month.limit === 'unlimited' || month.limit == null) parts.push(`This month: ${fmt(month.used ?? 0)} requests (no monthly limit).`);
  else parts.push(`This month: ${fmt(month.used ?? 0)} of ${fmt(month.limit)} requests used, ${fmt(month.remaining ?? 0)} left.`);
  if (minute.limit != null && minute.limit !== 'unlimited') parts.push(`This minute: ${fmt(minute.used ?? 0)} of ${fmt(minute.limit)}.`);
  $('usage').textContent = parts.join(' ');
}
$('usage-refresh').addEventListener('click', refreshUsage);
if (stored.apiKey) refreshUsage();
