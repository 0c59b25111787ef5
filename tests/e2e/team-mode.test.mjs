// Team mode (#13): the extension asks the firm's gateway for cards instead of Affinity. The
// options name the gateway and its token; the card appears as in personal mode; no API key
// is stored anywhere in the extension; a second browser profile viewing the same company
// costs Affinity nothing (the gateway's shared cache answers); writes need a personal key;
// with the gateway gone, Refresh shows the card this browser kept, marked stale.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startSandbox, startSite, startGateway, launchChromiumWithExtension, openCard, GATEWAY_TOKEN, SANDBOX_KEY,
} from './harness.mjs';

let sandbox, site, gateway;

before(async () => {
  sandbox = await startSandbox();
  site = await startSite();
  gateway = await startGateway(sandbox);
});

after(async () => {
  gateway?.stop();
  await site?.stop();
  sandbox?.stop();
});

/** A metric of the gateway's /metrics (asked with the client token). */
async function metric(name) {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } })).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

/** A fresh browser profile with the extension, set to team mode through its options page. */
async function teamBrowser() {
  const browser = await launchChromiumWithExtension(['acme.test']);
  const page = await browser.context.newPage();
  await page.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await page.getByTestId('team-mode').check();
  await page.getByTestId('gateway-url').fill(gateway.url);
  await page.getByTestId('gateway-token').fill(GATEWAY_TOKEN);
  await page.getByTestId('save').click();
  await page.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  // Read back: the options page shows team mode, and no key.
  await page.reload();
  await page.getByTestId('save').and(page.locator(':enabled')).waitFor();
  assert.equal(await page.getByTestId('team-mode').isChecked(), true);
  assert.equal(await page.getByTestId('gateway-url').inputValue(), gateway.url);
  assert.equal(await page.getByTestId('api-key').inputValue(), '');
  await page.close();
  return browser;
}

/** Opens acme.test and its card; resolves with the overlay frame once the card names Acme. */
async function viewAcme(browser) {
  const page = await browser.context.newPage();
  await page.goto(`http://acme.test:${site.port}/`);
  const pill = (await openCard(page, browser.extensionId)).getByTestId('lens-entity-name');
  await pill.filter({ hasText: 'Acme Corporation' }).waitFor({ timeout: 20000 });
  return page;
}

/** Everything the extension keeps: storage.local, .session, .sync and its IndexedDB. */
async function everythingStored(browser) {
  return browser.worker.evaluate(async () => {
    const idb = await new Promise((resolve, reject) => {
      const open = indexedDB.open('affinity-lens');
      open.onerror = () => reject(open.error);
      open.onsuccess = () => {
        const db = open.result;
        const out = {};
        const names = [...db.objectStoreNames];
        if (names.length === 0) { db.close(); resolve(out); return; }
        const tx = db.transaction(names, 'readonly');
        for (const name of names) {
          const store = tx.objectStore(name);
          const keys = store.getAllKeys();
          const values = store.getAll();
          values.onsuccess = () => { out[name] = keys.result.map((k, i) => [k, values.result[i]]); };
        }
        tx.oncomplete = () => { db.close(); resolve(out); };
        tx.onerror = () => reject(tx.error);
      };
    });
    return {
      local: await chrome.storage.local.get(null),
      session: await chrome.storage.session.get(null),
      sync: await chrome.storage.sync.get(null),
      idb,
      databases: (await indexedDB.databases()).map((d) => d.name),
    };
  });
}

test('team mode: the card comes from the gateway, no key is stored, a colleague costs Affinity nothing', async () => {
  const before = await metric('lens_gateway_affinity_requests_total');
  let afterFirst;
  const first = await teamBrowser();
  try {
    const page = await viewAcme(first);
    afterFirst = await metric('lens_gateway_affinity_requests_total');
    assert.ok(afterFirst > before, `the first view asked Affinity through the gateway (${before} → ${afterFirst})`);

    // Writes need a personal key: the card says so instead of failing.
    const frame = page.frames().find((f) => f.url().includes('overlay.html'));
    await frame.getByText('add your own API key in the options').waitFor();

    // No API key anywhere in the extension; the settings are team mode with the token.
    const stored = await everythingStored(first);
    const all = JSON.stringify(stored);
    assert.ok(!all.includes(SANDBOX_KEY), `the sandbox key is stored: ${all.slice(0, 400)}`);
    assert.ok(!all.includes(sandbox.url), 'the extension does not even know where Affinity is');
    assert.deepEqual(stored.databases, ['affinity-lens']);
    const settings = Object.fromEntries(stored.idb.kv)['settings'];
    assert.equal(settings.mode, 'team');
    assert.equal(settings.gatewayUrl, gateway.url);
    assert.equal(settings.apiKey, '');
    assert.deepEqual([stored.local, stored.sync], [{}, {}]);
  } finally {
    await first.context.close();
  }

  // A colleague: another profile, the same company; the gateway's cache answers.
  const second = await teamBrowser();
  try {
    const hits = await metric('lens_gateway_card_cache_hits_total');
    await viewAcme(second);
    assert.equal(await metric('lens_gateway_affinity_requests_total'), afterFirst, 'the second profile cost Affinity nothing');
    assert.ok(await metric('lens_gateway_card_cache_hits_total') > hits, "the gateway answered from its cache");

    // The gateway goes away: the card this browser kept is still shown, marked stale.
    gateway.stop();
    const gone = () => { try { process.kill(gateway.pid, 0); return false; } catch { return true; } };
    for (let i = 0; i < 100 && !gone(); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(gone(), 'the gateway stopped');
    // (Within the gateway's max-age the browser's HTTP cache answers; Refresh asks the gateway.)
    const again = await viewAcme(second);
    const frame = again.frames().find((f) => f.url().includes('overlay.html'));
    await frame.getByTestId('lens-refresh').click();
    const stale = frame.locator('.lens-stale');
    await stale.waitFor();
    assert.equal((await frame.getByTestId('lens-entity-name').textContent()).trim(), 'Acme Corporation');
    assert.match(await stale.textContent(), /Offline: as of \d{4}-\d{2}-\d{2}/);
  } finally {
    await second.context.close();
  }
});
