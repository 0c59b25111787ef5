// When the month's Affinity budget runs low, pages are looked up only when the user asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useExtension, overlayFrame, monthlyUsed } from './harness.mjs';

// A month of 60 requests. Saving the key syncs the index of the firm's companies (its
// calls count in the month too), then one page view (the pill: a handful of requests) is
// looked up as usual; the user's threshold is then set just above what is left.
const MONTH = 60;
const env = useExtension(['acme.test', 'globex.test'], ['--monthly-budget', String(MONTH)]);
const used = () => monthlyUsed(env.sandbox);

/** The options' index line, once the index holds companies. */
async function indexSynced(browser) {
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  const line = options.getByTestId('index-status').filter({ hasText: /^Index: [1-9]/ });
  await line.waitFor({ timeout: 60000 });
  await options.close();
}

/** Sets the share of the month below which pages are looked up only when asked. */
async function onDemandBelow(browser, percent) {
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.getByTestId('on-demand-below').fill(String(percent));
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  await options.close();
}

test('below the chosen share of the month left, a page view spends nothing: the index answers, and Refresh looks up', async () => {
  const { site, browser } = env;
  await indexSynced(browser);
  await new Promise((r) => setTimeout(r, 500));
  const synced = await used();
  const asked = async () => (await (await fetch(`${env.sandbox.url}/_sandbox/requests`, { headers: { authorization: `Bearer ${env.sandbox.key}` } })).json()).requests;
  const before = (await asked()).length;
  assert.ok(synced > 0 && synced < MONTH / 2, `the index's sync spent ${synced} of ${MONTH}`);

  // The first company is looked up as usual; Affinity's answers say how much is left.
  const first = await browser.context.newPage();
  await first.goto(`http://acme.test:${site.port}/`);
  await (await overlayFrame(first, browser.extensionId)).getByTestId('lens-pill').filter({ hasText: 'Strong' }).waitFor();
  await first.close();
  await new Promise((r) => setTimeout(r, 500));
  const spent = await used();
  // With the month well above the threshold the page view may fetch the whole card ahead
  // (the opened card's 8 calls at most), besides the session's once-a-day reads (who the key
  // is and may do, the team), which the sync may or may not have made already.
  const requests = (await asked()).slice(before).filter((r) => !r.startsWith('GET /rate-limit'));
  const once = requests.filter((r) => /^GET \/(v2\/)?auth\/whoami|^GET \/v2\/users/.test(r)).length;
  assert.ok(spent > synced && spent - synced - once <= 8, `the first page view spent ${spent - synced} of ${MONTH}: ${requests.join(', ')}`);

  // Below the threshold, the next one costs nothing: the index says what the firm knows.
  const left = MONTH - spent;
  await onDemandBelow(browser, Math.floor((100 * left) / MONTH) + 1);
  const page = await browser.context.newPage();
  await page.goto(`http://globex.test:${site.port}/`);
  const frame = await overlayFrame(page, browser.extensionId);
  await frame.getByTestId('lens-pill').filter({ hasText: /^In Affinity · Portfolio/ }).waitFor();
  await page.waitForTimeout(500);
  assert.equal(await used(), spent, 'no request before the user asks');
  // Opened, the card is the index's (it says so), still at no cost; Refresh asks Affinity.
  await frame.getByTestId('lens-pill').click();
  await frame.getByTestId('lens-from-index').waitFor();
  assert.match(await frame.getByTestId('lens-card').textContent(), /Portfolio/);
  assert.equal(await used(), spent, 'opening the card asks nothing either');
  await frame.getByTestId('lens-refresh').click();
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Globex' }).waitFor();
  await frame.getByTestId('lens-from-index').waitFor({ state: 'detached' });
  assert.ok((await used()) > spent, 'the look-up asked Affinity');
  await page.close();
});
