// The card in an extension page (the overlay iframe, the toolbar popup): mounts the Leptos
// card and wires it to the background, which holds the key and does every request. Every
// message is the protocol's (LensRequest), every reply its one shape (LensReply).
import { ask } from './ask.js';
import init, { mountCard, timeLimitMs } from './wasm/lens_pages.js';

export { ask };

/** @typedef {import('./wasm/lens_pages.js').LensRequest} LensRequest */
/** @typedef {import('./wasm/lens_pages.js').LensReply} LensReply */
/** @typedef {import('./wasm/lens_pages.js').CardHandle} CardHandle */
/** @typedef {import('./wasm/lens_pages.js').LensCard} LensCard */

/** What the card says when it holds a write's click. */
const HELD = 'Hold on: the card just appeared or moved; click again.';
/** How long (ms) the frame, the pointer and the card must have been still for a click to write. */
const STEADY_MS = 500;

/**
 * Writes need a card the user can see, and a click the page did not set up. In the overlay
 * (a frame in a page the page owns), Chromium tells whether the frame is visible and
 * unobscured (IntersectionObserver v2): writes are enabled only while it is. It does not
 * tell when the page moves a visible frame (double-clickjacking), so a write's click is
 * also held (and the card says so) unless, for at least 500 ms, the last visibility report
 * has said "visible", the pointer has been in the frame (since `pointerenter`: a frame
 * moved under a still pointer gets a fresh one; or since the frame last moved under it),
 * and the card has not changed (its buttons appeared or moved: a form opened, a new card).
 * A write from the keyboard needs no pointer: a page cannot send keys into this frame.
 * Where the browser cannot tell visibility (Firefox), each write asks for a confirmation
 * in the card, given with a key on Confirm, which gets the focus when it appears.
 * @param {CardHandle} handle
 * @param {Element} root
 * @returns {() => boolean} whether a write's click now is to be held
 */
function guardWrites(handle, root) {
  if (!('isVisible' in IntersectionObserverEntry.prototype)) {
    handle.setWriteGuard('confirm');
    /** @type {Element | null} */
    let asked = null;
    new MutationObserver(() => {
      const yes = root.querySelector('[data-testid="lens-confirm-yes"]');
      if (yes !== asked && yes instanceof HTMLElement) yes.focus();
      asked = yes;
    }).observe(root, { childList: true, subtree: true });
    return () => false;
  }
  handle.setWriteGuard('hidden');
  /** @type {number | null} */
  let visibleAt = null;
  /** @type {number | null} */
  let pointerAt = null;
  let changedAt = performance.now();
  let byKey = false;
  // The pointer's screen position less its place in the frame is where the frame is: when
  // that changes, the frame moved under the pointer, which counts as having just entered.
  let frameAt = '';
  const track = (/** @type {PointerEvent} */ e) => {
    const at = `${Math.round(e.screenX - e.clientX)},${Math.round(e.screenY - e.clientY)}`;
    if (e.type === 'pointerenter' || at !== frameAt) pointerAt = performance.now();
    frameAt = at;
  };
  document.documentElement.addEventListener('pointerenter', track);
  window.addEventListener('pointermove', track, true);
  window.addEventListener('pointerdown', (e) => { track(e); byKey = false; }, true);
  window.addEventListener('keydown', () => { byKey = true; }, true);
  new MutationObserver(() => { changedAt = performance.now(); })
    .observe(root, { childList: true, subtree: true, attributes: true, characterData: true });
  new IntersectionObserver(
    (entries) => {
      const last = /** @type {IntersectionObserverEntry & {isVisible: boolean}} */ (entries[entries.length - 1]);
      visibleAt = last.isVisible ? performance.now() : null;
      handle.setWriteGuard(last.isVisible ? 'allowed' : 'hidden');
    },
    /** @type {IntersectionObserverInit} */ ({ threshold: [0, 1], trackVisibility: true, delay: 100 }),
  ).observe(root);
  const age = (/** @type {number | null} */ t) => (t === null ? 0 : performance.now() - t);
  return () => Math.min(age(visibleAt), age(changedAt), byKey ? Infinity : age(pointerAt)) < STEADY_MS;
}

/**
 * Mounts the card for `token` into `root`. With `overlay`, it starts as the pill
 * (`overlay.expanded` says otherwise), reports expand/close through the background, and
 * guards its writes.
 * `first`, when given, is the first round's reply already asked for (the overlay asks as it
 * starts, while the card's module loads, and draws its pill from it).
 * @param {HTMLElement} root
 * @param {string} token
 * @param {{expanded: boolean, mounting?: boolean} | null} overlay
 * @param {Promise<LensReply> | null} first
 */
