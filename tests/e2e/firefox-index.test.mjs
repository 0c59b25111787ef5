// The index of the firm's companies in headless Firefox (ESR, geckodriver; issue #21): after
// the sync that saving the key starts, ten sites the firm does not know cost no Affinity call,
// and a page's links to a company the firm knows are badged (read through the badges' closed
// shadow root with WebDriver's Get Element Shadow Root, which a page cannot do); a page's
// script cannot tell a badged link from an unbadged one (its DOM, the host's size and
// elementFromPoint at the badge are the same for a known and an unknown company).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { firefoxDist, startSandbox, startSite, monthlyUsed, settledUsage } from './harness.mjs';
import { waitFor, webdriver } from './webdriver.mjs';

const ADDON_ID = 'affinity-lens@affinity-lens.dev';
const ADDON_UUID = '6f1d3c2e-8a4b-4c1d-9e2f-3a5b7c9d1e0f';
const UNKNOWN = Array.from({ length: 10 }, (_, i) => `nobody-knows-${i + 1}.test`);

let sandbox, site, links, driver;
/** The driver's base URL and session, once `before` has them. */
const at = { base: '', session: null };
const { wd, s, find, textOf, startFirefox, saveKey, badges } = webdriver(at, ADDON_UUID);

const settled = () => settledUsage(sandbox);

before(async () => {
  sandbox = await startSandbox();
  site = await startSite();
  links = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    const to = new URL(req.url, 'http://x').searchParams.get('to');
    // The hostile page: one link, to a known company or an unknown one.
    if (to) {
      res.end(`<!doctype html><html><head><title>News</title></head><body style="font: 16px/24px serif; margin: 40px">
        <p id="p">Read about <a id="link" href="http://${to}/about">the company</a><span id="after"> and what it does next.</span></p>
        </body></html>`);
      return;
    }
    res.end(`<!doctype html><p>News: <a href="http://www.acme.test/">Acme</a> raised money; <a href="http://nobody-knows-this.test/">this one</a> did not; <a href="http://acme.test/jobs">jobs</a>.</p>`);
  });
  await new Promise((r) => links.listen(0, '127.0.0.1', r));
  driver = await startFirefox({ hosts: ['acme.test', 'links-page.test', 'hostile-page.test', ...UNKNOWN], extension: firefoxDist, addonId: ADDON_ID });
});

after(async () => {
  if (at.session) await wd('DELETE', s('')).catch(() => {});
  driver?.kill('SIGTERM');
  await new Promise((r) => links?.close(r));
  await site?.stop();
  sandbox?.stop();
});

test('Firefox: saving the key syncs the index', async () => {
  await saveKey(sandbox);
  const line = await waitFor('the synced index', async () => {
    const text = await textOf('[data-testid="index-status"]');
    return /^Index: [1-9][\d,]* companies/.test(text) ? text : null;
  }, 60000);
  console.log(`Firefox: ${line}`);
});

test('Firefox: ten sites the firm does not know cost no Affinity call', async () => {
  const start = await settled();
  for (const host of UNKNOWN) {
    await wd('POST', s('/url'), { url: `http://${host}:${site.port}/` });
    let said = '';
    await waitFor(`the pill on ${host}`, async () => {
      await wd('POST', s('/frame'), { id: null });
      await wd('POST', s('/frame'), { id: 0 });
      said = await textOf('[data-testid="lens-pill"]');
      return said === 'Not in Affinity';
    }).catch((e) => { throw new Error(`${e.message}; the pill said ${JSON.stringify(said)}`); });
    await wd('POST', s('/frame'), { id: null });
  }
  const spent = (await settled()) - start;
  console.log(`Firefox: ten unknown sites, ${spent} Affinity calls`);
  assert.equal(spent, 0);
});

test('Firefox: a page\'s links to a known company are badged, and no other', async () => {
  await wd('POST', s('/url'), { url: `http://links-page.test:${links.address().port}/` });
  const domains = await waitFor('the badges', async () => {
    const got = (await badges()).map((b) => b.domain);
    return got.length >= 2 ? got.sort() : null;
  });
  assert.deepEqual(domains, ['acme.test', 'acme.test']);
  // The page itself sees a closed shadow root.
  const seen = await wd('POST', s('/execute/sync'), {
    script: 'const h = document.querySelector("affinity-lens-badges"); const r = h.getBoundingClientRect(); return [h.shadowRoot === null, r.width, r.height];',
    args: [],
  });
  assert.deepEqual(seen, [true, 0, 0]);
});

/** The badges drawn on the page (through the closed shadow root): their domains and rects. */
async function drawnBadges() {
  const out = [];
  for (const { el, domain } of await badges('[data-shown]')) out.push({ domain, rect: await wd('GET', s(`/element/${el}/rect`)) });
  return out;
}

test('Firefox: a page cannot tell a badged link from an unbadged one', async () => {
  const pageView = (to, at) => wd('POST', s('/execute/sync'), {
    script: `const [to, at] = arguments;
      const link = document.getElementById('link');
      const r = link.getBoundingClientRect();
      const host = document.querySelector('affinity-lens-badges');
      const box = host.getBoundingClientRect();
      const describe = (el) => (el ? el.tagName + '#' + el.id : null);
      return {
        html: document.documentElement.outerHTML.replaceAll(to, 'X'),
        host: [host.tagName, box.width, box.height, host.shadowRoot === null, host.childNodes.length, host.getAttribute('style')],
        at: describe(document.elementFromPoint(r.right + 8, r.top + r.height / 2)),
        atBadgeCenter: describe(document.elementFromPoint(at[0], at[1])),
        linkBox: [r.left, r.top, r.width, r.height],
        scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
      };`,
    args: [to, at],
  });
  const port = links.address().port;
  await wd('POST', s('/url'), { url: `http://hostile-page.test:${port}/?to=acme.test` });
  const [badge] = await waitFor('the badge', async () => {
    const got = await drawnBadges();
    return got.length ? got : null;
  });
  assert.equal(badge.domain, 'acme.test');
  const center = [badge.rect.x + badge.rect.width / 2, badge.rect.y + badge.rect.height / 2];
  assert.ok(badge.rect.width > 0 && badge.rect.height > 0, `the badge is drawn: ${JSON.stringify(badge.rect)}`);
  const known = await pageView('acme.test', center);
  await wd('POST', s('/url'), { url: `http://hostile-page.test:${port}/?to=nobody-knows-this.test` });
  await waitFor('the content script', async () => find('affinity-lens-badges'));
  // Long enough for a badge to have come, had it been due.
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await drawnBadges(), [], 'the unknown company is not badged');
  const unknown = await pageView('nobody-knows-this.test', center);
  console.log(`Firefox: the page sees a ${known.host[1]}×${known.host[2]} ${known.host[0]}, at the badge (${center.map(Math.round)}) ${known.atBadgeCenter}`);
  assert.deepEqual(known, unknown);
  assert.equal(known.atBadgeCenter, 'SPAN#after', 'elementFromPoint at the badge: the page\'s own element');
  assert.deepEqual(known.host.slice(1, 4), [0, 0, true]);
});
