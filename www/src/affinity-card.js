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
// firm's sign-in proxy; by default cookies go only to a gateway on this page's origin). Events: affinity-card-load and affinity-card-error,
// with the Card as detail. Theming: --affinity-card-* custom properties and ::part(card).
import init, { mountCard } from './wasm/lens_pages.js';

const QUERY_ATTRIBUTES = ['domain', 'email', 'linkedin', 'organization-id', 'person-id'];
const TIME_LIMIT_MS = 20000;
const REMEMBER_MS = 60000;

// One wasm instance for every card on the page, started on first use.
let ready;
const wasm = () => (ready ??= init({ module_or_path: new URL('./wasm/lens_pages_bg.wasm', import.meta.url) }));

// One request per distinct query, shared by every card that asks for it.
const requests = new Map();
function fetchCard(url, token, credentials) {
  const key = `${url} ${token ?? ''} ${credentials}`;
  if (!requests.has(key)) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), TIME_LIMIT_MS);
    const request = fetch(url, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      credentials,
      signal: controller.signal,
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
  return requests.get(key);
}

class AffinityCard extends HTMLElement {
  static observedAttributes = [...QUERY_ATTRIBUTES, 'endpoint', 'token', 'credentials'];
  #mountPoint;
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

  attributeChangedCallback(_name, oldValue, newValue) {
    if (this.isConnected && oldValue !== newValue) this.#update();
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  async #update() {
    const generation = ++this.#generation;
    await wasm();
    if (generation !== this.#generation) return;
    this.#handle ??= mountCard(this.#mountPoint);
    const attribute = QUERY_ATTRIBUTES.find((a) => this.getAttribute(a)?.trim());
    if (!attribute) {
      this.#handle.setError('Give the card a domain, email, linkedin, organization-id or person-id.');
      return;
    }
    this.#handle.setLoading();
    const endpoint = (this.getAttribute('endpoint') || '/affinity').replace(/\/+$/, '');
    const url = new URL(`${endpoint}/card`, document.baseURI);
    url.searchParams.set(attribute.replace('-', '_'), this.getAttribute(attribute).trim());
    try {
      const token = this.getAttribute('token') || null;
      const credentials = this.getAttribute('credentials') === 'include' ? 'include' : token ? 'omit' : 'same-origin';
      const card = await fetchCard(url.href, token, credentials);
      if (generation !== this.#generation) return;
      this.#handle.setCard(card);
      this.#emit(card.status === 'error' ? 'affinity-card-error' : 'affinity-card-load', card);
    } catch (e) {
      if (generation !== this.#generation) return;
      const message = `The card could not be loaded: ${e.message}`;
      this.#handle.setError(message);
      this.#emit('affinity-card-error', { error: { kind: 'unavailable', message } });
    }
  }
}

// Defined once, even if the script is included twice.
if (!customElements.get('affinity-card')) customElements.define('affinity-card', AffinityCard);
