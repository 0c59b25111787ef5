// Team mode with the gateway's index (issue #21): no key in the browser; the extension
// fetches GET /affinity/index from the gateway (authenticated like cards, ETag), and the
// pill of a site the firm does not know comes from it, as does a known company's list and
// Status before the card.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startSandbox, startSite, startGateway, launchChromiumWithExtension, overlayFrame, GATEWAY_TOKEN,
} from './harness.mjs';

let sandbox, site, gateway, browser;

before(async () => {
  sandbox = await startSandbox();
  site = await startSite();
  gateway = await startGateway(sandbox);
  browser = await launchChromiumWithExtension(['acme.test', 'nobody-knows.test']);
});

after(async () => {
  await browser?.context.close();
  gateway?.stop();
  await site?.stop();
  sandbox?.stop();
});

test('team mode: the pill comes from the gateway\'s index, with no key in the browser', async () => {
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.getByTestId('team-mode').check();
  await options.getByTestId('gateway-url').fill(gateway.url);
  await options.getByTestId('gateway-token').fill(GATEWAY_TOKEN);
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  assert.equal(await options.getByTestId('api-key').inputValue(), '');
  // Before the gateway's first sync it answers 503 with Retry-After; the options ask again.
  const line = options.getByTestId('index-status');
  await line.filter({ hasText: /^Index: [1-9][\d,]* companies, \d+ lists, synced \d\d:\d\d, from the gateway/ })
    .waitFor({ timeout: 90000 });
  console.log(`team mode: ${(await line.textContent()).trim()}`);
  await options.close();

  const unknown = await browser.context.newPage();
  await unknown.goto(`http://nobody-knows.test:${site.port}/`);
  const pill = (await overlayFrame(unknown, browser.extensionId)).getByTestId('lens-pill');
  await pill.filter({ hasText: 'Not in Affinity' }).waitFor();
  assert.match(await pill.getAttribute('title'), /not in the firm's Affinity as of .*its index/);
  await unknown.close();

  const known = await browser.context.newPage();
  await known.goto(`http://acme.test:${site.port}/`);
  const knownPill = (await overlayFrame(known, browser.extensionId)).getByTestId('lens-pill');
  await knownPill.filter({ hasText: /^In Affinity · / }).waitFor();
  await known.close();
});
