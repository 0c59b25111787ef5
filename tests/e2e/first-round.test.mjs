// The pill says "In Affinity" as soon as the lookup's first round found the company, before
// the rest of the card (connections, lists) has arrived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useExtension, overlayFrame } from './harness.mjs';

// Slow answers, so that the rounds are far apart: further apart than a cold overlay frame
// takes to load its wasm on a busy machine (at 400 ms, a fresh clone's run once saw the
// frame's first render come after both rounds).
const LATENCY_MS = 1000;
const env = useExtension(['acme.test'], ['--latency-ms', String(LATENCY_MS)]);

test('the company is named in the pill before the whole card has arrived', async () => {
  const { site, browser } = env;
  const page = await browser.context.newPage();
  const t0 = Date.now();
  await page.goto(`http://acme.test:${site.port}/`);
  const frame = await overlayFrame(page, browser.extensionId);
  const pill = frame.getByTestId('lens-pill');
  await pill.filter({ hasText: 'In Affinity' }).waitFor();
  const first = { text: (await pill.textContent()).trim(), at: Date.now() - t0 };
  await pill.filter({ hasText: 'In Affinity ·' }).waitFor();
  const complete = Date.now() - t0;
  assert.equal(first.text, 'In Affinity', 'first the match alone');
  assert.ok(complete - first.at > LATENCY_MS / 2, `then, more than half a round later, the best connection (${first.at} ms, then ${complete} ms)`);
  // Opened early, the card shows the name and fills in.
  await pill.click();
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  await frame.getByTestId('lens-connection').first().waitFor();
  await page.close();
});