export async function mountLensCard(root, token, overlay = null, first = null) {
  await init({ module_or_path: new URL('./wasm/lens_pages_bg.wasm', import.meta.url) });
  // The card takes the place of the pill drawn meanwhile (overlay.js).
  if (overlay) overlay.mounting = true;
  root.replaceChildren();
  const timeLimit = timeLimitMs();
  let choicesAsked = false;
  let idle = false; // not looked up yet: the budget is low
  // The overlay's pill costs only what it shows (a page view); the card asks for the rest
  // when the user opens it. The popup is a card from the start.
  let full = !overlay || overlay.expanded === true;
  /** @type {string | null} */
  let phase = null; // of the card shown: 'pill' or 'card'
  /** @type {LensCard | null} the card shown */
  let shown = null;

  let held = () => false;
  /** @type {Record<string, unknown>} */
  const options = {
    onRefresh: () => (idle ? load({ lookup: true, visible: true }) : load({ refresh: true })),
    // A write's click that comes too soon is held: `false` tells the card so.
    onAction: (/** @type {any} */ a) => {
      if (a.action && held()) {
        handle.setNotice({ ok: false, text: HELD });
        return false;
      }
      act(a);
      return true;
    },
  };
  if (overlay) {
    options.expanded = overlay.expanded === true;
    options.onExpand = (/** @type {boolean} */ expanded) => {
      overlay.expanded = expanded;
      ask({ type: 'lens:expand', token, expanded });
      if (expanded) opened();
    };
    options.onClose = () => ask({ type: 'lens:close', token });
  }
  const handle = mountCard(root, options);
  if (overlay) held = guardWrites(handle, root);

  async function choices() {
    if (choicesAsked) return;
    choicesAsked = true;
    const reply = await ask({ type: 'lens:choices', token });
    if (reply.ok && reply.answer === 'lists') {
      handle.setChoices(reply.lists);
      handle.setPeople(reply.people);
    }
    // Team mode without a personal key: the card says writes need one, before any is tried.
    else if (!reply.ok && reply.error.kind === 'no_key') handle.setNotice({ ok: false, text: reply.error.message });
    else choicesAsked = false;
  }

  /** @param {LensReply} reply */
  function show(reply) {
    idle = reply.ok && reply.answer === 'on_demand';
    if (!reply.ok) {
      handle.setFailure(reply.error);
    } else if (reply.answer === 'on_demand') {
      handle.setIdle(reply.message);
    } else if (reply.answer === 'card') {
      phase = typeof reply.card.phase === 'string' ? reply.card.phase : 'card';
      handle.setCard(reply.card);
      if (full && phase === 'pill') rest();
      shown = reply.card;
      wantChoices();
    } else {
      handle.setError('The Lens could not make a card for this page.');
    }
  }

  /** @param {{refresh?: boolean, lookup?: boolean, pick?: any, quiet?: boolean, visible?: boolean}} how */
  async function load({ refresh = false, lookup = false, pick = null, quiet = false, visible = false } = {}) {
    if ((refresh && !quiet) || visible) handle.setLoading();
    let settled = false;
    const timer = setTimeout(() => {
      if (!settled) handle.setError('Affinity did not answer in time. Try again later.');
    }, timeLimit);
    let reply;
    if (!refresh && !lookup && !pick) {
      // The name first (the first round of the lookup), then the whole card.
      reply = await (first ?? ask({ type: 'lens:card', token, first: true, full }));
      first = null;
      if (reply.ok && reply.answer === 'card' && reply.partial) {
        handle.setCard(reply.card);
        reply = await ask({ type: 'lens:card', token, full });
      }
    } else {
      reply = await ask({ type: 'lens:card', token, refresh, lookup, pick, full });
    }
    settled = true;
    clearTimeout(timer);
    show(reply);
  }

  /** Opened: the rest of the card (every answer of the pill is reused). */
  function opened() {
    if (full) return;
    full = true;
    if (phase === 'pill') rest();
    else wantChoices();
  }

  /**
   * The lists and the team, for the opened card's forms and fields: not for a pill (a page
   * view costs what its pill shows, and the team may not be remembered yet).
   */
  function wantChoices() {
    if (full && (shown?.status === 'matched' || shown?.status === 'not_found')) choices();
  }

  let askingRest = false;
  async function rest() {
    if (askingRest) return;
    askingRest = true;
    const reply = await ask({ type: 'lens:card', token, full: true });
    askingRest = false;
    show(reply);
  }

  let findSeq = 0;
  /** @param {{pick?: any, target?: any, action?: any, find?: string}} a */
  async function act(a) {
    if (typeof a.find === 'string') {
      // An organization field's picker: the index's companies (no call); the last typed wins.
      const seq = ++findSeq;
      const reply = await ask({ type: 'lens:companies', token, query: a.find });
      if (seq === findSeq && reply.ok && reply.answer === 'companies') handle.setCompanies(reply.companies);
      return;
    }
    if (a.pick) {
      handle.setNotice(null);
      handle.setLoading();
      return load({ pick: a.pick });
    }
    // The card already says what it is doing.
    const reply = await ask({ type: 'lens:act', token, target: a.target ?? null, action: a.action });
    if (!reply.ok) {
      handle.setNotice({ ok: false, text: `Not done: ${reply.error.message}` });
      return;
    }
    handle.setNotice({ ok: true, text: reply.answer === 'done' ? reply.message : 'Done.' });
    // Show what Affinity has now (a created organization is found by its domain, a created
    // person by the profile's name); the notice stays.
    await load({ refresh: true, quiet: true });
  }

  if (overlay) {
    // The keyboard shortcut: the content script changes this frame's fragment.
    window.addEventListener('hashchange', () => {
      overlay.expanded = new URLSearchParams(location.hash.slice(1)).get('expanded') === '1';
      handle.setExpanded(overlay.expanded);
      if (overlay.expanded) opened();
    });
  }

  await load();
  return handle;
}

