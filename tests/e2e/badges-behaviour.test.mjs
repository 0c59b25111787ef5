// Badges on company links (issue #21), what a user notices, in Chromium: hovering or
// focusing a badged link shows its list Status, leaving hides it; the keyboard shortcut
// over a badged link opens THAT company's card (not the page's own); links a page adds
// later (infinite scroll, a single-page app replacing a list) are badged within about a
// second, exactly the known ones, at no Affinity call; the options' switches (badges off,
// no badges on a site) and paused and never-look-up sites.
// Badges and their tip live in a closed shadow root: the test reads them through the
// DevTools protocol (DOM.getDocument with pierce), which no page can use. The shortcut is
// a browser-level command headless Chromium cannot press: the test runs the command's
// handler (as extension.test.mjs does) with the link hovered or focused by real input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { settledUsage } from './harness.mjs';
import { createServer } from 'node:http';
import {
  startSandbox, launchChromiumWithExtension, configureChromiumExtension, monthlyUsed, isOverlayUrl,
} from './harness.mjs';

/** Companies this test puts in the firm's Affinity (besides the sandbox's own, Acme and Globex). */
const PLACED = Array.from({ length: 40 }, (_, i) => `placed-${i + 1}.test`);
const NEWS = 'news.test'; // a site the firm does not know
const QUIET = 'quiet-news.test'; // "no badges on this site"
const PAUSED = 'paused-news.test';
const NEVER = 'never-news.test';
const HOSTS = [NEWS, QUIET, PAUSED, NEVER, 'globex.test', 'www.acme.test', 'acme.test'];

let sandbox;
let server;
let port;
let browser;

/** The same article on every host: a known company's link first, then an unknown one's. */
const PAGE = `<!doctype html><html><head><title>News</title></head>
<body style="font: 16px/24px serif; margin: 40px">
  <p>Today <a id="known" href="http://www.acme.test/about">Acme</a> raised money;
    <a id="unknown" href="http://nobody-knows-this.test/">this one</a> did not;
    <a id="placed" href="https://placed-1.test/">another</a> is hiring.</p>
  <ul id="feed"></ul>
  <p><a id="last" href="http://nobody-either.test/">the end</a></p>
  <script>
    // Infinite scroll: more items at the end of the feed.
    window.appendLinks = (hrefs) => {
      const feed = document.getElementById('feed');
      for (const href of hrefs) {
        const li = document.createElement('li');
        const a = document.createElement('a');
        a.href = href;
        a.textContent = 'Story about ' + new URL(href).hostname;
        li.append(a);
        feed.append(li);
      }
    };
    // A single-page app's next view: the list replaced, the URL changed without a load.
    window.replaceList = (hrefs, path) => {
      const feed = document.getElementById('feed');
      feed.replaceChildren();
      window.appendLinks(hrefs);
      history.pushState({}, '', path);
    };
  </script>
</body></html>`;

