// The extension's own surfaces in headless Chromium against the sandbox: the pill and its
// shortcut, close and position; the badge and the toolbar popup; the options page; the
// writes from the card, each read back from the sandbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startSandbox, startSite, launchChromiumWithExtension, configureChromiumExtension, overlayFrame, openCard, setFaults, STEADY,
} from './harness.mjs';

let sandbox, site, browser;
const HOSTS = ['acme.test', 'globex.test', 'initech.test', 'solo.test', 'megacorp.test', 'twice.test', 'brand-new-co.test', 'shared.test'];

before(async () => {
  sandbox = await startSandbox();
  site = await startSite();
  browser = await launchChromiumWithExtension(HOSTS);
  await configureChromiumExtension(browser.context, browser.extensionId, sandbox);
});

after(async () => {
  await browser?.context.close();
  await site?.stop();
  sandbox?.stop();
});

const url = (host, path = '/') => `http://${host}:${site.port}${path}`;

/** GET from the sandbox with the test's key, as Affinity would answer. */
async function affinity(path) {
  const res = await fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${sandbox.key}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

/** The background's view of a tab: its badge. */
async function badgeOf(page) {
  const target = page.url();
  return browser.worker.evaluate(async (u) => {
    const [tab] = await chrome.tabs.query({ url: `${u.replace(/\/$/, '')}/*` });
    return chrome.action.getBadgeText({ tabId: tab.id });
  }, target);
}

/** The overlay iframe element's box in the page (the host is a closed shadow root). */
async function overlayBox(page, frame) {
  return (await frame.frameElement()).boundingBox();
}

test('the pill says the match and the best connection, opens to the card, folds and closes', async () => {
  const page = await browser.context.newPage();
  await page.goto(url('acme.test'));
  const frame = await overlayFrame(page, browser.extensionId);
  const pill = frame.getByTestId('lens-pill');
  // First "In Affinity" (the company is found), then the best connection once it is known.
  await pill.filter({ hasText: 'In Affinity ·' }).waitFor();
  assert.equal((await pill.textContent()).trim(), 'In Affinity · Strong 0.82 (Alice)');
  const small = await overlayBox(page, frame);
  assert.ok(small.width < 300 && small.height < 60, `the pill is small: ${JSON.stringify(small)}`);
  // Keyboard: the pill is a button.
  await pill.focus();
  await page.keyboard.press('Enter');
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  await page.waitForFunction(() => true);
  const big = await overlayBox(page, frame);
  assert.ok(big.height > small.height + 100, `the card is bigger than the pill: ${JSON.stringify(big)}`);
  // Escape folds it back to the pill, and so does the fold button; close: the overlay
  // leaves the page.
  await frame.getByTestId('lens-refresh').focus();
  await page.keyboard.press('Escape');
  await frame.getByTestId('lens-pill').waitFor();
  await frame.getByTestId('lens-pill').click();
  await frame.getByTestId('lens-collapse').click();
  await frame.getByTestId('lens-pill').waitFor();
  await frame.getByTestId('lens-pill').click();
  await frame.getByTestId('lens-close').click();
  await page.waitForFunction(() => !document.querySelector('affinity-lens-overlay'));
  // The keyboard shortcut (manifest command) brings it back open. Headless Chromium cannot
  // press a browser-level shortcut, so the test runs the command's handler and checks the
  // manifest binds it.
  const commands = await browser.worker.evaluate(() => chrome.commands.getAll());
  const toggle = commands.find((c) => c.name === 'toggle-card');
  assert.ok(toggle, 'the manifest declares the toggle-card command');
  assert.equal(toggle.shortcut.replace(/\s/g, ''), 'Alt+Shift+L');
  await page.bringToFront();
  await browser.worker.evaluate(() => globalThis.lensCommand('toggle-card'));
  // A new overlay frame (the closed one may linger in page.frames() for a moment).
  let again = frame;
  for (let i = 0; i < 100 && (again === frame || again.isDetached()); i++) {
    again = page.frames().find((f) => f !== frame && !f.isDetached() && f.url().includes(`${browser.extensionId}/overlay.html`)) ?? frame;
    if (again === frame) await page.waitForTimeout(100);
  }
  assert.notEqual(again, frame, 'the shortcut opened the overlay again');
  await again.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  // And folds it again.
  await browser.worker.evaluate(() => globalThis.lensCommand('toggle-card'));
  await again.getByTestId('lens-pill').waitFor();
  await page.close();
});

test('the overlay can be moved, and its place is remembered on the next page', async () => {
  const page = await browser.context.newPage();
  await page.goto(url('solo.test'));
  const frame = await overlayFrame(page, browser.extensionId);
  await frame.getByTestId('lens-pill').waitFor();
  // The pill grows as the card fills in: wait until it stands still before grabbing it.
  let box = await overlayBox(page, frame);
  for (let i = 0; i < 50; i++) {
    await page.waitForTimeout(200);
    const next = await overlayBox(page, frame);
    if (JSON.stringify(next) === JSON.stringify(box)) break;
    box = next;
  }
  assert.ok(box.x > 600, 'it starts at the right edge');
  // The grip is just left of the iframe: drag it to the left half, near the top.
  await page.mouse.move(box.x - 5, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(300, 200, { steps: 8 });
  await page.mouse.move(200, 150, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => true);
  await page.waitForTimeout(200);
  const moved = await overlayBox(page, frame);
  assert.ok(moved.x < 100, `snapped to the left edge: ${JSON.stringify(moved)}`);
  assert.ok(Math.abs(moved.y - 150) < 60, `kept near where it was dropped: ${JSON.stringify(moved)}`);
  const other = await browser.context.newPage();
  await other.goto(url('megacorp.test'));
  const frame2 = await overlayFrame(other, browser.extensionId);
  await frame2.getByTestId('lens-pill').waitFor();
  const there = await overlayBox(other, frame2);
  assert.ok(there.x < 100 && Math.abs(there.y - moved.y) < 5, `remembered: ${JSON.stringify(there)}`);
  // Put it back on the right for the other tests, as the user would: drag it there.
  await other.mouse.move(there.x - 5, there.y + there.height / 2);
  await other.mouse.down();
  await other.mouse.move(900, 600, { steps: 8 });
  await other.mouse.up();
  await other.waitForTimeout(300);
  assert.ok((await overlayBox(other, frame2)).x > 600, 'back on the right');
  await page.close();
  await other.close();
});

test('the badge says whether the site is known, and the popup shows the same card', async () => {
  const page = await browser.context.newPage();
  await page.goto(url('globex.test'));
  const knownFrame = await overlayFrame(page, browser.extensionId);
  await knownFrame.getByTestId('lens-pill').filter({ hasText: 'In Affinity ·' }).waitFor();
  assert.equal(await badgeOf(page), '✓');
  const unknown = await browser.context.newPage();
  await unknown.goto(url('brand-new-co.test'));
  const unknownFrame = await overlayFrame(unknown, browser.extensionId);
  await unknownFrame.getByTestId('lens-pill').filter({ hasText: 'Not in Affinity' }).waitFor();
  assert.equal(await badgeOf(unknown), '');
  // The page can measure the overlay's iframe: the pill has one size whatever it says.
  await page.waitForTimeout(300);
  const [a, b] = [await overlayBox(page, knownFrame), await overlayBox(unknown, unknownFrame)];
  assert.deepEqual([a.width, a.height], [b.width, b.height], 'the pill tells the page nothing by its size');
  await unknown.close();

  const tabId = await browser.worker.evaluate(async (u) => (await chrome.tabs.query({ url: `${u}*` }))[0].id, url('globex.test'));
  const popup = await browser.context.newPage();
  await popup.goto(`chrome-extension://${browser.extensionId}/popup.html?tab=${tabId}`);
  await popup.getByTestId('lens-entity-name').filter({ hasText: 'Globex' }).waitFor();
  assert.equal(await popup.getByTestId('lens-status').textContent(), 'In Affinity');
  assert.equal(await popup.getByTestId('lens-pill').count(), 0, 'the popup shows the card, not the pill');

  // Pause the site from the popup: the next visit shows no overlay, and the popup says paused.
  await popup.getByTestId('popup-pause').click();
  await popup.getByTestId('popup-pause').filter({ hasText: 'Resume on globex.test' }).waitFor();
  await page.reload();
  await page.waitForTimeout(1500);
  assert.equal(await page.evaluate(() => !!document.querySelector('affinity-lens-overlay')), false, 'no overlay on a paused site');
  await popup.reload();
  await popup.getByTestId('lens-status').filter({ hasText: 'Not looked up' }).waitFor();
  await popup.getByTestId('popup-pause').click();
  await popup.getByTestId('popup-pause').filter({ hasText: 'Pause on globex.test' }).waitFor();
  await page.reload();
  await overlayFrame(page, browser.extensionId);
  await popup.close();
  await page.close();
});

test('options: test connection names the user and firm, the budget is shown, sites can be skipped, the overlay turned off', async () => {
  const options = await browser.context.newPage();
  await options.goto(`chrome-extension://${browser.extensionId}/options.html`);
  await options.getByTestId('test-connection').click();
  await options.getByTestId('test-status').filter({ hasText: 'Connected as Alice Doe' }).waitFor();
  assert.match(await options.getByTestId('test-status').textContent(), /Sandbox Ventures/);
  await options.getByTestId('usage').filter({ hasText: 'This month' }).waitFor();
  assert.match(await options.getByTestId('usage').textContent(), /This month: [\d,]+ (of [\d,]+ requests used|requests)/);
  // A wrong key is reported, and not saved by testing.
  await options.getByTestId('api-key').fill('not-the-key');
  await options.getByTestId('test-connection').click();
  await options.getByTestId('test-status').filter({ hasText: 'Could not connect' }).waitFor();
  await options.getByTestId('api-key').fill(sandbox.key);

  // Never look up initech.test; no overlay on pages at all (the badge still works).
  await options.getByTestId('ignored-sites').fill('initech.test');
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  const page = await browser.context.newPage();
  await page.goto(url('initech.test'));
  await page.waitForTimeout(1500);
  assert.equal(await page.evaluate(() => !!document.querySelector('affinity-lens-overlay')), false, 'an ignored site gets no overlay');
  await options.getByTestId('ignored-sites').fill('');
  await options.getByTestId('overlay-enabled').uncheck();
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  await page.goto(url('twice.test'));
  await page.waitForFunction(() => document.readyState === 'complete');
  const deadline = Date.now() + 10000;
  while ((await badgeOf(page)) !== '✓' && Date.now() < deadline) await page.waitForTimeout(100);
  assert.equal(await badgeOf(page), '✓', 'the badge still tells');
  assert.equal(await page.evaluate(() => !!document.querySelector('affinity-lens-overlay')), false, 'no overlay when turned off');
  await options.getByTestId('overlay-enabled').check();
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  // The key is only in extension storage, never in sync storage.
  const sync = await browser.worker.evaluate(() => chrome.storage.sync.get(null));
  assert.deepEqual(sync, {});
  await page.close();
  await options.close();
});

test('writes from the card: create the organization, add it to a list, set its Status, add a note; a retry adds nothing', async () => {
  const page = await browser.context.newPage();
  await page.goto(url('brand-new-co.test'));
  let frame = await openCard(page, browser.extensionId);
  await frame.getByTestId('lens-status').filter({ hasText: 'Not in Affinity' }).waitFor();
  // Create (the form opens on a click): the name is offered from the domain.
  const create = frame.getByTestId('lens-create');
  await create.click();
  assert.equal(await create.getByLabel('Organization name').inputValue(), 'Brand New Co');
  assert.equal(await create.getByLabel('Domain').inputValue(), 'brand-new-co.test');
  await page.waitForTimeout(STEADY);
  await create.getByRole('button', { name: 'Create organization' }).click();
  await frame.getByTestId('lens-notice').filter({ hasText: 'Brand New Co was added to Affinity.' }).waitFor();
  await frame.getByTestId('lens-status').filter({ hasText: 'In Affinity' }).waitFor();
  const found = await affinity('/organizations?term=brand-new-co.test');
  assert.equal(found.organizations.length, 1);
  const orgId = found.organizations[0].id;

  // Add to the Deal Pipeline (pick the list).
  await frame.getByTestId('lens-add-to-list').click();
  await frame.getByTestId('lens-add-to-list').getByRole('combobox').selectOption({ label: 'Deal Pipeline' });
  await page.waitForTimeout(STEADY);
  await frame.getByTestId('lens-add-to-list').getByRole('button', { name: 'Add' }).click();
  await frame.getByTestId('lens-notice').filter({ hasText: 'Added to Deal Pipeline.' }).waitFor();
  await frame.getByTestId('lens-list-entry').filter({ hasText: 'Deal Pipeline' }).waitFor();
  // Again (a retry): nothing new.
  await frame.getByTestId('lens-add-to-list').click();
  await frame.getByTestId('lens-add-to-list').getByRole('combobox').selectOption({ label: 'Deal Pipeline (already on it)' });
  await page.waitForTimeout(STEADY);
  await frame.getByTestId('lens-add-to-list').getByRole('button', { name: 'Add' }).click();
  await frame.getByTestId('lens-notice').filter({ hasText: 'Already on Deal Pipeline.' }).waitFor();
  const org = await affinity(`/organizations/${orgId}`);
  assert.equal(org.list_entries.filter((e) => e.list_id === 10).length, 1, 'one entry on the pipeline');
  const entryId = org.list_entries.find((e) => e.list_id === 10).id;

  // Set its Status.
  const lists = await affinity('/lists/10');
  const status = lists.fields.find((f) => f.name === 'Status');
  const option = status.dropdown_options[1];
  await page.waitForTimeout(STEADY);
  await frame.getByTestId('lens-set-status').first().selectOption({ label: option.text });
  await frame.getByTestId('lens-notice').filter({ hasText: `Status set to ${option.text}.` }).waitFor();
  await frame.getByTestId('lens-list-status').filter({ hasText: option.text }).waitFor();
  const values = await affinity(`/field-values?list_entry_id=${entryId}`);
  assert.deepEqual(values.filter((v) => v.field_id === status.id).map((v) => v.value.text), [option.text]);

  // A note, then the same note again (a retry): one note.
  await frame.getByTestId('lens-add-note').click();
  await frame.getByTestId('lens-add-note').getByRole('textbox').fill('Met the founders at demo day.');
  await page.waitForTimeout(STEADY);
  await frame.getByTestId('lens-add-note').getByRole('button', { name: 'Save note' }).click();
  await frame.getByTestId('lens-notice').filter({ hasText: 'Note added.' }).waitFor();
  await frame.getByTestId('lens-add-note').click();
  await frame.getByTestId('lens-add-note').getByRole('textbox').fill('Met the founders at demo day.');
  await page.waitForTimeout(STEADY);
  await frame.getByTestId('lens-add-note').getByRole('button', { name: 'Save note' }).click();
  await frame.getByTestId('lens-notice').filter({ hasText: 'already added' }).waitFor();
  const notes = await affinity(`/notes?organization_id=${orgId}`);
  assert.deepEqual(notes.notes.map((n) => n.content), ['Met the founders at demo day.']);
  await page.close();
});

test('a write that fails says so clearly', async () => {
  await setFaults(sandbox, { endpoints: { '/notes': { status: 403 } } });
  try {
    const page = await browser.context.newPage();
    await page.goto(url('acme.test'));
    const frame = await openCard(page, browser.extensionId);
    await frame.getByTestId('lens-add-note').click();
    await frame.getByTestId('lens-add-note').getByRole('textbox').fill('This will not go through.');
    await page.waitForTimeout(STEADY);
    await frame.getByTestId('lens-add-note').getByRole('button', { name: 'Save note' }).click();
    await frame.getByTestId('lens-notice').filter({ hasText: 'Not done' }).waitFor();
    assert.match(await frame.getByTestId('lens-notice').textContent(), /403/);
    await page.close();
  } finally {
    await setFaults(sandbox, {});
  }
});

test('an ambiguous domain offers the candidates, and picking one shows its card', async () => {
  const page = await browser.context.newPage();
  await page.goto(url('shared.test'));
  const frame = await openCard(page, browser.extensionId);
  await frame.getByTestId('lens-status').filter({ hasText: 'Several matches' }).waitFor();
  assert.equal(await frame.getByTestId('lens-candidate').count(), 2);
  await frame.getByRole('button', { name: 'Show Shared Domain Two' }).click();
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Shared Domain Two' }).waitFor();
  assert.equal(await frame.getByTestId('lens-status').textContent(), 'In Affinity');
  await page.close();
});
