// The index of the firm's companies in the extension (issue #21), in Chromium: a full sync
// when the key is saved (its progress and cost in the options); then a site the firm does
// not know costs no Affinity call at all (the sandbox counts them), and a known company's
// pill says its list and Status before any call returns (the sandbox answers slowly); the
// index outlives the worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { settledUsage } from './harness.mjs';
import {
  startSandbox, startSite, launchChromiumWithExtension, configureChromiumExtension, overlayFrame, monthlyUsed,
  setFaults,
} from './harness.mjs';

const UNKNOWN = Array.from({ length: 10 }, (_, i) => `nobody-knows-${i + 1}.test`);
let sandbox;
let site;
let browser;

before(async () => {
  sandbox = await startSandbox();
  site = await startSite();
  browser = await launchChromiumWithExtension(['acme.test', 'globex.test', ...UNKNOWN]);
});
after(async () => {
  await browser?.context.close();
  await site?.stop();
  sandbox?.stop();
});

const settled = () => settledUsage(sandbox);

/** The options page's index line once it says the index is synced. */
async function indexLine(pattern = /^Index: [\d,]+ companies/) {
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  const line = options.getByTestId('index-status');
  await line.filter({ hasText: pattern }).waitFor({ timeout: 60000 });
  const text = (await line.textContent()).trim();
  await options.close();
  return text;
}

test('saving the key syncs the index; the options say what it holds and cost', async () => {
  const before = await monthlyUsed(sandbox);
  const started = Date.now();
  await configureChromiumExtension(browser.context, browser.extensionId, sandbox);
  const line = await indexLine();
  const calls = (await settled()) - before;
  console.log(`full sync: ${line} (${calls} sandbox calls, ${Date.now() - started} ms)`);
  assert.match(line, /^Index: 5,0\d\d companies, \d+ lists, synced \d\d:\d\d, \d+ calls today$/);
  const today = Number(line.match(/(\d+) calls today/)[1]);
  assert.ok(today > 0 && today <= calls, `${today} calls counted of ${calls}`);
});

test('after the sync, ten sites the firm does not know cost no Affinity call', async () => {
  const start = await settled();
  for (const host of UNKNOWN) {
    const page = await browser.context.newPage();
    await page.goto(`http://${host}:${site.port}/`);
    const frame = await overlayFrame(page, browser.extensionId);
    const pill = frame.getByTestId('lens-pill');
    await pill.filter({ hasText: 'Not in Affinity' }).waitFor();
    if (host === UNKNOWN[0]) {
      const title = await pill.getAttribute('title');
      assert.match(title, /not in the firm's Affinity as of \d{4}-\d\d-\d\d \d\d:\d\d UTC .*click to check live/);
    }
    await page.close();
  }
  const spent = (await settled()) - start;
  console.log(`ten unknown sites: ${spent} Affinity calls`);
  assert.equal(spent, 0);
});

test('a known company shows its list and Status from the index before any call returns', async () => {
  await setFaults(sandbox, { latency_ms: 4000 });
  try {
    const page = await browser.context.newPage();
    const started = Date.now();
    await page.goto(`http://acme.test:${site.port}/`);
    const frame = await overlayFrame(page, browser.extensionId);
    const pill = frame.getByTestId('lens-pill');
    await pill.filter({ hasText: /^In Affinity · / }).waitFor({ timeout: 3500 });
    const early = (await pill.textContent()).trim();
    const ms = Date.now() - started;
    console.log(`acme.test with Affinity 4 s away: "${early}" after ${ms} ms`);
    assert.ok(ms < 3500, `${ms} ms`);
    assert.match(early, /^In Affinity · [^:]+: \S/, 'a list and its Status');
    // Then the live answer wins (the best connection).
    await pill.filter({ hasText: /\d\.\d\d/ }).waitFor({ timeout: 30000 });
    await page.close();
  } finally {
    await setFaults(sandbox, {});
  }
});

test('a restarted worker still has the index: an unknown site costs nothing', async () => {
  // Stop the service worker; the next page view wakes a new one, which reads the index back.
  const cdp = await browser.context.newCDPSession(await browser.context.newPage());
  await cdp.send('ServiceWorker.enable');
  await cdp.send('ServiceWorker.stopAllWorkers');
  await new Promise((r) => setTimeout(r, 500));
  const start = await settled();
  const page = await browser.context.newPage();
  await page.goto(`http://${UNKNOWN[3]}:${site.port}/`);
  const frame = await overlayFrame(page, browser.extensionId);
  await frame.getByTestId('lens-pill').filter({ hasText: 'Not in Affinity' }).waitFor();
  assert.equal((await settled()) - start, 0, 'the restored index answered');
  await page.close();
});