before(async () => {
  sandbox = await startSandbox();
  for (const [i, domain] of PLACED.entries()) {
    const res = await fetch(`${sandbox.url}/organizations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Placed Company ${i + 1}`, domain }),
    });
    assert.ok(res.ok, await res.text());
  }
  server = createServer((req, res) => {
    if (req.url === '/favicon.ico') { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(PAGE);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
  browser = await launchChromiumWithExtension(HOSTS);
  await configureChromiumExtension(browser.context, browser.extensionId, sandbox);
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.getByTestId('index-status').filter({ hasText: /^Index: [1-9][\d,]* companies/ }).waitFor({ timeout: 60000 });
  await options.close();
});
after(async () => {
  await browser?.context.close();
  await new Promise((r) => server?.close(r));
  sandbox?.stop();
});

const url = (host, path = '/article') => `http://${host}:${port}${path}`;

const settled = () => settledUsage(sandbox);

/**
 * What the closed shadow root holds (by the DevTools protocol): every badge (its domain,
 * whether drawn, its box) and the tip (shown, its text, its box).
 */
async function lensView(page) {
  // A badge removed between the walk and the read of its box (the content script redraws
  // while we look) is "Could not find node": look again.
  for (let attempt = 1; ; attempt++) {
    try {
      return await lensViewOnce(page);
    } catch (e) {
      if (attempt >= 10 || !/Could not find node/.test(String(e?.message))) throw e;
      await page.waitForTimeout(50);
    }
  }
}

async function lensViewOnce(page) {
  const cdp = await browser.context.newCDPSession(page);
  try {
    const { root: doc } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const badges = [];
    let tip = null;
    let host = false;
    const walk = (node) => {
      const attrs = {};
      for (let i = 0; i + 1 < (node.attributes ?? []).length; i += 2) attrs[node.attributes[i]] = node.attributes[i + 1];
      if (node.nodeName === 'AFFINITY-LENS-BADGES') host = true;
      if (attrs['data-testid'] === 'lens-link-badge') badges.push({ nodeId: node.nodeId, domain: attrs['data-domain'], shown: 'data-shown' in attrs });
      if (attrs['data-testid'] === 'lens-link-tip') {
        tip = { nodeId: node.nodeId, shown: 'data-shown' in attrs, text: (node.children ?? []).map((c) => c.nodeValue ?? '').join('') };
      }
      for (const c of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) walk(c);
    };
    walk(doc);
    const box = async (nodeId) => {
      const { model } = await cdp.send('DOM.getBoxModel', { nodeId });
      return { x: model.content[0], y: model.content[1], w: model.width, h: model.height };
    };
    for (const b of badges.filter((f) => f.shown)) b.box = await box(b.nodeId);
    if (tip?.shown) tip.box = await box(tip.nodeId);
    return { host, badges, tip };
  } finally {
    await cdp.detach();
  }
}

/** Polls `lensView` until `ok(view)` (or the timeout: then the last view). */
async function waitView(page, ok, timeout = 10000, every = 50) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const view = await lensView(page);
    if (ok(view) || Date.now() > deadline) return view;
    await page.waitForTimeout(every);
  }
}

const domains = (view) => view.badges.map((b) => b.domain).sort();
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/** The page's link boxes, as the page lays them out. */
const boxOf = (page, id) => page.evaluate((id) => {
  const r = document.getElementById(id).getBoundingClientRect();
  return { x: r.x, y: r.y, w: r.width, h: r.height };
}, id);

/** Tab until the page's element `id` has the focus. */
async function tabTo(page, id) {
  for (let i = 0; i < 10; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((id) => document.activeElement?.id === id, id)) return;
  }
  throw new Error(`Tab never reached #${id}`);
}

test('hovering a badged link shows its list Status; Tab focus shows it too; leaving hides it', async () => {
  const page = await browser.context.newPage();
  await page.goto(url(NEWS));
  const view = await waitView(page, (v) => v.badges.filter((b) => b.shown).length === 2);
  assert.deepEqual(domains(view), ['acme.test', 'placed-1.test']);
  assert.equal(view.tip?.shown, false, 'no tip before a hover');

  await page.hover('#known');
  const hovered = await waitView(page, (v) => v.tip?.shown, 3000);
  console.log(`hovering the Acme link: "${hovered.tip.text}"`);
  assert.equal(hovered.tip.shown, true, 'the tip shows on hover');
  assert.match(hovered.tip.text, /^In Affinity: Acme Corporation · [^·:]+: [^·]+ · Alt\+Shift\+L opens the card$/, 'its list and Status');
  const link = await boxOf(page, 'known');
  assert.ok(hovered.tip.box.x >= link.x + link.w && hovered.tip.box.x < link.x + link.w + 40, `the tip is beside the link: ${JSON.stringify([link, hovered.tip.box])}`);
  assert.ok(Math.abs(hovered.tip.box.y + hovered.tip.box.h / 2 - (link.y + link.h / 2)) < 20, 'on its line');

  // Leaving the link hides the tip; an unbadged link has none.
  await page.mouse.move(600, 700);
  assert.equal((await waitView(page, (v) => !v.tip.shown, 3000)).tip.shown, false, 'leaving hides it');
  await page.hover('#unknown');
  await page.waitForTimeout(300);
  assert.equal((await lensView(page)).tip.shown, false, 'no tip on an unknown company\'s link');

  // The other placed company's Status (on no list: just in Affinity).
  await page.hover('#placed');
  const other = await waitView(page, (v) => v.tip?.shown, 3000);
  assert.equal(other.tip.text, 'In Affinity: Placed Company 1 · in Affinity · Alt+Shift+L opens the card');
  await page.mouse.move(600, 700);
  await waitView(page, (v) => !v.tip.shown, 3000);

  // The keyboard: Tab to the link, then on to the next one.
  await tabTo(page, 'known');
  const focused = await waitView(page, (v) => v.tip?.shown, 3000);
  assert.equal(focused.tip.shown, true, 'the tip shows on focus');
  assert.equal(focused.tip.text, hovered.tip.text);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'unknown');
  assert.equal((await waitView(page, (v) => !v.tip.shown, 3000)).tip.shown, false, 'focus moving on hides it');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'placed');
  assert.match((await waitView(page, (v) => v.tip?.shown, 3000)).tip.text, /^In Affinity: Placed Company 1 /);
  await page.evaluate(() => document.activeElement.blur());
  assert.equal((await waitView(page, (v) => !v.tip.shown, 3000)).tip.shown, false, 'blur hides it');
  await page.close();
});

