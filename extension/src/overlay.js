// The overlay: an extension page inside the page's closed shadow root, so the extension's
// CSP (with 'wasm-unsafe-eval') applies here whatever the host page's CSP says. The content
// script gives the frame one size for the pill and one for the card, whatever they say
// (the card's content scrolls): the page can measure the frame and must learn nothing.
import { ask } from './ask.js';

const params = new URLSearchParams(location.hash.slice(1));
const token = params.get('t') ?? '';
const root = /** @type {HTMLElement} */ (document.getElementById('root'));
const overlay = { expanded: params.get('expanded') === '1', mounting: false };
// The first round is asked at once, before the card's module loads; its pill is drawn as
// soon as it comes, and the card's own pill (the same size) takes its place.
const first = ask({ type: 'lens:card', token, first: true, full: overlay.expanded });
first.then((reply) => {
  if (overlay.mounting || overlay.expanded || !reply.ok || reply.answer !== 'card') return;
  drawPill(root, reply.pill, () => {
    overlay.expanded = true;
    ask({ type: 'lens:expand', token, expanded: true });
  });
});

/**
 * The pill, drawn as plain DOM from the background's first answer while the card's module
 * loads and compiles: the same element, classes and size as the card's own pill (lens-ui's
 * `PillView`, whose style overlay.html links), which takes its place once mounted. A click
 * before then opens the card as the card's own pill would.
 * @param {HTMLElement} root
 * @param {{text: string, title: string, status: string}} pill
 * @param {() => void} onClick
 */
function drawPill(root, pill, onClick) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'lens-pill-button';
  button.dataset.testid = 'lens-pill';
  button.setAttribute('aria-expanded', 'false');
  button.title = pill.title;
  const dot = document.createElement('span');
  dot.className = 'lens-dot';
  dot.dataset.status = pill.status;
  dot.setAttribute('aria-hidden', 'true');
  const text = document.createElement('span');
  text.textContent = pill.text;
  button.append(dot, text);
  button.addEventListener('click', onClick, { once: true });
  root.replaceChildren(button);
}

const { mountLensCard } = await import('./card-page.js');
/** @type {any} */ (globalThis).lensCard = await mountLensCard(root, token, overlay, first);
