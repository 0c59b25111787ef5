// Badges on company links (issue #21), in Chromium: on real article pages
// (../shared/real-world/pages, read at test time, served at their publishers' domains with
// their own scripts blocked, everything else refused: offline), exactly the links to the
// companies placed in the test's Affinity world get a badge; and a page's script cannot
// tell a badged link from an unbadged one (its DOM, the badges' host element's size and
// elementFromPoint at the badge are the same for a known and an unknown company).
// Badges live in a closed shadow root: the test reads them through the DevTools protocol
// (DOM.getDocument with pierce), which no page can use.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  root, startSandbox, launchChromiumWithExtension, configureChromiumExtension, monthlyUsed,
} from './harness.mjs';

const PAGES = join(root, '..', 'shared', 'real-world', 'pages');
/** Publisher's host → the saved page, and the linked companies this test puts in Affinity. */
const ARTICLES = {
  'daringfireball.net': { file: 'daringfireball-1.html', place: ['barebones.com', 'panic.com', 'vesperapp.co'] },
  'wptavern.com': { file: 'wordpress.html', place: ['never5.com', 'asphaltthemes.com'] },
  'dropbox.tech': { file: 'dropbox-blog.html', place: ['dropbox.com'] },
  'www.cnet.com': { file: 'cnet.html', place: ['save70.com'] },
};
const HOSTILE = 'hostile-page.test';
const KNOWN = 'acme.test';
const UNKNOWN = 'nobody-knows-this.test';

let sandbox;
let server;
let port;
let secure;
let securePort;
let browser;

