// The extension in headless Firefox (ESR), driven through geckodriver's WebDriver API:
// Playwright cannot drive stock Firefox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { firefoxDist, startSandbox, startSite, startGateway, GATEWAY_TOKEN } from './harness.mjs';
import { waitFor, webdriver } from './webdriver.mjs';

const ADDON_ID = 'affinity-lens@affinity-lens.dev';
const ADDON_UUID = '6f1d3c2e-8a4b-4c1d-9e2f-3a5b7c9d1e0f';

let sandbox, site, driver;
/** The driver's base URL and session, once `before` has them. */
const at = { base: '', session: null };
const { wd, s, find, openExtensionPage, textOf, clickPill, startFirefox, saveKey } = webdriver(at, ADDON_UUID);

/** Enter, pressed by the user: WebDriver's key actions go to the focused element. */
async function pressEnter() {
  await wd('POST', s('/actions'), {
    actions: [{ type: 'key', id: 'keyboard', actions: [{ type: 'keyDown', value: '\uE007' }, { type: 'keyUp', value: '\uE007' }] }],
  });
  await wd('DELETE', s('/actions'));
}
/** Switches to the overlay frame (the page's first frame, in a closed shadow root). */
async function toOverlay() {
  await wd('POST', s('/frame'), { id: null });
  await wd('POST', s('/frame'), { id: 0 });
}
/**
 * Clicks the page, as a user fooled by it would, where `css` (in the overlay frame) is:
 * the element's centre in the frame plus the frame's place in the page (from where each
 * window's content sits on the screen).
 */
async function clickWhere(css) {
  await toOverlay();
  const inFrame = await wd('POST', s('/execute/sync'), {
    script: `const r = document.querySelector(arguments[0]).getBoundingClientRect();
      return { x: r.left + r.width / 2, y: r.top + r.height / 2, sx: window.mozInnerScreenX, sy: window.mozInnerScreenY };`,
    args: [css],
  });
  await wd('POST', s('/frame'), { id: null });
  const page = await wd('POST', s('/execute/sync'), { script: 'return { sx: window.mozInnerScreenX, sy: window.mozInnerScreenY };', args: [] });
  const x = Math.round(inFrame.x + inFrame.sx - page.sx);
  const y = Math.round(inFrame.y + inFrame.sy - page.sy);
  await wd('POST', s('/actions'), {
    actions: [{
      type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' },
      actions: [
        { type: 'pointerMove', duration: 0, x, y, origin: 'viewport' },
        { type: 'pointerDown', button: 0 }, { type: 'pointerUp', button: 0 },
      ],
    }],
  });
  await wd('DELETE', s('/actions'));
}

before(async () => {
  sandbox = await startSandbox();
  site = await startSite();
  driver = await startFirefox({ hosts: ['acme.test', 'faded-co.test'], extension: firefoxDist, addonId: ADDON_ID });
});

after(async () => {
  if (at.session) await wd('DELETE', s('')).catch(() => {});
  driver?.kill('SIGTERM');
  await site?.stop();
  sandbox?.stop();
});

test('Firefox: the options page saves the key and a company site shows the overlay', async () => {
  await saveKey(sandbox);
  let status = '';
  await waitFor('Saved.', async () => (status = await textOf('[data-testid="options-status"]')) === 'Saved.')
    .catch((e) => { throw new Error(`${e.message}; the options page said ${JSON.stringify(status)}`); });

  await wd('POST', s('/url'), { url: `http://acme.test:${site.port}/` });
  // The overlay is the page's first frame (inside a closed shadow root, so found by index).
  // It starts as the pill, which says the match state once the lookup is done.
  // Clicked, as a user would, it opens the card in the same frame.
  await clickPill('In Affinity', toOverlay);
  await waitFor('the overlay card', async () => find('[data-testid="lens-card"]'));
  const name = await waitFor('the organization name', async () => {
    const text = await textOf('[data-testid="lens-entity-name"]');
    return text === 'Acme Corporation' ? text : null;
  });
  assert.equal(name, 'Acme Corporation');
  // WebDriver returns rendered text: the status is shown in capitals.
  assert.equal((await textOf('[data-testid="lens-status"]')).toLowerCase(), 'in affinity');
  await wd('POST', s('/frame'), { id: null });
});

