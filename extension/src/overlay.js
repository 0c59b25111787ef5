// The overlay: an extension page, so the extension's CSP (with 'wasm-unsafe-eval')
// applies here whatever the host page's CSP says.
import init, { mountCard } from './wasm/affinity_web.js';

const api = globalThis.browser ?? globalThis.chrome;
const TIME_LIMIT_MS = 20000;

await init({ module_or_path: new URL('./wasm/affinity_web_bg.wasm', import.meta.url) });
// Keep the handle for the page's life: dropping it would unmount the card.
const token = location.hash.slice(1);
const handle = mountCard(document.getElementById('root'), () => load(true));
globalThis.lensCard = handle;

// The content script sizes the iframe to the card. The size goes through the background,
// not postMessage: the page must not learn whether the firm knows this company.
let lastHeight = 0;
new ResizeObserver(() => {
  const height = Math.ceil(document.getElementById('root').getBoundingClientRect().height) + 24;
  if (Math.abs(height - lastHeight) < 2) return;
  lastHeight = height;
  api.runtime.sendMessage({ type: 'lens:size', token, height }).catch(() => {});
}).observe(document.getElementById('root'));
async function load(refresh = false) {
  if (refresh) handle.setLoading();
  let settled = false;
  const timer = setTimeout(() => {
    if (!settled) handle.setError('Affinity did not answer in time. Try again later.');
  }, TIME_LIMIT_MS);
  try {
    const reply = await api.runtime.sendMessage({ type: 'lens:card', token, refresh });
    if (reply && reply.card) handle.setCard(reply.card);
    else handle.setError(reply?.message ?? 'The Lens could not make a card for this page.');
  } catch (e) {
    handle.setError(`The Lens background is not answering: ${e}`);
  } finally {
    settled = true;
    clearTimeout(timer);
  }
}

await load();