/** The overlay frames now on the page (not detached). */
const overlays = (page) => page.frames().filter((f) => !f.isDetached() && isOverlayUrl(f.url()));

/** Runs the keyboard shortcut's command; resolves with the card's entity name it opened. */
async function shortcut(page, previous = []) {
  await page.bringToFront();
  await browser.worker.evaluate(() => globalThis.lensCommand('toggle-card'));
  const deadline = Date.now() + 20000;
  while (Date.now() < deadline) {
    for (const frame of overlays(page).filter((f) => !previous.includes(f))) {
      const name = frame.getByTestId('lens-entity-name');
      if (await name.isVisible().catch(() => false)) return { frame, name: (await name.textContent()).trim() };
    }
    await page.waitForTimeout(100);
  }
  throw new Error('the shortcut opened no card');
}

test('the shortcut over a hovered badged link opens that company\'s card, not the page\'s own', async () => {
  const page = await browser.context.newPage();
  await page.goto(url('globex.test'));
  await waitView(page, (v) => v.badges.filter((b) => b.shown).length === 2);
  // The page's own company: its pill; with nothing hovered, the shortcut opens its card.
  await page.mouse.move(600, 700);
  const own = await shortcut(page);
  assert.equal(own.name, 'Globex', 'nothing hovered: the page\'s own card');
  // Hovering the Acme link (a badged one): the shortcut opens Acme's card.
  await page.hover('#known');
  assert.match((await waitView(page, (v) => v.tip?.shown, 3000)).tip.text, /^In Affinity: Acme Corporation /);
  const link = await shortcut(page, [own.frame]);
  console.log(`shortcut over the Acme link on globex.test: the card of ${link.name}`);
  assert.equal(link.name, 'Acme Corporation');
  assert.equal(overlays(page).length, 1, 'one overlay on the page');
  // Over an unbadged link, the shortcut is the page's again: it folds the open card.
  await page.hover('#unknown');
  await browser.worker.evaluate(() => globalThis.lensCommand('toggle-card'));
  await link.frame.getByTestId('lens-pill').waitFor({ timeout: 10000 });
  await page.close();
});

test('the shortcut over a Tab-focused badged link opens that company\'s card', async () => {
  const page = await browser.context.newPage();
  await page.goto(url('globex.test'));
  await waitView(page, (v) => v.badges.filter((b) => b.shown).length === 2);
  await page.mouse.move(600, 700);
  await tabTo(page, 'placed');
  assert.match((await waitView(page, (v) => v.tip?.shown, 3000)).tip.text, /^In Affinity: Placed Company 1 /);
  const { name } = await shortcut(page);
  assert.equal(name, 'Placed Company 1');
  await page.close();
});