test('Firefox: the toolbar popup shows the card of the company site in a tab', async () => {
  // The built Firefox extension declares the popup as its toolbar button's.
  const manifest = JSON.parse(readFileSync(join(firefoxDist, 'manifest.json'), 'utf8'));
  assert.equal(manifest.action?.default_popup, 'popup.html');

  // WebDriver cannot click the toolbar button: the popup is opened as a page in a tab of its
  // own, with `?tab=` naming the site's tab. The site is (re)loaded in the first tab (the
  // key was saved by the test above).
  const siteTab = await wd('GET', s('/window'));
  await wd('POST', s('/url'), { url: `http://acme.test:${site.port}/` });
  // Once the overlay is there, the content script has reported the page to the background.
  await waitFor('the overlay on the site', async () => {
    await wd('POST', s('/frame'), { id: null });
    await wd('POST', s('/frame'), { id: 0 });
    return find('[data-testid="lens-pill"]');
  });
  await wd('POST', s('/frame'), { id: null });

  const { handle: popupTab } = await wd('POST', s('/window/new'), { type: 'tab' });
  await wd('POST', s('/window'), { handle: popupTab });
  try {
    await openExtensionPage('popup.html');
    // Without `?tab=` the popup is about its own tab (an extension page: nothing to look
    // up). From the extension page, the WebExtension API names the site's tab.
    await waitFor('the popup page', async () => (await wd('POST', s('/execute/sync'), {
      script: 'return location.protocol === "moz-extension:" && document.readyState === "complete";',
      args: [],
    })));
    const tabId = await wd('POST', s('/execute/async'), {
      script: `const done = arguments[arguments.length - 1];
        const api = (window.wrappedJSObject ?? window).browser;
        api.tabs.query({ url: arguments[0] }).then(
          (tabs) => done(tabs.length === 1 ? tabs[0].id : { found: tabs.length }),
          (e) => done({ error: String(e) }));`,
      args: [`*://acme.test/*`],
    });
    assert.ok(Number.isSafeInteger(tabId), `the site's tab id: ${JSON.stringify(tabId)}`);
    await openExtensionPage(`popup.html?tab=${tabId}`);

    const name = await waitFor('the popup card', async () => {
      const url = await wd('GET', s('/url'));
      if (!url.endsWith(`popup.html?tab=${tabId}`)) return null;
      const text = await textOf('[data-testid="lens-entity-name"]');
      return text === 'Acme Corporation' ? text : null;
    });
    assert.equal(name, 'Acme Corporation');
    assert.equal((await textOf('[data-testid="lens-status"]')).toLowerCase(), 'in affinity');
    // The popup shows the card itself, not the pill.
    const pills = await wd('POST', s('/elements'), { using: 'css selector', value: '[data-testid="lens-pill"]' });
    assert.equal(pills.length, 0);
  } finally {
    await wd('DELETE', s('/window')).catch(() => {});
    await wd('POST', s('/window'), { handle: siteTab }).catch(() => {});
  }
});

