// The toolbar popup: the same card as the overlay, for the active tab, and a per-site pause.
import { mountLensCard } from './card-page.js';

const api = globalThis.browser ?? globalThis.chrome;
const $ = (id) => document.getElementById(id);

// `?tab=<id>` lets a test open the popup as a page for a given tab.
const asked = Number(new URLSearchParams(location.search).get('tab'));
const tab = Number.isSafeInteger(asked) && asked > 0
  ? await api.tabs.get(asked)
  : (await api.tabs.query({ active: true, currentWindow: true }))[0];

const reply = tab ? await api.runtime.sendMessage({ type: 'lens:tab', tabId: tab.id }).catch(() => null) : null;
if (reply?.token) {
  await mountLensCard($('root'), reply.token);
  if (reply.site) {
    const { paused = [] } = await api.storage.local.get('paused');
    let isPaused = paused.includes(reply.site);
    const button = $('pause');
    const label = () => { button.textContent = isPaused ? `Resume on ${reply.site}` : `Pause on ${reply.site}`; };
    label();
    button.hidden = false;
    button.addEventListener('click', async () => {
      isPaused = !isPaused;
      await api.runtime.sendMessage({ type: 'lens:pause', site: reply.site, paused: isPaused });
      label();
    });
  }
} else {
  $('empty').hidden = false;
  $('empty').textContent = reply?.ignored
    ? 'The Lens never looks this site up (see the options).'
    : 'Nothing to look up on this page.';
}
