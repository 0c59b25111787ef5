// The extension in headless Chromium against the sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  root, startSandbox, startSite, launchChromiumWithExtension, configureChromiumExtension, overlayFrame, openCard, monthlyUsed,
} from './harness.mjs';

let sandbox, site, browser;

before(async () => {
  sandbox = await startSandbox();
  site = await startSite();
  browser = await launchChromiumWithExtension(['acme.test', 'unknown-startup.test']);
  await configureChromiumExtension(browser.context, browser.extensionId, sandbox);
});

after(async () => {
  await browser?.context.close();
  await site?.stop();
  sandbox?.stop();
});

test('a company site shows the overlay with the organization name', async () => {
  const page = await browser.context.newPage();
  await page.goto(`http://acme.test:${site.port}/`);
  const frame = await openCard(page, browser.extensionId);
  await frame.getByTestId('lens-card').waitFor();
  await assert.doesNotReject(frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor());
  assert.equal(await frame.getByTestId('lens-status').textContent(), 'In Affinity');
  // The card in its page, for the README: the end-to-end test keeps it current.
  mkdirSync(join(root, 'docs'), { recursive: true });
  await page.screenshot({ path: join(root, 'docs', 'card.png') });
  await page.close();
});

test('the overlay works on a page whose CSP forbids WebAssembly', async () => {
  const page = await browser.context.newPage();
  const cspErrors = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text()); });
  const response = await page.goto(`http://acme.test:${site.port}/strict-csp`);
  assert.match(response.headers()['content-security-policy'], /script-src 'self'/);
  const frame = await openCard(page, browser.extensionId);
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  assert.deepEqual(cspErrors, []);
  await page.close();
});

test('an unknown company shows "not in Affinity"', async () => {
  const page = await browser.context.newPage();
  await page.goto(`http://unknown-startup.test:${site.port}/`);
  const frame = await openCard(page, browser.extensionId);
  await frame.getByTestId('lens-status').filter({ hasText: 'Not in Affinity' }).waitFor();
  assert.equal(await frame.getByTestId('lens-entity-name').textContent(), 'unknown-startup.test');
  await page.close();
});

test('the page never sees the API key', async () => {
  const page = await browser.context.newPage();
  await page.goto(`http://acme.test:${site.port}/`);
  await overlayFrame(page, browser.extensionId);
  const html = await page.evaluate(() => document.documentElement.outerHTML + JSON.stringify(localStorage));
  assert.ok(!html.includes(sandbox.key), 'the key leaked into the page');
  // The overlay's host is closed: page scripts cannot reach into it.
  const host = await page.evaluate(() => {
    const el = document.querySelector('affinity-lens-overlay');
    return el && { shadowRoot: el.shadowRoot, frames: el.querySelectorAll('iframe').length };
  });
  assert.deepEqual(host, { shadowRoot: null, frames: 0 }, 'the overlay host is there, and closed');
  await page.close();
});

test('the full card shows connections and lists, and refresh fetches it again', async () => {
  const page = await browser.context.newPage();
  await page.goto(`http://acme.test:${site.port}/`);
  const frame = await openCard(page, browser.extensionId);
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  await frame.getByTestId('lens-connection').first().waitFor();
  assert.match(await frame.getByTestId('lens-connection').first().textContent(), /Alice Doe knows Bob Smith\s*0\.82/);
  assert.ok(await frame.getByTestId('lens-list-entry').count() >= 2);
  assert.ok(await frame.getByTestId('lens-list-status').count() >= 1);
  // Refresh forgets the cached answers: the sandbox sees the lookup's requests again.
  const used = () => monthlyUsed(sandbox);
  const before = await used();
  await frame.getByTestId('lens-refresh').click();
  await frame.getByTestId('lens-status').filter({ hasText: 'In Affinity' }).waitFor();
  await frame.getByTestId('lens-connection').first().waitFor();
  assert.ok((await used()) - before > 5, 'the refresh asked Affinity again');
  await page.close();
});
