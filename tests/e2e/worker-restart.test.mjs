// The service worker stopped mid-session (as Chrome does after 30 s idle): the card still
// works, from the cache and limiter the stopped worker left in storage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useExtension, openCard, monthlyUsed } from './harness.mjs';

const env = useExtension(['acme.test']);
const used = () => monthlyUsed(env.sandbox);

/** Stops the extension's service worker the way a user can: chrome://serviceworker-internals. */
async function stopWorker() {
  const { browser } = env;
  const page = await browser.context.newPage();
  await page.goto('chrome://serviceworker-internals/');
  const registration = page.locator('.serviceworker-registration').filter({ hasText: `chrome-extension://${browser.extensionId}/` });
  await registration.locator('.serviceworker-running-status').filter({ hasText: 'RUNNING' }).waitFor();
  await registration.locator('cr-button[data-command="stop"]').click();
  await registration.locator('.serviceworker-running-status').filter({ hasText: 'STOPPED' }).waitFor();
  return page;
}

test('with the service worker stopped mid-session, the card still works from the persisted cache', async () => {
  const { site, browser } = env;
  const page = await browser.context.newPage();
  await page.goto(`http://acme.test:${site.port}/`);
  const frame = await openCard(page, browser.extensionId);
  await frame.getByTestId('lens-connection').first().waitFor();
  // Let the worker write its state down (it does so shortly after each lookup).
  await page.waitForTimeout(1000);
  await browser.worker.evaluate(() => { globalThis.lensMark = 'first worker'; });

  const internals = await stopWorker();

  // The card already on the page refreshes: the message wakes a new worker, which still
  // knows the page's token (session storage) and asks Affinity again.
  const before = await used();
  await frame.getByTestId('lens-refresh').click();
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  await frame.getByTestId('lens-connection').first().waitFor();
  assert.ok((await used()) > before, 'the refresh reached Affinity');
  const registration = internals.locator('.serviceworker-registration').filter({ hasText: `chrome-extension://${browser.extensionId}/` });
  await internals.reload();
  await registration.locator('.serviceworker-running-status').filter({ hasText: 'RUNNING' }).waitFor();
  const [worker] = browser.context.serviceWorkers().filter((w) => w.url().includes(browser.extensionId));
  const mark = await worker.evaluate(() => globalThis.lensMark).catch(() => undefined);
  assert.notEqual(mark, 'first worker', 'a new worker answered');

  // Stopped again: a new tab of the same site gets its card from the cache the stopped worker
  // persisted, without asking Affinity.
  await page.waitForTimeout(1000);
  await stopWorker();
  const quiet = await used();
  const again = await browser.context.newPage();
  await again.goto(`http://acme.test:${site.port}/about`);
  const frame2 = await openCard(again, browser.extensionId);
  await frame2.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  await frame2.getByTestId('lens-connection').first().waitFor();
  assert.equal(await used(), quiet, 'no request: the restarted worker had the cache');
  await again.close();
  await page.close();
  await internals.close();
});
