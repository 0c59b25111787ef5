// <affinity-card> on an intranet page, served by the gateway backed by the sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { root, startSandbox, startGateway, startIntranet, freePort, CHROMIUM_ARGS, GATEWAY_TOKEN } from './harness.mjs';

let sandbox, gateway, gatewayUrl, intranet, browser;
const auth = { authorization: `Bearer ${GATEWAY_TOKEN}` };

before(async () => {
  sandbox = await startSandbox();
  const pagePort = await freePort();
  const origin = `http://localhost:${pagePort}`;
  gateway = await startGateway(sandbox, ['--allow-origin', origin]);
  gatewayUrl = gateway.url;
  // The intranet: www/dist under /affinity-lens/ and the demo page, on any host name.
  intranet = await startIntranet(pagePort, gatewayUrl);
  intranet.origin = origin;
  intranet.other = `http://127.0.0.1:${pagePort}`;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  intranet?.close();
  gateway?.stop();
  sandbox?.stop();
});

async function names(page) {
  return page.locator('affinity-card [data-testid="lens-entity-name"]').allTextContents();
}

test('the Pipeline review page renders its cards from the gateway, with one request per query', async () => {
  const page = await browser.newPage();
  const cardRequests = [];
  const bodies = [];
  page.on('request', (r) => { if (r.url().includes('/affinity/card')) cardRequests.push(r.url()); });
  page.on('response', async (r) => { try { bodies.push(await r.text()); } catch { /* redirects, aborted */ } });
  await page.goto(`${intranet.origin}/pipeline.html`);
  const lead = page.locator('#lead [data-testid="lens-entity-name"]');
  await lead.filter({ hasText: 'Acme Corporation' }).waitFor();
  await page.locator('affinity-card [data-testid="lens-status"]').filter({ hasText: 'Not in Affinity' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('affinity-card').length === 5
    && [...document.querySelectorAll('affinity-card')].every((c) => !c.shadowRoot.querySelector('[data-status="loading"]')));
  const shown = await names(page);
  for (const n of ['Acme Corporation', 'Globex', 'Initech', 'Bob Smith']) assert.ok(shown.includes(n), `${n} in ${shown}`);
  assert.equal(cardRequests.length, new Set(cardRequests).size, 'one request per distinct query');
  // The key is in no response and not in the page.
  const html = await page.evaluate(() => document.documentElement.outerHTML
    + [...document.querySelectorAll('affinity-card')].map((c) => c.shadowRoot.innerHTML).join(''));
  for (const text of [...bodies, html]) assert.ok(!text.includes(sandbox.key), 'the API key leaked');
  await page.screenshot({ path: join(root, 'docs', 'web-component.png') });
  await page.close();
});

test('changing an attribute updates its card, and events carry the card', async () => {
  const page = await browser.newPage();
  await page.goto(`${intranet.origin}/pipeline.html`);
  await page.locator('#lead [data-testid="lens-entity-name"]').filter({ hasText: 'Acme Corporation' }).waitFor();
  const loaded = page.evaluate(() => new Promise((resolve) => {
    document.getElementById('lead').addEventListener('affinity-card-load', (e) => resolve(e.detail.entity.name), { once: true });
  }));
  await page.evaluate(() => document.getElementById('lead').setAttribute('domain', 'megacorp.test'));
  await page.locator('#lead [data-testid="lens-entity-name"]').filter({ hasText: 'Megacorp' }).waitFor();
  assert.equal(await loaded, 'Megacorp');
  await page.close();
});

test('the element is defined once even if the script is included twice', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${intranet.origin}/twice.html`);
  await page.locator('#lead [data-testid="lens-entity-name"]').filter({ hasText: 'Acme Corporation' }).waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});

test('a page from an origin that is not allowed gets no card, and no look-up is made for it', async () => {
  const page = await browser.newPage();
  await page.goto(`${intranet.other}/pipeline.html`);
  await page.locator('#lead [data-testid="lens-error"]').waitFor();
  const before = await affinityCalls();
  const direct = await fetch(`${gatewayUrl}/affinity/card?domain=never-looked-up.test`, { headers: { ...auth, origin: intranet.other } });
  assert.equal(direct.status, 403);
  assert.equal(direct.headers.get('access-control-allow-origin'), null);
  assert.equal(await affinityCalls(), before, 'a refused origin cost an Affinity call');
  const allowed = await fetch(`${gatewayUrl}/affinity/card?domain=acme.test`, { headers: { ...auth, origin: intranet.origin } });
  assert.equal(allowed.status, 200);
  assert.equal(allowed.headers.get('access-control-allow-origin'), intranet.origin);
  await page.close();
});

/** Requests the gateway has sent to Affinity, from its /metrics. */
async function affinityCalls() {
  const text = await (await fetch(`${gatewayUrl}/metrics`, { headers: auth })).text();
  return Number(text.match(/^lens_gateway_affinity_requests_total (\d+)/m)[1]);
}

test('the gateway answers cards, health and metrics only, and never shows the key', async () => {
  for (const path of ['/organizations?term=acme', '/affinity/organizations', '/affinity/lists', '/auth/whoami', '/affinity/card/../../lists']) {
    const r = await fetch(`${gatewayUrl}${path}`, { headers: auth });
    assert.equal(r.status, 404, path);
  }
  assert.equal((await fetch(`${gatewayUrl}/affinity/card`, { method: 'POST', headers: auth })).status, 405);
  assert.equal((await fetch(`${gatewayUrl}/affinity/card?domain=acme.test&email=a@b.co`, { headers: auth })).status, 400);
  assert.equal((await fetch(`${gatewayUrl}/affinity/card?domain=not%20a%20domain`, { headers: auth })).status, 400);
  const health = await (await fetch(`${gatewayUrl}/healthz`)).json();
  assert.equal(health.status, 'ok');
  const card = await (await fetch(`${gatewayUrl}/affinity/card?organization_id=7133202`, { headers: auth })).json();
  assert.equal(card.entity.name, 'Acme Corporation');
  await fetch(`${gatewayUrl}/affinity/card?email=bob.smith@acme.test`, { headers: auth });
  const log = gateway.log();
  assert.ok(log.includes('/affinity/card'), 'requests are logged');
  assert.ok(!log.includes(sandbox.key), 'the key is in the log');
  assert.ok(!log.includes(GATEWAY_TOKEN), 'the client token is in the log');
  assert.ok(!log.includes('bob.smith'), 'a looked-up email is in the log');
});
