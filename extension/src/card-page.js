// The card in an extension page (the overlay iframe, the toolbar popup): mounts the Leptos
// card and wires it to the background, which holds the key and does every request.
import init, { mountCard } from './wasm/lens_pages.js';

const api = globalThis.browser ?? globalThis.chrome;
/** The card leaves "Looking up…" after this long, whatever happens. */
export const TIME_LIMIT_MS = 20000;

function pendingText(action) {
  switch (action.action) {
    case 'add_to_list': return 'Adding to the list…';
    case 'set_status': return `Setting the Status to ${action.status}…`;
    case 'add_note': return 'Saving the note…';
    case 'create_organization': return `Adding ${action.name} to Affinity…`;
    case 'create_person': return `Adding ${action.first_name} ${action.last_name} to Affinity…`;
    default: return 'Working…';
  }
}

/**
 * Mounts the card for `token` into `root`. With `overlay`, it starts as the pill
 * (`overlay.expanded` says otherwise) and reports expand/close through the background.
 */
export async function mountLensCard(root, token, overlay = null) {
  await init({ module_or_path: new URL('./wasm/lens_pages_bg.wasm', import.meta.url) });
  let choicesAsked = false;
  let idle = false; // not looked up yet: the budget is low

  const options = {
    onRefresh: () => (idle ? load({ lookup: true, visible: true }) : load({ refresh: true })),
    onAction: (a) => act(a),
  };
  if (overlay) {
    options.expanded = overlay.expanded === true;
    options.onExpand = (expanded) => {
      overlay.expanded = expanded;
      api.runtime.sendMessage({ type: 'lens:expand', token, expanded }).catch(() => {});
    };
    options.onClose = () => api.runtime.sendMessage({ type: 'lens:close', token }).catch(() => {});
  }
  const handle = mountCard(root, options);

  async function choices() {
    if (choicesAsked) return;
    choicesAsked = true;
    const reply = await api.runtime.sendMessage({ type: 'lens:choices', token }).catch(() => null);
    if (reply?.ok) handle.setChoices(reply.lists);
    else choicesAsked = false;
  }

  async function load({ refresh = false, lookup = false, pick = null, quiet = false, visible = false } = {}) {
    if ((refresh && !quiet) || visible) handle.setLoading();
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) handle.setError('Affinity did not answer in time. Try again later.');
    }, TIME_LIMIT_MS);
    const ask = (extra) => api.runtime.sendMessage({ type: 'lens:card', token, ...extra });
    try {
      let reply;
      if (!refresh && !lookup && !pick) {
        // The name first (the first round of the lookup), then the whole card.
        reply = await ask({ first: true });
        if (reply?.partial && reply.card) {
          handle.setCard(reply.card);
          reply = await ask({});
        }
      } else {
        reply = await ask({ refresh, lookup, pick });
      }
      settled = true;
      idle = reply?.onDemand === true;
      if (idle) {
        handle.setIdle(reply.message);
      } else if (reply && reply.card) {
        handle.setCard(reply.card);
        if (reply.card.status === 'matched' || reply.card.status === 'not_found') choices();
      } else {
        handle.setError(reply?.message ?? 'The Lens could not make a card for this page.');
      }
    } catch (e) {
      settled = true;
      handle.setError(`The Lens background is not answering: ${e}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async function act(a) {
    if (a.pick) {
      handle.setNotice(null);
      handle.setLoading();
      return load({ pick: a.pick });
    }
    handle.setNotice({ ok: true, pending: true, text: pendingText(a.action) });
    let reply;
    try {
      reply = await api.runtime.sendMessage({ type: 'lens:act', token, target: a.target ?? null, action: a.action });
    } catch (e) {
      reply = { ok: false, message: `The Lens background is not answering: ${e}` };
    }
    if (!reply?.ok) {
      handle.setNotice({ ok: false, text: `Not done: ${reply?.message ?? 'no answer'}` });
      return;
    }
    handle.setNotice({ ok: true, text: reply.message });
    // Show what Affinity has now (a created organization is found by its domain, a created
    // person by the profile's name); the notice stays.
    await load({ refresh: true, quiet: true });
  }

  if (overlay) {
    // The keyboard shortcut: the content script changes this frame's fragment.
    window.addEventListener('hashchange', () => {
      overlay.expanded = new URLSearchParams(location.hash.slice(1)).get('expanded') === '1';
      handle.setExpanded(overlay.expanded);
    });
  }

  await load();
  return handle;
}
