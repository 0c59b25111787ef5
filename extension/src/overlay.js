// The overlay: an extension page inside the page's closed shadow root, so the extension's
// CSP (with 'wasm-unsafe-eval') applies here whatever the host page's CSP says.
import { mountLensCard } from './card-page.js';

const api = globalThis.browser ?? globalThis.chrome;
const params = new URLSearchParams(location.hash.slice(1));
const token = params.get('t') ?? '';
const root = document.getElementById('root');

// The content script sizes the iframe to what is shown (pill or card). The size goes
// through the background, not postMessage: the page must not learn what the card says.
let last = '';
new ResizeObserver(() => {
  const box = root.getBoundingClientRect();
  const width = Math.ceil(box.width);
  const height = Math.ceil(box.height);
  if (`${width}x${height}` === last) return;
  last = `${width}x${height}`;
  api.runtime.sendMessage({ type: 'lens:size', token, width, height }).catch(() => {});
}).observe(root);

globalThis.lensCard = await mountLensCard(root, token, { expanded: params.get('expanded') === '1' });
