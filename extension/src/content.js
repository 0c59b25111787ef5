// Content script: plain JS, no wasm, never sees the key. It reports the page (and, on
// LinkedIn, the name, headline and company it shows) to the background and, when there is
// something to show, adds the overlay: an extension-origin iframe inside a closed shadow
// root, so neither the page's CSS nor its scripts reach it. The iframe shows the pill or
// the card; this script only places it and gives it the size of its state (one size for
// the pill and one for the card, whatever they say: the page can measure the frame).
// Messages are the protocol's (crates/lens-web/src/protocol.rs); browser-api.js, loaded
// before this script, is the browser shim.
(() => {
  if (window.top !== window || /** @type {any} */ (window).__affinityLensInjected) return;
  /** @type {any} */ (window).__affinityLensInjected = true;
  const api = globalThis.lensApi;
  const EDGE = 16;

  /** @typedef {import('./wasm/lens_worker.js').LensReply} LensReply */
  /** @typedef {import('./wasm/lens_worker.js').LensRequest} LensRequest */
  /** @typedef {import('./wasm/lens_worker.js').LensSize} LensSize */

  /** @type {{host: HTMLElement, frame: HTMLIFrameElement, token: string, expanded: boolean, toggles: number} | null} */
  let overlay = null;
  /** @type {string | null} the current page's card, even when the overlay is closed */
  let token = null;
  /** @type {{side: 'left' | 'right', top: number} | null} where the user put it, or bottom right */
  let position = null;
  /** @type {{pill: LensSize, card: LensSize} | null} the frame's size in each state (the background's word) */
  let frameSizes = null;
  /** @type {string | null} */
  let lastUrl = null;
  /** @type {string | null} */
  let lastName = null;

  /** @param {LensRequest} message @returns {Promise<LensReply>} */
  const send = (message) => api.runtime.sendMessage(message);

  // What a LinkedIn page shows (linkedin-page.js, loaded before this script): a person's
  // name, headline and current company, a company's name and website. Null until the
  // page shows a name.
  function linkedinHints() {
    const hints = /** @type {any} */ (globalThis).affinityLensReadLinkedin?.(document, location) ?? {};
    return hints.name ? hints : null;
  }

  // LinkedIn renders after the URL changes: wait (briefly) for a heading that is not the
  // previous page's.
  /** @returns {Promise<Record<string, string>>} */
  function waitForLinkedin(timeout = 3000) {
    return new Promise((resolve) => {
      const deadline = Date.now() + timeout;
      const check = () => {
        const hints = linkedinHints();
        if ((hints?.name && hints.name !== lastName) || Date.now() > deadline) return resolve(hints ?? {});
        setTimeout(check, 100);
      };
      check();
    });
  }

  /** The frame takes its state's size, within the window. */
  function size() {
    if (!overlay || !frameSizes) return;
    const want = overlay.expanded ? frameSizes.card : frameSizes.pill;
    overlay.frame.style.width = `${Math.max(40, Math.min(want.width, window.innerWidth - 2 * EDGE))}px`;
    overlay.frame.style.height = `${Math.max(32, Math.min(want.height, window.innerHeight - 2 * EDGE))}px`;
    place();
  }

  function place() {
    if (!overlay) return;
    const { host } = overlay;
    const side = position?.side ?? 'right';
    host.style.left = side === 'left' ? `${EDGE}px` : 'auto';
    host.style.right = side === 'right' ? `${EDGE}px` : 'auto';
    if (position) {
      const h = overlay.frame.offsetHeight || 40;
      host.style.top = `${Math.max(0, Math.min(position.top, window.innerHeight - h))}px`;
      host.style.bottom = 'auto';
    } else {
      host.style.top = 'auto';
      host.style.bottom = `${EDGE}px`;
    }
  }

  /** @param {string} t @param {boolean} expanded @param {number} n */
  const frameUrl = (t, expanded, n) => `${api.runtime.getURL('overlay.html')}#t=${t}&expanded=${expanded ? 1 : 0}&n=${n}`;

  function remove() {
    overlay?.host.remove();
    overlay = null;
  }

  /** @param {boolean} expanded */
  function inject(expanded) {
    if (!token) return;
    remove();
    const host = document.createElement('affinity-lens-overlay');
    host.style.cssText = 'all: initial; position: fixed; z-index: 2147483647; display: flex; align-items: flex-start;';
    const root = host.attachShadow({ mode: 'closed' });
    // The grip: drag it to move the overlay; where it is dropped is remembered.
    const grip = document.createElement('div');
    grip.title = 'Drag to move the Affinity Lens';
    grip.style.cssText = 'width: 10px; align-self: stretch; cursor: grab; opacity: .35; touch-action: none;'
      + 'background: radial-gradient(circle, #8a93a6 1px, transparent 1.5px) 0 0 / 5px 5px;';
    const frame = document.createElement('iframe');
    frame.src = frameUrl(token, expanded, 0);
    frame.title = 'Affinity Lens';
    frame.setAttribute('allowtransparency', 'true');
    frame.style.cssText = 'border: 0; background: transparent; color-scheme: normal; display: block;';
    root.append(grip, frame);
    (document.body ?? document.documentElement).append(host);
    overlay = { host, frame, token, expanded, toggles: 0 };
    size();
    drag(grip, host);
  }

  /** @param {HTMLElement} grip @param {HTMLElement} host */
  function drag(grip, host) {
    /** @type {{x: number, y: number, left: number, top: number} | null} */
    let start = null;
    grip.addEventListener('pointerdown', (e) => {
      const box = host.getBoundingClientRect();
      start = { x: e.clientX, y: e.clientY, left: box.left, top: box.top };
      grip.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    grip.addEventListener('pointermove', (e) => {
      if (!start) return;
      host.style.left = `${start.left + e.clientX - start.x}px`;
      host.style.top = `${start.top + e.clientY - start.y}px`;
      host.style.right = host.style.bottom = 'auto';
    });
    /** @param {PointerEvent} e */
    const end = (e) => {
      if (!start) return;
      const box = host.getBoundingClientRect();
      start = null;
      grip.releasePointerCapture?.(e.pointerId);
      // Snap to the nearer side; keep the height.
      position = { side: box.left + box.width / 2 < window.innerWidth / 2 ? 'left' : 'right', top: Math.round(box.top) };
      place();
      send({ type: 'lens:position', ...position }).catch(() => {});
    };
    grip.addEventListener('pointerup', end);
    grip.addEventListener('pointercancel', end);
  }

  // The background's messages (ToContent in the protocol).
  api.runtime.onMessage.addListener((/** @type {import('./wasm/lens_worker.js').LensToContent} */ msg, sender) => {
    if (sender.id !== api.runtime.id || !msg || typeof msg.type !== 'string') return;
    if (msg.type === 'lens:expand' && overlay && msg.token === overlay.token) {
      overlay.expanded = msg.expanded === true;
      size();
    } else if (msg.type === 'lens:close' && overlay && msg.token === overlay.token) {
      remove();
    } else if (msg.type === 'lens:toggle') {
      // The keyboard shortcut: a closed overlay comes back open; an open one folds or unfolds.
      // The frame hears it as a change of its URL's fragment (no reload, no postMessage).
      if (!overlay && token) inject(true);
      else if (overlay) {
        overlay.expanded = !overlay.expanded;
        overlay.frame.src = frameUrl(overlay.token, overlay.expanded, ++overlay.toggles);
        size();
      }
    }
  });

  // The page as the Lens sees it: without the fragment (an in-page #anchor is the same page).
  const here = () => location.href.split('#')[0];
  let generation = 0;

  async function report() {
    const mine = ++generation;
    lastUrl = here();
    /** @type {Record<string, string>} */
    let hints = {};
    if (isLinkedin) {
      hints = await waitForLinkedin();
      // Still the previous profile's heading at the deadline: look the URL up, not that name.
      if (hints.name && hints.name === lastName) delete hints.name;
      lastName = hints.name ?? lastName;
    }
    if (mine !== generation) return; // a later navigation took over
    remove();
    token = null;
    const reply = await send({ type: 'lens:page', url: location.href, hints });
    if (mine !== generation || !reply?.ok || reply.answer !== 'page' || typeof reply.token !== 'string') return;
    token = reply.token;
    position = reply.position ?? null;
    frameSizes = reply.frame;
    if (reply.show) inject(false);
  }

  const changed = () => {
    if (here() !== lastUrl) report().catch(() => {});
  };
  // Same-document navigations: Back and Forward; and on LinkedIn, which changes page with
  // history.pushState (invisible to this isolated world), a look at the URL twice a second.
  window.addEventListener('popstate', changed);
  const isLinkedin = /(^|\.)linkedin\.com$/.test(location.hostname);
  if (isLinkedin) setInterval(changed, 500);
  // Back to a page kept in the back/forward cache: its card was forgotten meanwhile.
  window.addEventListener('pageshow', (e) => {
    if (/** @type {PageTransitionEvent} */ (e).persisted) report().catch(() => {});
  });
  window.addEventListener('resize', size);

  report().catch(() => {
    /* the extension was reloaded or is not ready: never break the page */
  });
})();
