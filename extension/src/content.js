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
  const isGmail = location.hostname === 'mail.google.com' && location.protocol === 'https:';

  /** @typedef {import('./wasm/lens_worker.js').LensReply} LensReply */
  /** @typedef {import('./wasm/lens_worker.js').LensRequest} LensRequest */
  /** @typedef {import('./wasm/lens_worker.js').LensSize} LensSize */

  /** @type {{host: HTMLElement, frame: HTMLIFrameElement, token: string, expanded: boolean, toggles: number, painted: HTMLCanvasElement | null} | null} */
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

  /** @type {Element | null} the Gmail view read last */
  let lastGmailView = null;

  // Gmail shows a new view a little after its URL's fragment changed (the old one stays on
  // screen until then): wait (briefly) for a view other than the one read last that holds
  // a thread with its participants, or the inbox list.
  /** @returns {Promise<{view: string, thread: string | null, addresses: {email: string, name: string | null, role: 'from' | 'to'}[], me: string[]}>} */
  function waitForGmail(timeout = 3000) {
    const g = /** @type {any} */ (globalThis);
    return new Promise((resolve) => {
      const deadline = Date.now() + timeout;
      const check = () => {
        const view = g.affinityLensGmailView?.(document) ?? null;
        const read = g.affinityLensReadGmail?.(document, location) ?? { view: 'other', thread: null, addresses: [], me: [] };
        const ready = read.view === 'list' || (read.view === 'thread' && read.addresses.length > 0);
        if ((view && view !== lastGmailView && ready) || Date.now() > deadline) {
          lastGmailView = view;
          resolve(read);
          return;
        }
        setTimeout(check, 100);
      };
      check();
    });
  }

  /** The frame takes its state's size, within the window. */
  function size() {
    if (!overlay || !frameSizes) return;
    if (overlay.expanded) unpaint();
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

  // The dot's colours and the pill's look: crates/lens-ui/src/pill.css (the frame's pill).
  /** @type {Record<string, string>} */
  const DOT = { matched: '#1a7f37', error: '#b42318', ambiguous: '#b54708' };

  /**
   * The pill as pixels, from the background's answer, under the overlay frame while the
   * frame (an extension page) starts: the frame's own pill, drawn in the same place with
   * the same look (crates/lens-ui/src/pill.css: 260 × 30 at 6, 6), covers it. Pixels in
   * the closed shadow root, not text: the page can neither read nor find it (window.find,
   * a selection); it takes no room (the host's size is the frame's) and no pointer (a
   * click before the frame has drawn its pill goes to the frame).
   * @param {{text: string, status: string}} pill
   * @param {LensSize} box the frame's size for the pill
   * @returns {HTMLCanvasElement | null}
   */
  function paintPill(pill, box) {
    const canvas = document.createElement('canvas');
    const g = canvas.getContext('2d');
    if (!g || typeof pill?.text !== 'string') return null;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = Math.round(box.width * ratio);
    canvas.height = Math.round(box.height * ratio);
    canvas.style.cssText = `position: absolute; left: 10px; top: 0; width: ${box.width}px; height: ${box.height}px;`
      + ' pointer-events: none; display: block;';
    g.scale(ratio, ratio);
    const dark = window.matchMedia?.('(prefers-color-scheme: dark)').matches === true;
    g.beginPath();
    g.roundRect(6.5, 6.5, 259, 29, 15);
    g.shadowColor = 'rgba(0, 0, 0, .15)';
    g.shadowBlur = 8;
    g.shadowOffsetY = 2;
    g.fillStyle = dark ? '#1e222b' : '#fff';
    g.fill();
    g.shadowColor = 'transparent';
    g.lineWidth = 1;
    g.strokeStyle = dark ? '#3a4150' : '#d8dde6';
    g.stroke();
    g.beginPath();
    g.arc(23, 21, 4, 0, 2 * Math.PI);
    g.fillStyle = DOT[pill.status] ?? '#8a93a6';
    g.fill();
    g.font = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
    g.textBaseline = 'middle';
    g.fillStyle = dark ? '#e6e9ef' : '#1d2433';
    // From the dot's right (+6 px gap) to the padding's edge, cut with an ellipsis.
    const room = 253 - 33;
    let text = pill.text;
    if (g.measureText(text).width > room) {
      while (text.length > 1 && g.measureText(`${text}…`).width > room) text = text.slice(0, -1);
      text = `${text.trimEnd()}…`;
    }
    g.fillText(text, 33, 21);
    return canvas;
  }

  /** The painted pill goes once the frame is up (or the card opens). */
  function unpaint() {
    overlay?.painted?.remove();
    if (overlay) overlay.painted = null;
  }

  /**
   * @param {boolean} expanded
   * @param {string | null} t the page view (the page's own, or a badged link's)
   * @param {{text: string, status: string} | null} pill what the pill says, painted until the frame draws it
   */
  function inject(expanded, t = token, pill = null) {
    if (!t) return;
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
    frame.src = frameUrl(t, expanded, 0);
    frame.title = 'Affinity Lens';
    frame.setAttribute('allowtransparency', 'true');
    frame.style.cssText = 'border: 0; background: transparent; color-scheme: normal; display: block;'
      + ' position: relative; z-index: 1;';
    const painted = !expanded && pill && frameSizes ? paintPill(pill, frameSizes.pill) : null;
    root.append(grip, ...(painted ? [painted] : []), frame);
    // After the page's body and before the badges' host, whenever the answer came: appended
    // into a body the parser is still filling, it would land among the page's own elements,
    // and where it is would say how soon the Lens answered.
    const html = document.documentElement;
    html.insertBefore(host, badges.host.parentNode === html ? badges.host : null);
    overlay = { host, frame, token: t, expanded, toggles: 0, painted };
    if (painted) {
      // When the first frame after it was drawn ended (for the benchmark, scripts/bench-browser.mjs:
      // a global of this isolated world, which the page cannot see).
      requestAnimationFrame(() => setTimeout(() => {
        /** @type {any} */ (globalThis).lensPillPainted = performance.timeOrigin + performance.now();
      }));
      frame.addEventListener('load', () => setTimeout(() => { if (overlay?.painted === painted) unpaint(); }, 2000), { once: true });
    }
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
      // Over a badged link (hovered or focused), the shortcut opens that company's card.
      const link = badges.active();
      if (link) {
        send({ type: 'lens:link_card', domain: link.domain }).then((reply) => {
          if (reply?.ok && reply.answer === 'page' && typeof reply.token === 'string') inject(true, reply.token);
        }).catch(() => {});
        return;
      }
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

  /**
   * Reports the page (again). `sameThread`: Gmail's open thread showed more participants
   * (a message expanded, a reply): read it at once, and keep the card open if it was.
   */
  async function report(sameThread = false) {
    const mine = ++generation;
    const wasExpanded = sameThread && overlay?.expanded === true;
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
    // Gmail: an open thread's participants (its header area only), else the page (the
    // inbox's senders get badges).
    const gmail = isGmail ? await waitForGmail(sameThread ? 0 : 3000) : null;
    if (mine !== generation) return;
    if (gmail) watchThread(gmail);
    remove();
    token = null;
    // Asked as the page starts to load (this script runs at document_start): the answer
    // (from the index, most often) is there by the time the page has a body.
    const reply = await send(gmail?.view === 'thread' && gmail.thread && gmail.addresses.length
      ? { type: 'lens:thread', url: location.href, thread: gmail.thread, addresses: gmail.addresses, me: gmail.me }
      : { type: 'lens:page', url: location.href, hints });
    if (mine !== generation) return;
    const page = reply?.ok === true && reply.answer === 'page' ? reply : null;
    // Links are looked at once the page is parsed (not node by node while it loads).
    parsed(() => { if (mine === generation) badges.set(page?.badges === true); });
    if (!page || typeof page.token !== 'string') return;
    token = page.token;
    position = page.position ?? null;
    frameSizes = page.frame;
    if (page.show) withBody(() => { if (mine === generation && token === page.token && !overlay) inject(wasExpanded, token, page.pill); });
  }

  /** The participants Gmail's open thread showed when last reported. */
  let threadSeen = '';
  /** @type {MutationObserver | null} */
  let threadWatch = null;
  // Gmail's open thread changes in place (a collapsed message expanded shows its
  // recipients, a reply comes): when its participants change, the card does.
  /** @param {{view: string, addresses: {email: string, role: string}[]}} read */
  function watchThread(read) {
    threadWatch?.disconnect();
    threadWatch = null;
    const seenNow = (/** @type {{email: string, role: string}[]} */ addresses) => addresses.map((a) => `${a.role}:${a.email}`).sort().join(',');
    threadSeen = read.view === 'thread' ? seenNow(read.addresses) : '';
    const g = /** @type {any} */ (globalThis);
    const list = read.view === 'thread' ? g.affinityLensGmailView?.(document)?.querySelector('[role=list]') : null;
    if (!list) return;
    let timer = 0;
    threadWatch = new MutationObserver(() => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const again = g.affinityLensReadGmail?.(document, location);
        if (again?.view === 'thread' && again.addresses.length && seenNow(again.addresses) !== threadSeen) report(true).catch(() => {});
      }, 400);
    });
    threadWatch.observe(list, { childList: true, subtree: true, attributes: true, attributeFilter: ['class'] });
  }

  /** Runs `fn` once the document is parsed. @param {() => void} fn */
  function parsed(fn) {
    if (document.readyState !== 'loading') fn();
    else document.addEventListener('DOMContentLoaded', fn, { once: true });
  }

  /** Runs `fn` as soon as the page has a body (the overlay goes after it). @param {() => void} fn */
  function withBody(fn) {
    if (document.body || document.readyState !== 'loading') return fn();
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      watch.disconnect();
      fn();
    };
    const watch = new MutationObserver(() => { if (document.body) once(); });
    watch.observe(document.documentElement, { childList: true });
    parsed(once);
  }

  // Badges on links to companies the firm knows (answered by the background from its
  // index: no Affinity call). A page must not learn which links are badged: the badges are
  // drawn in ONE host element that is always there (whether or not anything is badged, and
  // always 0 × 0), inside a closed shadow root, with no pointer events (hit-testing and
  // elementFromPoint see the page's own elements); nothing is added to or changed on the
  // page's links. Hover and focus are read from the page's own events, and the keyboard
  // shortcut over a badged link opens that company's card. A badge is not clickable: a click
  // the page could not see would tell it that something is there.
  const badges = (() => {
    const host = document.createElement('affinity-lens-badges');
    host.style.cssText = 'all: initial; display: block; position: fixed; left: 0; top: 0; width: 0; height: 0;'
      + ' overflow: visible; pointer-events: none; z-index: 2147483646;';
    const root = host.attachShadow({ mode: 'closed' });
    const style = document.createElement('style');
    style.textContent = `
      .b { position: fixed; width: 12px; height: 12px; border-radius: 6px; background: #4f46e5; color: #fff;
        font: 700 8px/12px system-ui, sans-serif; text-align: center; pointer-events: none; user-select: none;
        box-shadow: 0 0 0 1.5px #fff; display: none; }
      .b[data-shown] { display: block; }
      .tip { position: fixed; max-width: 320px; padding: 4px 8px; border-radius: 6px; background: #1d2433; color: #fff;
        font: 12px/16px system-ui, sans-serif; pointer-events: none; white-space: nowrap; overflow: hidden;
        text-overflow: ellipsis; display: none; box-shadow: 0 2px 8px rgba(0,0,0,.2); }
      .tip[data-shown] { display: block; }`;
    const tip = document.createElement('div');
    tip.className = 'tip';
    tip.dataset.testid = 'lens-link-tip';
    root.append(style, tip);
    // On every page, once it is parsed (this script runs at document_start: appended now it
    // would come before the page's own head), whatever the page links to.
    parsed(() => (document.documentElement ?? document).append(host));

    // What gets badges: links to companies; in Gmail's inbox, each thread's senders (by
    // their address's domain), read as gmail-page.js reads them.
    const BADGED = isGmail ? '[email]' : 'a[href]';
    /** @returns {Iterable<Element>} */
    const targets = () => (isGmail
      ? (/** @type {any} */ (globalThis).affinityLensGmailSenders?.(document) ?? [])
      : /** @type {Iterable<Element>} */ (document.links));
    /** The host a badge is for: a link's, a sender's address's domain. @param {Element} el */
    const hostOf = (el) => {
      if (el instanceof HTMLAnchorElement) {
        return el.protocol === 'https:' || el.protocol === 'http:' ? el.hostname.toLowerCase() : '';
      }
      const email = el.getAttribute('email') ?? '';
      const at = email.lastIndexOf('@');
      return at > 0 ? email.slice(at + 1).toLowerCase() : '';
    };

    let on = false;
    /** @type {Map<string, import('./wasm/lens_worker.js').LensKnownLink | null>} host → what the index says (null: unknown) */
    const known = new Map();
    /** @type {Map<Element, {el: HTMLElement, domain: string, status: string}>} */
    const drawn = new Map();
    /** @type {WeakSet<Element>} links looked at already */
    let seen = new WeakSet();
    /** @type {Element | null} the badged link under the pointer or focused */
    let active = null;
    let asking = false;
    let scanTimer = 0;
    let frame = 0;

    /** @param {Element} link @param {import('./wasm/lens_worker.js').LensKnownLink} info */
    function draw(link, info) {
      if (drawn.has(link)) return;
      const el = document.createElement('span');
      el.className = 'b';
      el.textContent = 'A';
      el.dataset.testid = 'lens-link-badge';
      el.dataset.domain = info.domain;
      root.append(el);
      drawn.set(link, { el, domain: info.domain, status: info.status });
    }

    // Every link not looked at yet: its host, known or asked about (once per host).
    function scan() {
      scanTimer = 0;
      if (!on) return;
      /** @type {Element[]} */
      const waiting = [];
      const ask = new Set();
      for (const link of targets()) {
        if (seen.has(link)) continue;
        seen.add(link);
        const h = hostOf(link);
        if (!h || h === location.hostname) continue;
        const info = known.get(h);
        if (info) draw(link, info);
        else if (info === undefined) { ask.add(h); waiting.push(link); }
      }
      if (ask.size && !asking) {
        asking = true;
        send({ type: 'lens:links', hosts: [...ask].slice(0, 2000) }).then((reply) => {
          const answered = reply?.ok && reply.answer === 'links' ? reply.known : [];
          for (const k of answered) known.set(k.host, k);
          for (const h of ask) if (!known.has(h)) known.set(h, null);
          if (!on) return;
          for (const link of waiting) {
            const info = known.get(hostOf(link));
            if (info) draw(link, info);
          }
          layoutSoon();
        }).catch(() => {
          for (const link of waiting) seen.delete(link); // asked again on the next change
        }).finally(() => {
          asking = false;
          if ([...ask].some((h) => !known.has(h))) scanSoon();
        });
      } else if (ask.size) {
        for (const link of waiting) seen.delete(link);
        scanSoon();
      }
      layoutSoon();
    }

    // Badges beside their links' last line box, in the viewport; hidden when the link is not
    // laid out or out of view. One read of each badged link's boxes per frame, on scroll,
    // resize and change: every box is read first, then the badges are moved (a write between
    // two reads would make the browser lay the page out again for each badge), and only
    // those whose place changed.
    function layout() {
      frame = 0;
      /** @type {[{el: HTMLElement}, string | null, string | null][]} */
      const moves = [];
      const w = window.innerWidth;
      const h = window.innerHeight;
      for (const [link, b] of drawn) {
        if (!link.isConnected) {
          b.el.remove();
          drawn.delete(link);
          if (active === link) active = null;
          continue;
        }
        const rects = link.getClientRects();
        const r = rects[rects.length - 1];
        const shown = r && !(r.width === 0 && r.height === 0) && r.bottom > -16 && r.top < h + 16 && r.right > -16 && r.right < w + 16;
        moves.push(shown ? [b, `${Math.round(r.right + 2)}px`, `${Math.round(r.top + (r.height - 12) / 2)}px`] : [b, null, null]);
      }
      for (const [b, left, top] of moves) {
        if (left === null || top === null) {
          if (b.el.dataset.shown !== undefined) delete b.el.dataset.shown;
          continue;
        }
        if (b.el.style.left !== left) b.el.style.left = left;
        if (b.el.style.top !== top) b.el.style.top = top;
        if (b.el.dataset.shown === undefined) b.el.dataset.shown = '';
      }
      showTip();
    }
    const layoutSoon = () => { if (!frame && drawn.size) frame = requestAnimationFrame(layout); };
    // Links added later (infinite scroll, single-page apps): looked at in batches.
    const scanSoon = () => { if (!scanTimer && on) scanTimer = setTimeout(scan, 250); };

    function showTip() {
      const b = active && drawn.get(active);
      if (!b || b.el.dataset.shown === undefined) { delete tip.dataset.shown; return; } // drawn: data-shown=""
      tip.textContent = `In Affinity: ${b.status} · Alt+Shift+L opens the card`;
      const x = parseFloat(b.el.style.left) + 16;
      const y = parseFloat(b.el.style.top) - 4;
      tip.style.left = `${Math.max(0, Math.min(x, window.innerWidth - 330))}px`;
      tip.style.top = `${Math.max(0, Math.min(y, window.innerHeight - 26))}px`;
      tip.dataset.shown = '';
    }

    /** @param {Event} e */
    function hover(e) {
      const t = e.target instanceof Element ? e.target.closest(BADGED) : null;
      const link = t && drawn.has(/** @type {Element} */ (t)) ? /** @type {Element} */ (t) : null;
      if (link !== active) { active = link; showTip(); }
    }
    /** @param {Event} e */
    function leave(e) {
      const t = e.target instanceof Element ? e.target.closest(BADGED) : null;
      const to = /** @type {any} */ (e).relatedTarget;
      if (t && t === active && !(to instanceof Node && t.contains(to))) { active = null; showTip(); }
    }
    for (const [type, fn] of /** @type {[string, (e: Event) => void][]} */ ([['mouseover', hover], ['focusin', hover], ['mouseout', leave], ['focusout', leave]])) {
      document.addEventListener(type, fn, { capture: true, passive: true });
    }
    window.addEventListener('scroll', layoutSoon, { capture: true, passive: true });
    window.addEventListener('resize', layoutSoon, { passive: true });
    const observer = new MutationObserver((records) => {
      if (!on) return;
      for (const r of records) {
        if (r.type === 'attributes' && r.target instanceof Element && r.target.matches(BADGED)) {
          seen.delete(r.target);
          const b = drawn.get(r.target);
          if (b) { b.el.remove(); drawn.delete(r.target); }
        }
      }
      scanSoon();
      layoutSoon();
    });

    return {
      /** The one host element (the overlay's goes before it). */
      host,
      /** @param {boolean} want badges on this page (the background's word) */
      set(want) {
        if (want === on) return;
        on = want;
        if (on) {
          observer.observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['href', 'email'] });
          scan();
        } else {
          observer.disconnect();
          for (const b of drawn.values()) b.el.remove();
          drawn.clear();
          seen = new WeakSet();
          active = null;
          showTip();
        }
      },
      // Back on the page (from the options, say): the hosts of the badges drawn are asked
      // about again (the index answers, no call), so that badges turned off, for every site
      // or for this one, leave the pages already open too, and a Status changed meanwhile
      // shows.
      recheck() {
        if (!on || !drawn.size || asking) return;
        const hosts = [...new Set([...drawn.keys()].map(hostOf))];
        asking = true; // one question at a time (the page can fire visibilitychange too)
        send({ type: 'lens:links', hosts: hosts.slice(0, 2000) }).then((reply) => {
          if (!on || !reply?.ok || reply.answer !== 'links') return;
          if (reply.known.length === 0) { this.set(false); return; }
          const now = new Map(reply.known.map((k) => [k.host, k]));
          for (const h of hosts) known.set(h, now.get(h) ?? null);
          for (const [link, b] of drawn) {
            const info = now.get(hostOf(link));
            if (info) { b.status = info.status; continue; }
            b.el.remove();
            drawn.delete(link);
            if (active === link) active = null;
          }
          layoutSoon();
          showTip();
        }).catch(() => {}).finally(() => { asking = false; });
      },
      /** The badged link hovered or focused, if any. */
      active: () => (active && drawn.has(active) ? { domain: /** @type {{domain: string}} */ (drawn.get(active)).domain } : null),
    };
  })();

  const changed = () => {
    if (here() !== lastUrl) report().catch(() => {});
  };
  // Same-document navigations: Back and Forward; and on LinkedIn, which changes page with
  // history.pushState (invisible to this isolated world), a look at the URL twice a second.
  window.addEventListener('popstate', changed);
  const isLinkedin = /(^|\.)linkedin\.com$/.test(location.hostname);
  if (isLinkedin) setInterval(changed, 500);
  // Gmail changes view (a thread, the inbox) with the URL's fragment.
  if (isGmail) window.addEventListener('hashchange', () => { report().catch(() => {}); });
  // Back to a page kept in the back/forward cache: its card was forgotten meanwhile.
  window.addEventListener('pageshow', (e) => {
    if (/** @type {PageTransitionEvent} */ (e).persisted) report().catch(() => {});
  });
  window.addEventListener('resize', size);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') badges.recheck();
  });

  report().catch(() => {
    /* the extension was reloaded or is not ready: never break the page */
  });
})();
