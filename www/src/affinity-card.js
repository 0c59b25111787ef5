// <affinity-card>: the Affinity Lens card for intranet pages. One ES module plus its wasm.
// The card is fetched from the gateway (which keeps the API key on the server) and
// rendered by the same Leptos component as the extension, in the element's shadow root.
//
//   <script type="module" src="/affinity-lens/affinity-card.js"></script>
//   <affinity-card domain="stripe.com"></affinity-card>
//
// Attributes: domain | email | linkedin | organization-id | person-id (one of them),
// endpoint (the gateway's URL; default: this origin's /affinity), token (a client token
// of the gateway's), credentials (`include` for a gateway on another origin behind the
// firm's sign-in proxy; by default cookies go only to a gateway on this page's origin),
// live (`off`: do not update the card when it changes in Affinity). Events:
// affinity-card-load and affinity-card-error, with the Card as detail. Theming:
// --affinity-card-* custom properties and ::part(card).
//
// Live cards: the page keeps one connection to each gateway's /events (server-sent
// events, read with fetch so that the token can be sent), whatever the number of cards,
// and reconnects by itself; the stream names the cards shown (`?cards=`), and hears only of
// those the page asked for. When a change names a card, that card is
// fetched again.
import init, { mountCard, timeLimitMs } from './wasm/lens_pages.js';

const QUERY_ATTRIBUTES = ['domain', 'email', 'linkedin', 'organization-id', 'person-id'];
const REMEMBER_MS = 60000;

// One wasm instance for every card on the page, started on first use.
let ready;
const wasm = () => (ready ??= init({ module_or_path: new URL('./wasm/lens_pages_bg.wasm', import.meta.url) }));

// One request per distinct query, shared by every card that asks for it.
const requests = new Map();
// When each shared request started (performance.now()), less the minute the browser's
// cache may keep an answer (the gateway's max-age) unless it was asked fresh: the card is
// as of then at the oldest.
const asOf = new Map();
const MAX_AGE_MS = 60000;
function fetchCard(url, token, credentials, fresh = false) {
  const key = `${url} ${token ?? ''} ${credentials}`;
  if (fresh) requests.delete(key);
  if (!requests.has(key)) {
    asOf.set(key, performance.now() - (fresh ? 0 : MAX_AGE_MS));
    const controller = new AbortController();
    // The card's own time limit (the wasm is loaded before any card is fetched).
    const timer = setTimeout(() => controller.abort(), timeLimitMs());
    // `x-affinity-lens` makes a cross-origin call one the browser checks with the gateway
    // first (a preflight), which a page of another origin cannot pass.
    const request = fetch(url, {
      headers: token ? { authorization: `Bearer ${token}`, 'x-affinity-lens': '1' } : { 'x-affinity-lens': '1' },
      credentials,
      signal: controller.signal,
      cache: fresh ? 'no-cache' : 'default',
    })
      .then(async (response) => {
        const body = await response.json().catch(() => null);
        if (!response.ok) throw new Error(body?.error ?? `the gateway answered ${response.status}`);
        if (!body || typeof body !== 'object' || !body.query) throw new Error('the gateway did not answer with a card');
        return body;
      })
      .catch((e) => {
        requests.delete(key);
        throw e.name === 'AbortError' ? new Error('the gateway did not answer in time') : e;
      })
      .finally(() => clearTimeout(timer));
    requests.set(key, request);
    setTimeout(() => requests.delete(key), REMEMBER_MS);
  }
  return requests.get(key).then((card) => ({ card, asOf: asOf.get(key) ?? performance.now() - MAX_AGE_MS }));
}

// ---- live updates: one server-sent-events stream per gateway, shared by its cards ----
const streams = new Map();

/** Reads `text/event-stream` from a fetch body; calls `on(event, data)` for each event. */
async function readEvents(body, on) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length) on(event, data.join('\n'));
    }
  }
}

/** The key of the card an element shows (`domain:acme.test`), as the gateway names it. */
const cardKey = (element) => element.cardKey();

/**
 * Follows `element`'s card on its gateway's stream. `fetchedFrom` (performance.now()): the
 * card is as of then at the oldest; a change after it that the stream did not hear (it is
 * opened again to follow this card) is asked for when it opens (`ago`).
 */
