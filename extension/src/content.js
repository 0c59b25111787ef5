// Content script: plain JS, no wasm, never sees the key. It reports the page to the
// background and, when there is something to show, adds the overlay: an extension-origin
// iframe inside a closed shadow root, so neither the page's CSS nor its scripts reach it.
(() => {
  if (window.top !== window || window.__affinityLensInjected) return;
  window.__affinityLensInjected = true;
  const api = globalThis.browser ?? globalThis.chrome;

  function inject(token) {
    const host = document.createElement('affinity-lens-overlay');
    host.style.cssText = 'all: initial; position: fixed; z-index: 2147483647; right: 16px; bottom: 16px; display: block;';
    const root = host.attachShadow({ mode: 'closed' });
    const frame = document.createElement('iframe');
    frame.src = `${api.runtime.getURL('overlay.html')}#${token}`;
    frame.title = 'Affinity Lens';
    frame.setAttribute('allowtransparency', 'true');
    frame.style.cssText = 'border: 0; width: 340px; height: 96px; background: transparent; color-scheme: normal; display: block;';
    root.append(frame);
    (document.body ?? document.documentElement).append(host);
    api.runtime.onMessage.addListener((msg, sender) => {
      if (sender.id !== api.runtime.id || msg?.type !== 'lens:size' || msg.token !== token) return;
      const height = Math.max(40, Math.min(Number(msg.height) || 0, window.innerHeight - 32));
      frame.style.height = `${height}px`;
    });
  }

  api.runtime
    .sendMessage({ type: 'lens:page', url: location.href, title: document.title })
    .then((reply) => {
      if (reply && reply.show && typeof reply.token === 'string') inject(reply.token);
    })
    .catch(() => {
      /* the extension was reloaded or is not ready: never break the page */
    });
})();