test('Firefox: a write from the overlay asks for a confirmation inside the card first, given with a key', async () => {
  // Firefox cannot tell the frame whether the page covers or fades it: each write asks, and
  // the answer is a key press (which a page cannot send into the frame).
  const affinity = async (path) => (await fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${sandbox.key}` } })).json();
  const acme = (await affinity('/organizations?term=acme.test')).organizations[0];
  const NOTE = 'Confirmed from Firefox.';
  await wd('POST', s('/url'), { url: `http://acme.test:${site.port}/` });
  await clickPill('In Affinity', toOverlay);
  const summary = await waitFor('the note form', async () => find('[data-testid="lens-add-note"] summary'));
  await wd('POST', s(`/element/${summary}/click`), {});
  await wd('POST', s(`/element/${await find('[data-testid="lens-add-note"] textarea')}/value`), { text: NOTE });
  await wd('POST', s(`/element/${await find('[data-testid="lens-add-note"] button[type="submit"]')}/click`), {});
  const question = await waitFor('the confirmation', async () => textOf('[data-testid="lens-confirm"]'));
  assert.match(question, /Save this note in Affinity\?/);
  const notes = async () => (await affinity(`/notes?organization_id=${acme.id}`)).notes.filter((n) => n.content === NOTE).length;
  assert.equal(await notes(), 0, 'nothing is written before the confirmation');
  // A click on Confirm is not enough; Enter on it (it has the focus) is.
  await wd('POST', s(`/element/${await find('[data-testid="lens-confirm-yes"]')}/click`), {});
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(await notes(), 0, 'a click does not confirm');
  await pressEnter();
  await waitFor('the note added', async () => (await textOf('[data-testid="lens-notice"]')) === 'Note added.');
  assert.equal(await notes(), 1);
  await wd('POST', s('/frame'), { id: null });
});

test("Firefox: a list entry's field is edited in place, confirmed with a key, and written once", async () => {
  const affinity = async (path) => (await fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${sandbox.key}` } })).json();
  const acme = (await affinity('/organizations?term=acme.test')).organizations.find((o) => o.domains.includes('acme.test'));
  const pipeline = (await affinity('/lists')).find((l) => l.name === 'Deal Pipeline');
  const entry = (await affinity(`/organizations/${acme.id}`)).list_entries.find((e) => e.list_id === pipeline.id);
  const field = (await affinity(`/fields?list_id=${pipeline.id}`)).find((f) => f.name === 'Next Step');
  const values = async () => (await affinity(`/field-values?list_entry_id=${entry.id}`)).filter((v) => v.field_id === field.id).map((v) => v.value);
  const NEXT = 'Reference calls from Firefox';
  await wd('POST', s('/url'), { url: `http://acme.test:${site.port}/` });
  await clickPill('In Affinity', toOverlay);
  const row = '[data-testid="lens-field"][data-field="Next Step"]';
  const edit = await waitFor('the field', async () => find(`${row} [data-testid="lens-field-edit"]`));
  await wd('POST', s(`/element/${edit}/click`), {});
  const input = await waitFor('its input', async () => find(`${row} [data-testid="lens-field-input"]`));
  await wd('POST', s(`/element/${input}/clear`), {});
  await wd('POST', s(`/element/${input}/value`), { text: NEXT });
  await wd('POST', s(`/element/${await find(`${row} [data-testid="lens-field-save"]`)}/click`), {});
  const question = await waitFor('the confirmation', async () => textOf('[data-testid="lens-confirm"]'));
  assert.match(question, /Change this field to "Reference calls from Firefox"\?/);
  assert.deepEqual(await values(), ['Partner meeting with the CEO'], 'nothing is written before the confirmation');
  await wd('POST', s(`/element/${await find('[data-testid="lens-confirm-yes"]')}/click`), {});
  await pressEnter();
  await waitFor('the field set', async () => (await textOf('[data-testid="lens-notice"]')).startsWith('Next Step set to'));
  await waitFor('the new value in the card', async () => (await textOf(`${row} [data-testid="lens-field-value"]`)) === NEXT);
  assert.deepEqual(await values(), [NEXT]);
  await wd('POST', s('/frame'), { id: null });
});

test('Firefox: clicks on a faded overlay (the pill, the form, its button, Confirm) change nothing in Affinity', async () => {
  // The page fades the overlay's host (which it owns) and has the user click where the
  // card's controls are: Firefox cannot tell the frame, and the confirmation needs a key.
  const affinity = async (path) => (await fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${sandbox.key}` } })).json();
  // What the sandbox answered that changes its world (a search is a POST that only reads).
  const writes = async () => (await affinity('/_sandbox/requests')).requests
    .filter((r) => !r.startsWith('GET ') && !r.includes('/search'));
  const before = await writes();
  await wd('POST', s('/url'), { url: `http://faded-co.test:${site.port}/` });
  await waitFor('the overlay pill', async () => {
    await toOverlay();
    return (await textOf('[data-testid="lens-pill"]')).includes('Not in Affinity');
  });
  await wd('POST', s('/frame'), { id: null });
  await wd('POST', s('/execute/sync'), {
    script: `const style = document.createElement('style');
      style.textContent = 'affinity-lens-overlay { opacity: 0.01 !important; }';
      document.head.append(style);`,
    args: [],
  });
  await clickWhere('[data-testid="lens-pill"]');
  await waitFor('the card', async () => { await toOverlay(); return find('[data-testid="lens-create"] summary'); });
  await clickWhere('[data-testid="lens-create"] summary');
  await waitFor('the open form', async () => {
    await toOverlay();
    return wd('GET', s(`/element/${await find('[data-testid="lens-create"] button[type="submit"]')}/displayed`));
  });
  await clickWhere('[data-testid="lens-create"] button[type="submit"]');
  // The clicks reached the card: it asks for the confirmation.
  await waitFor('the confirmation', async () => { await toOverlay(); return textOf('[data-testid="lens-confirm"]'); });
  await clickWhere('[data-testid="lens-confirm-yes"]');
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await writes(), before, "the sandbox's world is unchanged");
  assert.equal((await affinity('/organizations?term=faded-co.test')).organizations.length, 0);
  await toOverlay();
  assert.equal((await wd('POST', s('/elements'), { using: 'css selector', value: '[data-testid="lens-notice"]' })).length, 0,
    'no write was even attempted');
  await wd('POST', s('/frame'), { id: null });
});

test("Firefox: team mode, its requests (Origin moz-extension://<this install's id>) are served by the gateway; a page's are not", async () => {
  // No admin can list a moz-extension origin in --allow-origin (its id differs in every
  // install): the gateway serves an extension origin that brings a caller's identity.
  const gateway = await startGateway(sandbox);
  const metric = async (name) => {
    const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } })).text();
    return Number(text.match(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm'))?.[1] ?? 0);
  };
  try {
    await openExtensionPage('options.html');
    const team = await waitFor('the options form', async () => {
      const el = await find('[data-testid="team-mode"]');
      return (await wd('GET', s(`/element/${el}/enabled`))) ? el : null;
    });
    if (!(await wd('GET', s(`/element/${team}/selected`)))) await wd('POST', s(`/element/${team}/click`), {});
    for (const [id, value] of [['gateway-url', gateway.url], ['gateway-token', GATEWAY_TOKEN]]) {
      const el = await waitFor(id, async () => find(`[data-testid="${id}"]`));
      await wd('POST', s(`/element/${el}/clear`), {});
      await wd('POST', s(`/element/${el}/value`), { text: value });
    }
    await wd('POST', s(`/element/${await find('[data-testid="save"]')}/click`), {});
    let status = '';
    await waitFor('Saved.', async () => (status = await textOf('[data-testid="options-status"]')) === 'Saved.')
      .catch((e) => { throw new Error(`${e.message}; the options page said ${JSON.stringify(status)}`); });

    const cards = await metric('lens_gateway_requests_total{outcome="card"}');
    await wd('POST', s('/url'), { url: `http://acme.test:${site.port}/` });
    await clickPill('In Affinity', toOverlay);
    const name = await waitFor('the card', async () => ((await textOf('[data-testid="lens-entity-name"]')) === 'Acme Corporation' ? true : null));
    assert.ok(name);
    await wd('POST', s('/frame'), { id: null });
    assert.ok(await metric('lens_gateway_requests_total{outcome="card"}') > cards, 'the card was not looked up by the gateway');
    assert.equal(await metric('lens_gateway_requests_total{outcome="wrong_origin"}'), 0);
    // Firefox ESR sends its background's GET with host permission without an Origin; a
    // request that does carry this install's origin (a POST would) is served too, with the
    // caller's identity only.
    console.log(`requests from Firefox with Origin moz-extension://…: ${await metric('lens_gateway_extension_requests_total')}`);
    const asExtension = (auth) => fetch(`${gateway.url}/affinity/card?domain=acme.test`, {
      headers: { origin: `moz-extension://${ADDON_UUID}`, ...(auth ? { authorization: `Bearer ${GATEWAY_TOKEN}` } : {}) },
    });
    assert.equal((await asExtension(true)).status, 200);
    assert.equal((await asExtension(false)).status, 401, 'an extension origin without an identity was served');

    // The page itself, even with the token, is refused: its origin is not the extension's.
    const fromPage = await wd('POST', s('/execute/async'), {
      script: `const done = arguments[arguments.length - 1];
        fetch(arguments[0], { headers: { authorization: 'Bearer ' + arguments[1] } })
          .then((r) => done({ status: r.status }), (e) => done({ error: String(e) }));`,
      args: [`${gateway.url}/affinity/card?domain=acme.test`, GATEWAY_TOKEN],
    });
    assert.ok(fromPage.error || fromPage.status === 403, `the page got ${JSON.stringify(fromPage)}`);
    assert.ok(await metric('lens_gateway_requests_total{outcome="wrong_origin"}') >= 1, 'the page was not refused for its origin');
  } finally {
    gateway.stop();
  }
});