/** A throwaway self-signed certificate for the publishers' names (cnet.com is HSTS-preloaded). */
function certificate(names) {
  const tmp = mkdtempSync(join(tmpdir(), 'lens-cert-'));
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'cert.pem'), '-subj', `/CN=${names[0]}`,
      '-addext', `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { key: readFileSync(join(tmp, 'key.pem')), cert: readFileSync(join(tmp, 'cert.pem')) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

before(async () => {
  sandbox = await startSandbox();
  for (const { place } of Object.values(ARTICLES)) {
    for (const domain of place) {
      const res = await fetch(`${sandbox.url}/organizations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Placed ${domain}`, domain }),
      });
      assert.ok(res.ok, await res.text());
    }
  }
  const serve = (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    const article = ARTICLES[host];
    if (article && req.url !== '/favicon.ico') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        // The publisher's own scripts do not run; nothing else is fetched from the network.
        'content-security-policy': "script-src 'none'",
      });
      res.end(readFileSync(join(PAGES, article.file)));
    } else if (host === HOSTILE) {
      const query = new URL(req.url, 'http://x').searchParams;
      const to = query.get('to');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      const head = '<!doctype html><html><head><title>News</title></head><body style="font: 16px/24px serif; margin: 40px">';
      const rest = `
        <p id="p">Read about <a id="link" href="http://${to}/about">the company</a><span id="after"> and what it does next.</span></p>
        </body></html>`;
      // `slow`: the body arrives in two parts, the Lens's answer between them.
      if (query.has('slow')) {
        res.write(`${head}<p id="first">First.</p>`);
        setTimeout(() => res.end(rest), 1500);
      } else {
        res.end(head + rest);
      }
    } else {
      res.writeHead(404);
      res.end();
    }
  };
  server = createServer(serve);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  port = server.address().port;
  // The articles over HTTPS, as their publishers serve them.
  secure = createHttpsServer(certificate(Object.keys(ARTICLES)), serve);
  await new Promise((r) => secure.listen(0, '127.0.0.1', r));
  securePort = secure.address().port;
  const hosts = [...Object.keys(ARTICLES), HOSTILE, KNOWN, UNKNOWN];
  // The publishers and the hostile page here; every other host name resolves nowhere (the
  // sandbox's 127.0.0.1 excepted: the rules apply to IP literals too).
  const rules = [...hosts.map((h) => `MAP ${h} 127.0.0.1`), 'MAP * ~NOTFOUND', 'EXCLUDE 127.0.0.1'].join(', ');
  browser = await launchChromiumWithExtension([], [`--host-resolver-rules=${rules}`, '--ignore-certificate-errors']);
  await configureChromiumExtension(browser.context, browser.extensionId, sandbox);
  // The full sync that saving the key started: done when the options say so.
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.getByTestId('index-status').filter({ hasText: /^Index: [1-9][\d,]* companies/ }).waitFor({ timeout: 60000 });
  await options.close();
});
after(async () => {
  await browser?.context.close();
  await new Promise((r) => server?.close(r));
  await new Promise((r) => secure?.close(r));
  sandbox?.stop();
});

/** Every badge on the page (through the closed shadow root, by the DevTools protocol). */
async function badgesOf(page) {
  const cdp = await browser.context.newCDPSession(page);
  try {
    const { root: doc } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const found = [];
    const walk = (node) => {
      const attrs = {};
      for (let i = 0; i + 1 < (node.attributes ?? []).length; i += 2) attrs[node.attributes[i]] = node.attributes[i + 1];
      if (attrs['data-testid'] === 'lens-link-badge') found.push({ nodeId: node.nodeId, domain: attrs['data-domain'], shown: 'data-shown' in attrs });
      for (const c of [...(node.children ?? []), ...(node.shadowRoots ?? [])]) walk(c);
    };
    walk(doc);
    for (const b of found.filter((f) => f.shown)) {
      const { model } = await cdp.send('DOM.getBoxModel', { nodeId: b.nodeId });
      b.box = { x: model.content[0], y: model.content[1], w: model.width, h: model.height };
    }
    return found;
  } finally {
    await cdp.detach();
  }
}

/** Waits until the page's badges stop changing (and at least `min` are there). */
async function settledBadges(page, min) {
  let last = -1;
  const deadline = Date.now() + 15000;
  for (;;) {
    const badges = await badgesOf(page);
    if (badges.length >= min && badges.length === last) return badges;
    if (Date.now() > deadline) return badges;
    last = badges.length;
    await page.waitForTimeout(400);
  }
}

for (const [host, { file, place }] of Object.entries(ARTICLES)) {
  test(`${file} at ${host}: exactly the links to ${place.join(', ')} are badged`, async () => {
    const before = await monthlyUsed(sandbox);
    const page = await browser.context.newPage();
    await page.goto(`https://${host}:${securePort}/article`, { waitUntil: 'domcontentloaded' });
    // What the page links to (its <a> elements to http(s) hosts other than its own).
    const links = await page.evaluate(() => [...document.links]
      .filter((a) => a.tagName === 'A' && /^https?:$/.test(a.protocol) && a.hostname && a.hostname !== location.hostname)
      .map((a) => a.hostname.toLowerCase()));
    const placed = (h) => place.find((d) => h === d || h.endsWith(`.${d}`));
    const expected = links.map(placed).filter(Boolean).sort();
    assert.ok(expected.length > 0, 'the page links to a placed company');
    const badges = await settledBadges(page, expected.length);
    const got = badges.map((b) => b.domain).sort();
    console.log(`${host}: ${links.length} links to other sites, ${got.length} badged (${[...new Set(got)].join(', ')})`);
    assert.deepEqual(got, expected);
    // Badges are drawn for the links in view: scrolled to the first placed link, its badge is.
    await page.evaluate((place) => [...document.links].find((a) => place.some((d) => a.hostname === d || a.hostname.endsWith(`.${d}`)))
      ?.scrollIntoView({ block: 'center' }), place);
    let drawn = [];
    for (let i = 0; i < 20 && !drawn.length; i++) {
      await page.waitForTimeout(100);
      drawn = (await badgesOf(page)).filter((b) => b.shown);
    }
    assert.ok(drawn.length > 0, 'a badge is drawn');
    assert.equal(await monthlyUsed(sandbox), before, 'badging costs no Affinity call');
    await page.close();
  });
}

