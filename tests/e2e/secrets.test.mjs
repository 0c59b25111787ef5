// Where the key lives: only the background and the extension's pages can read it. A test
// build of the extension adds a content script that tries every storage area a content
// script can reach (as a compromised page renderer could); it finds neither the key nor
// the cached answers. An older install keeps its key on upgrade (never its base URL), a
// fresh one takes nothing from storage.local (which a compromised page can write), and the
// base URL must be https:// unless it is this computer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  chromeDist, startSandbox, startSite, launchChromiumWithExtension, configureChromiumExtension, overlayFrame,
} from './harness.mjs';

// Runs in the content script's world of every page, like content.js.
const PROBE = `(async () => {
  const api = globalThis.browser ?? globalThis.chrome;
  const found = {};
  const attempt = async (name, fn) => {
    try { found[name] = await fn(); } catch (e) { found[name] = 'refused: ' + e.message; }
  };
  await attempt('local', () => api.storage.local.get(null));
  await attempt('sync', () => api.storage.sync.get(null));
  await attempt('session', () => api.storage.session.get(null));
  await attempt('managed', () => api.storage.managed.get(null));
  await attempt('localStorage', () => JSON.stringify({ ...localStorage }));
  await attempt('indexedDB', async () => {
    const names = (await indexedDB.databases()).map((d) => d.name);
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('affinity-lens');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    const stores = [...db.objectStoreNames];
    const all = {};
    for (const s of stores) {
      all[s] = await new Promise((resolve) => {
        const r = db.transaction(s).objectStore(s).getAll();
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => resolve('refused');
      });
    }
    return { names, stores, all };
  });
  document.documentElement.dataset.lensProbe = JSON.stringify(found);
})();`;

let sandbox, site, browser, probeDist;

