// A few WebDriver (geckodriver) calls the Firefox end-to-end tests share. `at` holds the
// driver's base URL and the session id, set once the test's `before` has them.

export const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const SHADOW = 'shadow-6066-11e4-a52e-4f735466cecf';

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
  /**
   * Clicks the overlay's pill once it says `says` (a part of its text, or a pattern), in the
   * frame `enterFrame` switches to. The pill drawn before the card's module has started is
   * then replaced by the module's own: a click that finds its element gone (stale) is tried
   * again.
   * @param {string | RegExp} says
   * @param {() => Promise<void>} enterFrame
   */
  async function clickPill(says, enterFrame) {
    let said = '';
    await waitFor(`the overlay pill saying ${says}`, async () => {
      await enterFrame();
      const el = await find('[data-testid="lens-pill"]');
      said = await wd('GET', s(`/element/${el}/text`));
      if (typeof says === 'string' ? !said.includes(says) : !says.test(said)) return null;
      await wd('POST', s(`/element/${el}/click`), {});
      return true;
    }).catch((e) => { throw new Error(`${e.message}; the pill said ${JSON.stringify(said)}`); });
  }
  /**
   * Starts geckodriver and a headless Firefox ESR session (`hosts` resolve to this machine;
   * `acceptInsecureCerts` for a site with a certificate made at test time), with the
   * extension at `extension` installed as add-on `addonId`. Returns geckodriver's process.
   */
  async function startFirefox({ hosts, extension, addonId, acceptInsecureCerts = false }) {
    const { spawn } = await import('node:child_process');
    const { createServer } = await import('node:net');
    const port = await new Promise((resolve) => {
      const probe = createServer();
      probe.listen(0, '127.0.0.1', () => { const p = probe.address().port; probe.close(() => resolve(p)); });
    });
    const driver = spawn('geckodriver', ['--port', String(port), '--host', '127.0.0.1', '--allow-system-access'], { stdio: 'ignore' });
    at.base = `http://127.0.0.1:${port}`;
    await waitFor('geckodriver', async () => (await fetch(`${at.base}/status`)).ok, 10000);
    const created = await wd('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'firefox',
          ...(acceptInsecureCerts ? { acceptInsecureCerts: true } : {}),
          'moz:firefoxOptions': {
            binary: '/usr/bin/firefox-esr',
            args: ['-headless'],
            prefs: {
              'network.dns.localDomains': hosts.join(','),
              'extensions.webextensions.uuids': JSON.stringify({ [addonId]: addonUuid }),
              'browser.shell.checkDefaultBrowser': false,
              'datareporting.policy.dataSubmissionEnabled': false,
            },
          },
        },
      },
    });
    at.session = created.sessionId;
    await wd('POST', s('/moz/addon/install'), { path: extension, temporary: true });
    return driver;
  }
  /** Saves the sandbox's key and URL in the options page (the index sync starts). */
  async function saveKey(sandbox) {
    await openExtensionPage('options.html');
    const key = await waitFor('the options form', async () => {
      const el = await find('[data-testid="api-key"]');
      return (await wd('GET', s(`/element/${el}/enabled`))) ? el : null;
    });
    await wd('POST', s(`/element/${key}/value`), { text: sandbox.key });
    const baseUrl = await find('[data-testid="base-url"]');
    await wd('POST', s(`/element/${baseUrl}/clear`), {});
    await wd('POST', s(`/element/${baseUrl}/value`), { text: sandbox.url });
    await wd('POST', s(`/element/${await find('[data-testid="save"]')}/click`), {});
  }
  /**
   * The link badges drawn on the page, read through the badges' closed shadow root (WebDriver's
   * Get Element Shadow Root, which a page cannot do): their element ids and `data-domain`.
   * `css` narrows them (`[data-shown]`: those placed beside a link in view).
   */
  async function badges(css = '') {
    const host = await find('affinity-lens-badges');
    const shadow = (await wd('GET', s(`/element/${host}/shadow`)))[SHADOW];
    const found = await wd('POST', s(`/shadow/${shadow}/elements`), { using: 'css selector', value: `[data-testid="lens-link-badge"]${css}` });
    const out = [];
    for (const el of found) out.push({ el: el[ELEMENT], domain: await wd('GET', s(`/element/${el[ELEMENT]}/attribute/data-domain`)) });
    return out;
  }
  return { wd, s, find, openExtensionPage, textOf, clickPill, startFirefox, saveKey, badges };
}
