// A page cannot tell that the Lens is installed by requesting its files at their fixed
// URLs (`chrome-extension://<id>/<file>`), as LinkedIn's own page script does for
// thousands of extensions: the overlay is web-accessible only through Chromium's dynamic
// URL (use_dynamic_url, a per-session id), and nothing else is web-accessible. The overlay
// still shows on that page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { useExtension, chromeDist, openCard, isOverlayUrl } from './harness.mjs';

const env = useExtension(['acme.test']);

/** Every file of the built Chromium extension, relative to its root. */
function extensionFiles(dir = chromeDist) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? extensionFiles(p) : [relative(chromeDist, p)];
  });
}

test('the manifest exposes only the overlay, only to web pages, and only at a dynamic URL', () => {
  const manifest = JSON.parse(readFileSync(join(chromeDist, 'manifest.json'), 'utf8'));
  assert.deepEqual(manifest.web_accessible_resources, [
    { resources: ['overlay.html'], matches: ['http://*/*', 'https://*/*'], use_dynamic_url: true },
  ]);
});

test('a page that probes for the Lens\'s files at chrome-extension://<id>/ gets nothing, while the overlay shows', async () => {
  const { browser, site } = env;
  const files = extensionFiles();
  assert.ok(files.includes('overlay.html') && files.includes('manifest.json') && files.length > 10, `${files.length} files`);
  const page = await browser.context.newPage();
  const requested = [];
  page.on('request', (r) => { if (r.url().startsWith('chrome-extension:')) requested.push(new URL(r.url())); });
  await page.goto(`http://acme.test:${site.port}/`);

  // The overlay is there (the page is a company in the sandbox). The content script asked
  // for it at its dynamic URL (a per-session id, not the extension's), which the browser
  // then serves from the extension.
  const frame = await openCard(page, browser.extensionId, 20000);
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  assert.ok(isOverlayUrl(frame.url()));
  const asked = requested.find((u) => u.pathname === '/overlay.html');
  assert.ok(asked, `the overlay was requested: ${requested.map(String)}`);
  assert.match(asked.host, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a dynamic id');
  assert.notEqual(asked.host, browser.extensionId);

  // The page probes every file, the way extension-detection scripts do: fetch, and an
  // element that reports whether it loaded.
  const results = await page.evaluate(async ({ id, files }) => {
    const fetched = async (url) => {
      try {
        const res = await fetch(url);
        return `fetch ${res.status}`;
      } catch {
        return null;
      }
    };
    const loaded = (tag, url) => new Promise((resolve) => {
      const el = document.createElement(tag);
      const done = (ok) => { el.remove(); resolve(ok ? `${tag} loaded` : null); };
      el.onload = () => done(true);
      el.onerror = () => done(false);
      setTimeout(() => done(false), 3000);
      if (tag === 'link') { el.rel = 'stylesheet'; el.href = url; } else el.src = url;
      document.head.append(el);
    });
    const out = {};
    for (const f of files) {
      const url = `chrome-extension://${id}/${f}`;
      const seen = [await fetched(url), await loaded('script', url), await loaded('img', url), await loaded('link', url)].filter(Boolean);
      if (seen.length) out[f] = seen;
    }
    return out;
  }, { id: browser.extensionId, files });
  assert.deepEqual(results, {}, 'no file of the Lens answers the page');

  // The same page still has its overlay, working.
  await frame.getByTestId('lens-status').filter({ hasText: 'In Affinity' }).waitFor();
  await page.close();
});
