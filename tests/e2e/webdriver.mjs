// A few WebDriver (geckodriver) calls the Firefox end-to-end tests share. `at` holds the
// driver's base URL and the session id, set once the test's `before` has them.

export const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** Polls `fn` until it gives something truthy (its errors count as not yet). */
export async function waitFor(what, fn, timeout = 20000) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

/**
 * The calls, bound to `at` ({ base, session }) and the add-on's moz-extension UUID.
 * @param {{ base: string, session: string | null }} at
 * @param {string} addonUuid
 */
export function webdriver(at, addonUuid) {
  async function wd(method, path, body) {
    const res = await fetch(`${at.base}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${JSON.stringify(json.value)}`);
    return json.value;
  }
  const s = (path) => `/session/${at.session}${path}`;
  async function find(css) {
    const el = await wd('POST', s('/element'), { using: 'css selector', value: css });
    return el[ELEMENT];
  }
  /** Opens an extension page: WebDriver may not navigate to moz-extension:, the browser's own UI may. */
  async function openExtensionPage(path) {
    await wd('POST', s('/moz/context'), { context: 'chrome' });
    try {
      await wd('POST', s('/execute/sync'), {
        script: 'window.openTrustedLinkIn(arguments[0], "current");',
        args: [`moz-extension://${addonUuid}/${path}`],
      });
    } finally {
      await wd('POST', s('/moz/context'), { context: 'content' });
    }
  }
  async function textOf(css) {
    return wd('GET', s(`/element/${await find(css)}/text`));
  }
  return { wd, s, find, openExtensionPage, textOf };
}