/** What the page's own script sees of its link and what is around it. */
async function pageView(page, to) {
  return page.evaluate((to) => {
    const link = /** @type {HTMLElement} */ (document.getElementById('link'));
    const r = link.getBoundingClientRect();
    const host = document.querySelector('affinity-lens-badges');
    const hostBox = host?.getBoundingClientRect();
    const at = document.elementFromPoint(r.right + 8, r.top + r.height / 2);
    const describe = (el) => (el ? `${el.tagName}#${el.id}` : null);
    return {
      html: document.documentElement.outerHTML.replaceAll(to, 'X'),
      host: host ? { tag: host.tagName, width: hostBox.width, height: hostBox.height, shadow: host.shadowRoot, children: host.childNodes.length, style: host.getAttribute('style') } : null,
      at: describe(at),
      atBadgeCenter: null,
      linkBox: [r.left, r.top, r.width, r.height],
      scroll: [document.documentElement.scrollWidth, document.documentElement.scrollHeight],
    };
  }, to);
}

test('a page cannot tell a badged link from an unbadged one', async () => {
  const seen = {};
  for (const to of [KNOWN, UNKNOWN]) {
    const page = await browser.context.newPage();
    await page.goto(`http://${HOSTILE}:${port}/?to=${to}`);
    const badges = await settledBadges(page, to === KNOWN ? 1 : 0);
    // Give the content script time to draw whatever it draws.
    await page.waitForTimeout(500);
    const view = await pageView(page, to);
    if (to === KNOWN) {
      assert.equal(badges.length, 1, 'the known company is badged');
      const { box } = badges[0];
      assert.ok(box, 'and the badge is drawn');
      // elementFromPoint at the badge's own centre: the page's element, not the badge.
      view.atBadgeCenter = await page.evaluate(([x, y]) => {
        const el = document.elementFromPoint(x, y);
        return el ? `${el.tagName}#${el.id}` : null;
      }, [box.x + box.w / 2, box.y + box.h / 2]);
      seen.badgeCenter = [box.x + box.w / 2, box.y + box.h / 2];
    } else {
      assert.equal(badges.length, 0, 'the unknown one is not');
      view.atBadgeCenter = await page.evaluate(([x, y]) => {
        const el = document.elementFromPoint(x, y);
        return el ? `${el.tagName}#${el.id}` : null;
      }, seen.badgeCenter);
    }
    seen[to] = view;
    await page.close();
  }
  const known = seen[KNOWN];
  const unknown = seen[UNKNOWN];
  console.log(`the page sees: a ${known.host.width}×${known.host.height} ${known.host.tag}, shadowRoot ${known.host.shadow}, at the badge ${known.atBadgeCenter}`);
  assert.ok(known.host, 'the host element is there');
  assert.deepEqual(known, unknown);
  assert.equal(known.host.shadow, null, 'its shadow root is closed');
  assert.equal(known.host.width, 0);
});

test("the Lens's elements are in the same place however soon it answered: after the page's body", async () => {
  const shapes = [];
  for (const slow of [false, true]) {
    const page = await browser.context.newPage();
    await page.goto(`http://${HOSTILE}:${port}/?to=${UNKNOWN}${slow ? '&slow' : ''}`);
    await page.waitForSelector('affinity-lens-overlay', { state: 'attached' });
    await page.waitForTimeout(500);
    shapes.push(await page.evaluate(() => ({
      html: [...document.documentElement.children].map((e) => e.tagName),
      body: [...document.body.querySelectorAll('*')].map((e) => e.tagName).filter((t) => t.startsWith('AFFINITY')),
    })));
    await page.close();
  }
  // Slowly parsed, the page's own elements came after the Lens had answered.
  for (const shape of shapes) {
    assert.deepEqual(shape, { html: ['HEAD', 'BODY', 'AFFINITY-LENS-OVERLAY', 'AFFINITY-LENS-BADGES'], body: [] });
  }
});
