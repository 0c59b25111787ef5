// The overlay: an extension page inside the page's closed shadow root, so the extension's
// CSP (with 'wasm-unsafe-eval') applies here whatever the host page's CSP says. The content
// script gives the frame one size for the pill and one for the card, whatever they say
// (the card's content scrolls): the page can measure the frame and must learn nothing.
import { mountLensCard } from './card-page.js';

const params = new URLSearchParams(location.hash.slice(1));
const token = params.get('t') ?? '';
const root = /** @type {HTMLElement} */ (document.getElementById('root'));

/** @type {any} */ (globalThis).lensCard = await mountLensCard(root, token, { expanded: params.get('expanded') === '1' });