before(async () => {
  sandbox = await startSandbox();
  site = await startSite();
  probeDist = mkdtempSync(join(tmpdir(), 'lens-probe-'));
  cpSync(chromeDist, probeDist, { recursive: true });
  const manifest = JSON.parse(readFileSync(join(probeDist, 'manifest.json'), 'utf8'));
  manifest.content_scripts.push({ matches: ['http://*/*'], js: ['probe.js'], run_at: 'document_idle' });
  writeFileSync(join(probeDist, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(join(probeDist, 'probe.js'), PROBE);
});

after(async () => {
  await browser?.context.close();
  await site?.stop();
  sandbox?.stop();
  if (probeDist) rmSync(probeDist, { recursive: true, force: true });
});

test('a content script finds neither the key nor the cache in any storage it can reach', async () => {
  browser = await launchChromiumWithExtension(['acme.test'], [], probeDist);
  await configureChromiumExtension(browser.context, browser.extensionId, sandbox);
  const page = await browser.context.newPage();
  await page.goto(`http://acme.test:${site.port}/`);
  // The card is looked up (so the cache holds Acme's answers) and written down.
  await (await overlayFrame(page, browser.extensionId)).getByTestId('lens-pill').filter({ hasText: 'In Affinity ·' }).waitFor();
  await page.waitForTimeout(1000);
  await page.reload();
  await page.waitForFunction(() => document.documentElement.dataset.lensProbe);
  const probe = await page.evaluate(() => document.documentElement.dataset.lensProbe);
  const found = JSON.parse(probe);
  assert.ok(!probe.includes(sandbox.key), `the key is out of reach: ${probe}`);
  assert.ok(!probe.includes('Acme Corporation'), 'the cached answers are out of reach');
  assert.deepEqual(found.local, {}, 'storage.local holds nothing');
  assert.deepEqual(found.sync, {});
  assert.match(String(found.session), /refused/, 'session storage is for the extension only');
  assert.deepEqual(found.indexedDB.stores, [], "the page's own IndexedDB is not the extension's");
  // The extension itself still has it, where its pages can read it.
  const own = await browser.worker.evaluate(() => new Promise((resolve) => {
    const r = indexedDB.open('affinity-lens');
    r.onsuccess = () => {
      const get = r.result.transaction('kv').objectStore('kv').get('settings');
      get.onsuccess = () => resolve(get.result?.apiKey ?? null);
    };
  }));
  assert.equal(own, sandbox.key);
  await page.close();
  await browser.context.close();
  browser = null;
});

/** Stops the extension's service worker the way a user can: chrome://serviceworker-internals. */
async function stopWorker(context, extensionId) {
  const internals = await context.newPage();
  await internals.goto('chrome://serviceworker-internals/');
  const registration = internals.locator('.serviceworker-registration').filter({ hasText: `chrome-extension://${extensionId}/` });
  await registration.locator('.serviceworker-running-status').filter({ hasText: 'RUNNING' }).waitFor();
  await registration.locator('cr-button[data-command="stop"]').click();
  await registration.locator('.serviceworker-running-status').filter({ hasText: 'STOPPED' }).waitFor();
  await internals.close();
}

/**
 * The extension is updated from 0.1.0: its worker hears `runtime.onInstalled`, reason
 * "update" (Chromium reports every start of an extension loaded from the command line as
 * an install, so the test calls the worker's handler as the browser would).
 */
function update(worker) {
  return worker.evaluate(() => globalThis.lensInstalled({ reason: 'update', previousVersion: '0.1.0' }));
}

/**
 * The extension's own store (IndexedDB of its origin), as the worker reads it: opened as
 * store.js opens it (version 1, its one object store made on creation), so that a look
 * before the worker first opened it does not create it empty; closed after.
 */
const ownStore = (worker, key) => worker.evaluate(async (key) => {
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('affinity-lens', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  try {
    return await new Promise((resolve, reject) => {
      const get = db.transaction('kv').objectStore('kv').get(key);
      get.onsuccess = () => resolve(get.result ?? null);
      get.onerror = () => reject(get.error);
    });
  } finally {
    db.close();
  }
}, key);

/** Writes (or with `undefined`, deletes) a value of the extension's own store. */
const setOwn = (worker, key, value) => worker.evaluate(async ([key, value]) => {
  const db = await new Promise((resolve, reject) => {
    const r = indexedDB.open('affinity-lens', 1);
    r.onupgradeneeded = () => r.result.createObjectStore('kv');
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
  try {
    await new Promise((resolve, reject) => {
      const t = db.transaction('kv', 'readwrite');
      if (value === undefined) t.objectStore('kv').delete(key);
      else t.objectStore('kv').put(value, key);
      t.oncomplete = resolve;
      t.onerror = () => reject(t.error);
    });
  } finally {
    db.close();
  }
}, [key, value]);

/** The options page's key and base URL. */
async function optionsShow(context, extensionId) {
  const options = await context.newPage();
  await options.goto(`chrome-extension://${extensionId}/options.html`);
  await options.getByTestId('save').waitFor({ state: 'visible' });
  await options.waitForFunction(() => !document.querySelector('[data-testid="save"]').disabled);
  const shown = { key: await options.getByTestId('api-key').inputValue(), baseUrl: await options.getByTestId('base-url').inputValue() };
  return { options, shown };
}

test('a fresh install takes nothing from storage.local: the options show the default base URL and no key', async () => {
  browser = await launchChromiumWithExtension(['acme.test']);
  // A compromised renderer writes storage.local (content scripts may) soon after install.
  await browser.worker.evaluate(() => chrome.storage.local.set({
    apiKey: 'planted-key', baseUrl: 'https://affinity-api.example', mode: 'team', gatewayUrl: 'https://gw.example',
  }));
  // The worker restarts (as MV3 workers do), woken by the options page.
  await stopWorker(browser.context, browser.extensionId);
  let { options, shown } = await optionsShow(browser.context, browser.extensionId);
  assert.deepEqual(shown, { key: '', baseUrl: 'https://api.affinity.co' });
  await options.close();
  // Nor on the next update: this install never kept its settings there.
  const [worker] = browser.context.serviceWorkers().filter((w) => w.url().includes(browser.extensionId));
  await waitForMark(worker);
  await update(worker);
  ({ options, shown } = await optionsShow(browser.context, browser.extensionId));
  assert.deepEqual(shown, { key: '', baseUrl: 'https://api.affinity.co' });
  assert.equal(await ownStore(worker, 'settings'), null, 'nothing was saved');
  await options.close();
  await browser.context.close();
  browser = null;
});

/** The migration mark a fresh install sets (its `onInstalled`, reason "install"). */
async function waitForMark(worker) {
  for (let i = 0; i < 50 && (await ownStore(worker, 'migrated')) !== true; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(await ownStore(worker, 'migrated'), true);
}

test('an older install keeps its key (not its base URL) on the update, and storage.local is emptied', async () => {
  browser = await launchChromiumWithExtension(['acme.test']);
  await waitForMark(browser.worker);
  // What an older version kept in storage.local; it had no migration mark.
  await browser.worker.evaluate(([key, url]) => chrome.storage.local.set({ apiKey: key, baseUrl: url, overlay: true, paused: [] }),
    [sandbox.key, sandbox.url]);
  await setOwn(browser.worker, 'migrated', undefined);
  const worker = browser.worker;
  await update(worker);
  assert.deepEqual(await worker.evaluate(() => chrome.storage.local.get(null)), {});
  const migrated = await ownStore(worker, 'settings');
  assert.equal(migrated.apiKey, sandbox.key);
  // Once: a later update finds the mark and takes nothing from storage.local (written by a
  // page, say), even with no settings in the store.
  await worker.evaluate(() => chrome.storage.local.set({ apiKey: 'planted-key' }));
  await setOwn(worker, 'settings', undefined);
  await update(worker);
  assert.equal(await ownStore(worker, 'settings'), null, 'migrated once only');
  await setOwn(worker, 'settings', migrated);
  // The options page shows the key it kept, and the default base URL: where the key goes is
  // never taken from storage.local.
  const { options, shown } = await optionsShow(browser.context, browser.extensionId);
  assert.deepEqual(shown, { key: sandbox.key, baseUrl: 'https://api.affinity.co' });

  // An http:// base URL that is not this computer is refused, and says why.
  await options.getByTestId('base-url').fill('http://api.affinity.co');
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'https://' }).waitFor();
  assert.match(await options.getByTestId('options-status').textContent(), /must start with https:\/\/.*never sent in clear/);
  await options.getByTestId('test-connection').click();
  await options.getByTestId('test-status').filter({ hasText: 'https://' }).waitFor();
  // Nothing was saved.
  await options.reload();
  await options.waitForFunction(() => !document.querySelector('[data-testid="save"]').disabled);
  assert.equal(await options.getByTestId('base-url').inputValue(), 'https://api.affinity.co');
  await options.close();
});