test('links added later are badged within a second, exactly the known ones, at no Affinity call', async () => {
  const page = await browser.context.newPage();
  await page.goto(url(NEWS));
  const first = await waitView(page, (v) => v.badges.filter((b) => b.shown).length === 2);
  assert.deepEqual(domains(first), ['acme.test', 'placed-1.test']);
  const start = await settled();

  // Infinite scroll: 50 links, every other one to a company the firm knows (some twice, one
  // as a subdomain), the others to sites nobody knows.
  const batch = [];
  for (let i = 0; i < 25; i++) {
    const known = PLACED[(i % 20) + 2];
    batch.push(i === 7 ? `https://jobs.${known}/open` : `https://${known}/news/${i}`);
    batch.push(`https://unknown-${i}.test/story/${i}`);
  }
  const expected = [...first.badges.map((b) => b.domain),
    ...batch.map((h) => new URL(h).hostname.replace(/^jobs\./, '')).filter((h) => PLACED.includes(h))].sort();
  assert.equal(expected.length, 27);
  let t0 = Date.now();
  await page.evaluate((hrefs) => window.appendLinks(hrefs), batch);
  let view = await waitView(page, (v) => v.badges.length >= expected.length, 5000);
  const appendMs = Date.now() - t0;
  assert.deepEqual(domains(view), expected, 'exactly the known companies\' links');
  await page.waitForTimeout(700);
  assert.deepEqual(domains(await lensView(page)), expected, 'and no more after a while');

  // A single-page app's next view: the feed replaced by 20 other links (10 known).
  const next = [];
  for (let i = 0; i < 10; i++) next.push(`https://${PLACED[30 + i]}/`, `https://other-${i}.test/`);
  const replaced = [...first.badges.map((b) => b.domain), ...PLACED.slice(30, 40)].sort();
  t0 = Date.now();
  await page.evaluate((hrefs) => window.replaceList(hrefs, '/next-view'), next);
  // (the new view's 20 links fit in the window: each of their badges is drawn)
  view = await waitView(page, (v) => same(domains(v), replaced) && v.badges.every((b) => b.shown), 5000);
  const replaceMs = Date.now() - t0;
  assert.deepEqual(domains(view), replaced, 'the old view\'s badges gone, the new view\'s there');
  // Each badge beside its own link.
  const boxes = await page.evaluate(() => [...document.querySelectorAll('#feed a')].map((a) => {
    const r = a.getClientRects()[0];
    return { host: a.hostname, right: r.right, mid: r.top + r.height / 2 };
  }));
  for (const b of view.badges.filter((x) => PLACED.slice(30).includes(x.domain))) {
    const link = boxes.find((l) => l.host === b.domain);
    assert.ok(Math.abs(b.box.x - link.right) < 8 && Math.abs(b.box.y + b.box.h / 2 - link.mid) < 8, `${b.domain}'s badge is by its link`);
  }
  const spent = (await settled()) - start;
  console.log(`50 links appended: badged in ${appendMs} ms; list replaced: in ${replaceMs} ms; ${spent} Affinity calls`);
  assert.ok(appendMs <= 1200, `appended links badged in ${appendMs} ms`);
  assert.ok(replaceMs <= 1200, `replaced list badged in ${replaceMs} ms`);
  assert.equal(spent, 0, 'no Affinity call');
  await page.close();
});

/**
 * Sets the options' fields as a user would, and saves. With `besides` (an open page): the
 * options open in a new tab of that page's window (which hides the page), and that page's
 * tab is the active one again once they are closed.
 */
async function setOptions({ badges, noBadges, paused, ignored }, besides = null) {
  let options;
  let tab;
  if (besides) {
    tab = await browser.worker.evaluate(async (u) => {
      const [t] = await chrome.tabs.query({ url: u });
      return { id: t.id, windowId: t.windowId };
    }, besides.url());
    const opened = browser.context.waitForEvent('page');
    await browser.worker.evaluate((windowId) => chrome.tabs.create({ windowId, url: chrome.runtime.getURL('options.html') }), tab.windowId);
    options = await opened;
  } else {
    options = await browser.context.newPage();
    await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  }
  const box = options.getByTestId('badges-enabled');
  await box.and(options.locator(':enabled')).waitFor();
  if (badges !== undefined) await box.setChecked(badges);
  if (noBadges !== undefined) await options.getByTestId('no-badges-sites').fill(noBadges);
  if (paused !== undefined) await options.getByTestId('paused-sites').fill(paused);
  if (ignored !== undefined) await options.getByTestId('ignored-sites').fill(ignored);
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  await options.close();
  if (tab) await browser.worker.evaluate((id) => chrome.tabs.update(id, { active: true }), tab.id);
}

