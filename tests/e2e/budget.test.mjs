// When the month's Affinity budget runs low, pages are looked up only when the user asks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useExtension, overlayFrame, monthlyUsed } from './harness.mjs';

// A month of 20 requests: one page view (the pill: a handful of requests, the first of the
// session with the account's context) leaves less than 80% of it.
const env = useExtension(['acme.test', 'globex.test'], ['--monthly-budget', '20']);
const used = () => monthlyUsed(env.sandbox);

test('below the chosen share of the month left, the pill offers a look-up instead of spending the budget', async () => {
  const { site, browser } = env;
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.getByTestId('on-demand-below').fill('80');
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  await options.close();

  // The first company is looked up as usual; Affinity's answers say how much is left.
  const first = await browser.context.newPage();
  await first.goto(`http://acme.test:${site.port}/`);
  await (await overlayFrame(first, browser.extensionId)).getByTestId('lens-pill').filter({ hasText: 'In Affinity ·' }).waitFor();
  await first.close();
  const spent = await used();
  assert.ok(spent > 0 && spent <= 8, `the first page view spent ${spent} of 20`);

  // The next one waits to be asked, and costs nothing until then.
  const page = await browser.context.newPage();
  await page.goto(`http://globex.test:${site.port}/`);
  const frame = await overlayFrame(page, browser.extensionId);
  await frame.getByTestId('lens-pill').filter({ hasText: 'look up?' }).waitFor();
  await page.waitForTimeout(500);
  assert.equal(await used(), spent, 'no request before the user asks');
  await frame.getByTestId('lens-pill').click();
  assert.match(await frame.getByTestId('lens-card').textContent(), /budget is low \(\d+ of 20 requests left\)/);
  await frame.getByTestId('lens-lookup').click();
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Globex' }).waitFor();
  assert.ok((await used()) > spent, 'the look-up asked Affinity');
  await page.close();
});
