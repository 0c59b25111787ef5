// The pages' one way to the background (the overlay, the popup): a request of the protocol
// (LensRequest), its one reply shape (LensReply). Kept apart from card-page.js so that the
// overlay asks for its first answer before the card's module has loaded.
import './browser-api.js';

const api = globalThis.lensApi;

/** @typedef {import('./wasm/lens_pages.js').LensRequest} LensRequest */
/** @typedef {import('./wasm/lens_pages.js').LensReply} LensReply */

/**
 * Asks the background; a background that does not answer is a failed reply too.
 * @param {LensRequest} message
 * @returns {Promise<LensReply>}
 */
export async function ask(message) {
  try {
    const reply = await api.runtime.sendMessage(message);
    return reply ?? { ok: false, error: { kind: 'internal', message: 'The Lens background did not answer.' } };
  } catch (e) {
    return { ok: false, error: { kind: 'internal', message: `The Lens background is not answering: ${e}` } };
  }
}

