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

/**
 * The content script's painted pill (pixels in the overlay's closed shadow root, under the
 * frame), read through DevTools (which sees closed shadow roots): the RGBA of the pill's
 * dot, or null when there is no painted pill.
 */
async function paintedDot(page) {
  const cdp = await page.context().newCDPSession(page);
  try {
    const { root } = await cdp.send('DOM.getDocument', { depth: -1, pierce: true });
    const find = (n) => {
      if (n.nodeName === 'CANVAS') return n;
      for (const c of [...(n.children ?? []), ...(n.shadowRoots ?? [])]) {
        const f = find(c);
        if (f) return f;
      }
      return null;
    };
    const canvas = find(root);
    if (!canvas) return null;
    const { object } = await cdp.send('DOM.resolveNode', { backendNodeId: canvas.backendNodeId });
    const { result } = await cdp.send('Runtime.callFunctionOn', {
      objectId: object.objectId,
      returnByValue: true,
      // The dot's centre: 23, 21 in CSS pixels.
      functionDeclaration: 'function () { const r = this.width / parseFloat(this.style.width); return [...this.getContext("2d").getImageData(Math.round(23 * r), Math.round(21 * r), 1, 1).data]; }',
    });
    return result.value;
  } finally {
    await cdp.detach();
  }
}

test('the pill is painted from the index before the overlay frame starts, and the page cannot read it', async () => {
  const seen = {};
  for (const [host, dot] of [['acme.test', [0x1a, 0x7f, 0x37]], [UNKNOWN[4], [0x8a, 0x93, 0xa6]]]) {
    const page = await browser.context.newPage();
    await page.goto(`http://${host}:${site.port}/`);
    const frame = await overlayFrame(page, browser.extensionId);
    await frame.getByTestId('lens-pill').first().waitFor();
    // Under the frame's pill for a while: the index's answer, as pixels (the dot's colour).
    const rgba = await paintedDot(page);
    assert.ok(rgba, `${host}: a painted pill`);
    assert.deepEqual(rgba.slice(0, 3), dot, `${host}: the dot is ${dot}`);
    // The page's script: no text to read or find, no way into the shadow root, the same box.
    seen[host] = await page.evaluate(() => {
      const host = document.querySelector('affinity-lens-overlay');
      const box = host.getBoundingClientRect();
      return {
        found: window.find('Affinity') || window.find('Diligence'),
        text: document.documentElement.innerText.includes('Affinity'),
        shadow: host.shadowRoot === null,
        canvases: document.querySelectorAll('canvas').length,
        box: [box.width, box.height],
        children: host.childNodes.length,
      };
    });
    assert.deepEqual(seen[host], { found: false, text: false, shadow: true, canvases: 0, box: [282, 42], children: 0 }, host);
    // Then it goes (the frame's own pill is drawn over it).
    await page.waitForTimeout(3000);
    assert.equal(await paintedDot(page), null, `${host}: the painted pill is gone`);
    await page.close();
  }
});