function follow(element, endpoint, token, credentials, fetchedFrom) {
  const key = `${endpoint} ${token ?? ''} ${credentials}`;
  let stream = streams.get(key);
  /** Since when the stream may have missed changes to its cards (null: it has not). */
  const deaf = (/** @type {number} */ since) => { stream.deafSince = Math.min(stream.deafSince ?? since, since); };
  if (!stream) {
    stream = { cards: new Set(), controller: null, delay: 1000, following: '', timer: null, ready: false, deafSince: fetchedFrom };
    streams.set(key, stream);
    const connect = async () => {
      if (!stream.cards.size) { streams.delete(key); return; }
      // The stream follows the cards shown now (the gateway tells a stream only of those),
      // and hears at once of their changes since it last heard (or they were fetched).
      const keys = [...new Set([...stream.cards].map(cardKey).filter(Boolean))].sort();
      stream.following = keys.join(',');
      stream.controller = new AbortController();
      const since = stream.deafSince ?? performance.now();
      stream.deafSince = null;
      stream.ready = false;
      try {
        const url = new URL(`${endpoint}/events`, document.baseURI);
        url.searchParams.set('cards', stream.following);
        url.searchParams.set('ago', String(Math.max(0, Math.round(performance.now() - since))));
        const response = await fetch(url.href, {
          headers: token ? { authorization: `Bearer ${token}`, 'x-affinity-lens': '1' } : { 'x-affinity-lens': '1' },
          credentials,
          signal: stream.controller.signal,
          cache: 'no-store',
        });
        if (!response.ok || !response.body) throw new Error(`events: ${response.status}`);
        await readEvents(response.body, (event, data) => {
          if (event === 'ready') { stream.delay = 1000; stream.ready = true; }
          if (event !== 'change') return;
          let change;
          try { change = JSON.parse(data); } catch { return; }
          for (const card of stream.cards) card.changed(change);
        });
      } catch (e) {
        deaf(stream.ready ? performance.now() : since);
        stream.ready = false;
        if (e.name === 'AbortError') { if (stream.resubscribing) { stream.resubscribing = false; connect(); } return; }
      }
      deaf(stream.ready ? performance.now() : since);
      stream.ready = false;
      // The stream ended or failed: come back, a little later each time (at most 30 s).
      if (!stream.cards.size) { streams.delete(key); return; }
      setTimeout(connect, stream.delay);
      stream.delay = Math.min(stream.delay * 2, 30000);
    };
    stream.resubscribe = () => {
      clearTimeout(stream.timer);
      stream.timer = setTimeout(() => {
        const keys = [...new Set([...stream.cards].map(cardKey).filter(Boolean))].sort().join(',');
        if (!stream.controller || keys === stream.following) return;
        stream.resubscribing = true;
        stream.controller.abort();
      }, 50);
    };
    stream.cards.add(element);
    connect();
  } else {
    // A card the live stream follows already was heard of all along; another one may have
    // changed since it was fetched, until the stream follows it too.
    const k = cardKey(element);
    if (!(stream.ready && k && stream.following.split(',').includes(k))) deaf(fetchedFrom);
    stream.cards.add(element);
    stream.resubscribe();
  }
  return () => {
    stream.cards.delete(element);
    if (!stream.cards.size) { clearTimeout(stream.timer); stream.controller?.abort(); streams.delete(key); }
    else stream.resubscribe();
  };
}

class AffinityCard extends HTMLElement {
  static observedAttributes = [...QUERY_ATTRIBUTES, 'endpoint', 'token', 'credentials', 'live'];
  #mountPoint;
  #card; // the card shown
  #unfollow; // stops following live changes
  #handle; // keeps the Leptos view alive for the element's life
  #generation = 0;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    const style = document.createElement('style');
    style.textContent = ':host { display: inline-block; vertical-align: top; } :host([hidden]) { display: none; }';
    this.#mountPoint = document.createElement('div');
    this.#mountPoint.setAttribute('part', 'card');
    root.append(style, this.#mountPoint);
  }

  connectedCallback() {
    this.#update();
  }

  disconnectedCallback() {
    this.#unfollow?.();
    this.#unfollow = undefined;
  }

  /** The key of the card shown (`domain:acme.test`), as the gateway names it. */
  cardKey() {
    const card = this.#card;
    return card ? `${card.query.kind}:${card.query.value}` : null;
  }

  /** A change from the gateway: fetch this card again if the change names it. */
  changed(change) {
    const key = this.cardKey();
    if (key && change.cards?.includes(key)) this.#update(true);
  }

  attributeChangedCallback(_name, oldValue, newValue) {
    if (this.isConnected && oldValue !== newValue) this.#update();
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  async #update(fresh = false) {
    const generation = ++this.#generation;
    await wasm();
    if (generation !== this.#generation) return;
    this.#handle ??= mountCard(this.#mountPoint);
    const attribute = QUERY_ATTRIBUTES.find((a) => this.getAttribute(a)?.trim());
    if (!attribute) {
      this.#handle.setError('Give the card a domain, email, linkedin, organization-id or person-id.');
      return;
    }
    if (!fresh) this.#handle.setLoading();
    const endpoint = (this.getAttribute('endpoint') || '/affinity').replace(/\/+$/, '');
    const url = new URL(`${endpoint}/card`, document.baseURI);
    url.searchParams.set(attribute.replace('-', '_'), this.getAttribute(attribute).trim());
    try {
      const token = this.getAttribute('token') || null;
      const credentials = this.getAttribute('credentials') === 'include' ? 'include' : token ? 'omit' : 'same-origin';
      const { card, asOf: fetchedFrom } = await fetchCard(url.href, token, credentials, fresh);
      if (generation !== this.#generation) return;
      this.#card = card;
      this.#handle.setCard(card);
      this.#unfollow?.();
      this.#unfollow = ['off', 'false'].includes(this.getAttribute('live')) ? undefined : follow(this, endpoint, token, credentials, fetchedFrom);
      this.#emit(card.status === 'error' ? 'affinity-card-error' : 'affinity-card-load', card);
    } catch (e) {
      // A refresh that fails keeps the card shown; a later change or reload tries again.
      if (generation !== this.#generation || fresh) return;
      const message = `The card could not be loaded: ${e.message}`;
      this.#handle.setError(message);
      this.#emit('affinity-card-error', { error: { kind: 'unavailable', message } });
    }
  }
}

// Defined once, even if the script is included twice.
if (!customElements.get('affinity-card')) customElements.define('affinity-card', AffinityCard);
