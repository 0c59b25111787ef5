// The toolbar popup: the same card as the overlay, for the active tab, and a per-site pause.
import { ask, mountLensCard } from './card-page.js';

const api = globalThis.lensApi;
/** @param {string} id */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

// `?tab=<id>` lets a test open the popup as a page for a given tab.
const asked = Number(new URLSearchParams(location.search).get('tab'));
const tab = Number.isSafeInteger(asked) && asked > 0
  ? await api.tabs.get(asked)
  : (await api.tabs.query({ active: true, currentWindow: true }))[0];

const reply = tab?.id !== undefined ? await ask({ type: 'lens:tab', tabId: tab.id }) : null;
if (reply?.ok && reply.answer === 'tab' && reply.token) {
  await mountLensCard($('root'), reply.token);
  const site = reply.site;
  if (site) {
    let isPaused = reply.paused;
    const button = $('pause');
    const label = () => { button.textContent = isPaused ? `Resume on ${site}` : `Pause on ${site}`; };
    label();
    button.hidden = false;
    button.addEventListener('click', async () => {
      const done = await ask({ type: 'lens:pause', site, paused: !isPaused });
      if (done.ok && done.answer === 'paused') isPaused = done.paused.includes(site);
      label();
    });
  }
} else {
  $('empty').hidden = false;
  $('empty').textContent = reply?.ok && reply.answer === 'tab' && reply.ignored
    ? 'The Lens never looks this site up (see the options).'
    : 'Nothing to look up on this page.';
}