/** A page of `host` once its content script is there, and its badges after a while. */
async function badgedOn(host, want) {
  const page = await browser.context.newPage();
  await page.goto(url(host));
  const view = await waitView(page, (v) => v.host && v.badges.filter((b) => b.shown).length >= want, 5000);
  // Long enough for badges to have come, had they been due (they come in well under 1 s).
  if (want === 0) await page.waitForTimeout(1500);
  return { page, domains: domains(want === 0 ? await lensView(page) : view) };
}

test('badges off in the options: gone from an open page, none on its new links nor on the next page', async () => {
  const open = await badgedOn(NEWS, 2);
  assert.deepEqual(open.domains, ['acme.test', 'placed-1.test']);
  await setOptions({ badges: false }, open.page);
  try {
    // Back on the open page (from the options in another tab of its window): its badges are
    // gone. Headless Chromium keeps every tab visible and fires no visibilitychange when the
    // tab is shown again: the test fires the one the browser would (the content script
    // checks document.visibilityState itself, which the page cannot change for it).
    assert.equal(domains(await lensView(open.page)).length, 2, 'still there while away');
    await open.page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    const gone = await waitView(open.page, (v) => v.badges.length === 0, 3000);
    assert.deepEqual(domains(gone), [], 'the open page\'s badges are gone once back on it');
    // The open page: links it adds now are not badged.
    await open.page.evaluate((hrefs) => window.appendLinks(hrefs), [`https://${PLACED[5]}/`, `https://${PLACED[6]}/`]);
    await open.page.waitForTimeout(1500);
    assert.ok(!domains(await lensView(open.page)).includes(PLACED[5]), 'no badge on a link added after the switch');
    await open.page.reload();
    const reloaded = await waitView(open.page, (v) => v.host, 5000);
    await open.page.waitForTimeout(1500);
    assert.deepEqual(domains(await lensView(open.page)), [], 'none once reloaded');
    assert.ok(reloaded.host, 'the content script ran');
    await open.page.close();
    const next = await badgedOn(NEWS, 0);
    assert.deepEqual(next.domains, [], 'none on the next page');
    await next.page.close();
  } finally {
    await setOptions({ badges: true });
  }
  const again = await badgedOn(NEWS, 2);
  assert.deepEqual(again.domains, ['acme.test', 'placed-1.test'], 'back on');
  await again.page.close();
});

test('"no badges on these sites" turns them off for that site only; paused and never-look-up sites get none', async () => {
  const quiet = await badgedOn(QUIET, 2);
  const news = await badgedOn(NEWS, 2);
  assert.deepEqual(quiet.domains, ['acme.test', 'placed-1.test'], 'badges on both sites at first');
  await setOptions({ noBadges: QUIET, paused: PAUSED, ignored: NEVER });
  try {
    // The open pages, shown again (see above): that site's badges go, the other's stay.
    for (const { page } of [quiet, news]) await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    assert.deepEqual(domains(await waitView(quiet.page, (v) => v.badges.length === 0, 3000)), [], `the open ${QUIET} page's badges are gone`);
    assert.deepEqual(domains(await lensView(news.page)), ['acme.test', 'placed-1.test'], `the open ${NEWS} page keeps its badges`);
    await quiet.page.close();
    await news.page.close();
    for (const host of [QUIET, PAUSED, NEVER]) {
      const { page, domains: got } = await badgedOn(host, 0);
      assert.deepEqual(got, [], `no badges on ${host}`);
      await page.close();
    }
    const { page, domains: got } = await badgedOn(NEWS, 2);
    assert.deepEqual(got, ['acme.test', 'placed-1.test'], `badges still on ${NEWS}`);
    await page.close();
  } finally {
    await setOptions({ noBadges: '', paused: '', ignored: '' });
  }
});
