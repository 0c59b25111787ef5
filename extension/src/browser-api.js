// The one browser-API shim of every script: Firefox's `browser` (promises), else Chrome's
// `chrome` (promises too, in Manifest V3). A plain script with no import or export, so that
// the content scripts load it first (manifest) and the modules import it for its effect.
/** @type {typeof chrome} */
globalThis.lensApi = globalThis.lensApi ?? /** @type {any} */ (globalThis).browser ?? globalThis.chrome;
