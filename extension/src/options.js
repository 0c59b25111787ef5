const api = globalThis.browser ?? globalThis.chrome;
const DEFAULT_BASE_URL = 'https://api.affinity.co';
const $ = (id) => document.getElementById(id);

function show(message, isError = false) {
  $('status').textContent = message;
  $('status').className = isError ? 'error' : '';
}

const stored = await api.storage.local.get(['apiKey', 'baseUrl']);
$('api-key').value = stored.apiKey ?? '';
$('base-url').value = stored.baseUrl ?? DEFAULT_BASE_URL;
// Enabled only now, so that what the user types is never overwritten by the stored values.
for (const id of ['api-key', 'base-url']) $(id).disabled = false;
document.querySelector('[data-testid="save"]').disabled = false;

$('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const apiKey = $('api-key').value.trim();
  let baseUrl = $('base-url').value.trim() || DEFAULT_BASE_URL;
  try {
    const u = new URL(baseUrl);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('scheme');
    baseUrl = u.href.replace(/\/+$/, '');
  } catch {
    show('The base URL must be an http(s) URL, like https://api.affinity.co.', true);
    return;
  }
  if (!apiKey) {
    show('Enter your Affinity API key (Affinity: Settings → API).', true);
    return;
  }
  try {
    await api.storage.local.set({ apiKey, baseUrl });
    show('Saved.');
  } catch (e) {
    show(`Could not save: ${e}`, true);
  }
});
