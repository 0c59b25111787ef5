// What a hostile page can try against the overlay it hosts: fade it or cover it with its
// own element and have the user click where the card's buttons are (clickjacking), or
// measure the opened card to learn what the firm knows. Chromium tells the frame whether
// it is visible and unobscured (IntersectionObserver v2): writes are off while it is not.
// A visible card the page moves under the pointer (double-clickjacking) holds the click:
// a write's click counts once the pointer, the frame and the button have been still for
// 500 ms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useExtension, openCard, overlayFrame, STEADY } from './harness.mjs';

const env = useExtension(['acme.test', 'globex.test', 'unknown-startup.test', 'hidden-co.test', 'covered-co.test', 'moved-co.test']);
const url = (host) => `http://${host}:${env.site.port}/`;

/** GET from the sandbox with the test's key. */
async function affinity(path) {
  const res = await fetch(`${env.sandbox.url}${path}`, { headers: { authorization: `Bearer ${env.sandbox.key}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

/** Clicks the page where `locator` (in the overlay frame) is, as a user fooled by the page would. */
async function clickWhere(page, locator) {
  const box = await locator.boundingBox();
  assert.ok(box, 'the element has a box');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

/** The page (its own script) covers the overlay with an element that lets clicks through. */
function coverOverlay(page) {
  return page.evaluate(() => {
    const host = document.querySelector('affinity-lens-overlay');
    const box = host.getBoundingClientRect();
    const cover = document.createElement('div');
    cover.textContent = 'Win a prize: click here!';
    cover.style.cssText = `position: fixed; left: ${box.left}px; top: ${box.top}px; width: ${box.width}px; height: ${box.height}px;`
      + 'z-index: 2147483647; pointer-events: none; background: #ffd; font: 20px sans-serif;';
    // Last in the document, after the Lens's hosts (which follow the body): on top of them
    // at the same z-index.
    document.documentElement.append(cover);
  });
}

/** The page fades the overlay's host element, which it owns. */
function fadeOverlay(page) {
  return page.addStyleTag({ content: 'affinity-lens-overlay { opacity: 0 !important; }' });
}

for (const [how, hide, host] of [['fades', fadeOverlay, 'hidden-co.test'], ['covers', coverOverlay, 'covered-co.test']]) {
  test(`a page that ${how} the overlay gets no write by clicking where the buttons are`, async () => {
    const page = await env.browser.context.newPage();
    await page.goto(url(host));
    const frame = await openCard(page, env.browser.extensionId);
    await frame.getByTestId('lens-status').filter({ hasText: 'Not in Affinity' }).waitFor();
    // Visible: writes are on.
    await frame.getByTestId('lens-create').locator('summary').click();
    const submit = frame.getByRole('button', { name: 'Create organization' });
    await page.waitForFunction(() => true);
    assert.equal(await submit.isEnabled(), true, 'a visible card can write');
    assert.equal(await frame.getByTestId('lens-writes-off').count(), 0);

    await hide(page);
    // The browser reports visibility at most every 100 ms: the user clicks a moment later.
    await page.waitForTimeout(600);
    await clickWhere(page, submit);
    await clickWhere(page, submit);
    await page.waitForTimeout(1000);
    const found = await affinity(`/organizations?term=${host}`);
    assert.equal(found.organizations.length, 0, 'nothing was created');
    assert.equal(await frame.getByTestId('lens-notice').count(), 0, 'no write was even attempted');
    // And the card says why.
    await frame.getByTestId('lens-writes-off').waitFor({ timeout: 1000 });
    await page.close();
  });
}

test('a write goes through again once the page stops covering the card', async () => {
  const page = await env.browser.context.newPage();
  await page.goto(url('acme.test'));
  const frame = await openCard(page, env.browser.extensionId);
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  const style = await fadeOverlay(page);
  await frame.getByTestId('lens-writes-off').waitFor();
  await style.evaluate((s) => s.remove());
  await frame.getByTestId('lens-writes-off').waitFor({ state: 'detached' });
  await frame.getByTestId('lens-add-note').locator('summary').click();
  await frame.getByTestId('lens-add-note').getByRole('textbox').fill('Seen on the site, unfaded.');
  await page.waitForTimeout(STEADY);
  await frame.getByTestId('lens-add-note').getByRole('button', { name: 'Save note' }).click();
  await frame.getByTestId('lens-notice').filter({ hasText: 'Note added.' }).waitFor();
  await page.close();
});

test('a visible card the page moves under the pointer holds the click; the same click after 600 ms of stillness writes', async () => {
  const host = 'moved-co.test';
  const page = await env.browser.context.newPage();
  await page.goto(url(host));
  const frame = await openCard(page, env.browser.extensionId);
  await frame.getByTestId('lens-status').filter({ hasText: 'Not in Affinity' }).waitFor();
  await frame.getByTestId('lens-create').locator('summary').click();
  const submit = frame.getByRole('button', { name: 'Create organization' });
  await submit.waitFor();
  // The page's game: "double-click to claim", away from the card, at the height of its
  // submit button. On the first mousedown it moves the (visible) overlay so that the button
  // is under the pointer.
  const box = await submit.boundingBox();
  const hostBox = await page.evaluate(() => {
    const r = document.querySelector('affinity-lens-overlay').getBoundingClientRect();
    return { x: r.left, y: r.top };
  });
  const at = { x: 200, y: box.y + box.height / 2 };
  assert.ok(hostBox.x > at.x + 100, 'the card starts away from the decoy');
  await page.evaluate(({ at, left }) => {
    const decoy = document.createElement('button');
    decoy.textContent = 'Double-click to claim your prize';
    decoy.style.cssText = `position: fixed; left: ${at.x - 100}px; top: ${at.y - 20}px; width: 200px; height: 40px;`;
    document.body.append(decoy);
    document.addEventListener('mousedown', () => {
      const overlay = document.querySelector('affinity-lens-overlay');
      overlay.style.setProperty('left', `${left}px`, 'important');
      overlay.style.setProperty('right', 'auto', 'important');
    }, { once: true });
  }, { at, left: at.x - (box.x + box.width / 2 - hostBox.x) });
  await page.mouse.move(at.x, at.y);
  await page.waitForTimeout(STEADY);
  const found = async () => (await affinity(`/organizations?term=${host}`)).organizations.length;

  // The double click: the second click lands on the moved card's button at once.
  const cdp = await page.context().newCDPSession(page);
  const press = (type) => cdp.send('Input.dispatchMouseEvent', { type, x: at.x, y: at.y, button: 'left', clickCount: 1 });
  const t0 = Date.now();
  await press('mousePressed');
  await press('mouseReleased');
  // One frame for the browser to route the pointer to the moved frame.
  await page.waitForTimeout(20);
  await press('mousePressed');
  await press('mouseReleased');
  const within = Date.now() - t0;
  assert.ok(within < 60, `the second click came ${within} ms after the first`);
  // The card says it held the click (and not that a write is under way).
  const notice = frame.getByTestId('lens-notice');
  await notice.filter({ hasText: 'Hold on: the card just appeared or moved; click again.' }).waitFor({ timeout: 2000 });
  await page.waitForTimeout(500);
  assert.equal(await found(), 0, 'nothing was created');
  assert.equal(await notice.textContent(), 'Hold on: the card just appeared or moved; click again.', 'no write was attempted');

  // The pointer stays on the button: after 600 ms of stillness the same click writes.
  await page.waitForTimeout(STEADY);
  await press('mousePressed');
  await press('mouseReleased');
  await notice.filter({ hasText: 'Moved Co was added to Affinity.' }).waitFor();
  assert.equal(await found(), 1);
  await cdp.detach();
  await page.close();
});

test('the list picker starts on no list: a click on Add adds nothing', async () => {
  const page = await env.browser.context.newPage();
  await page.goto(url('globex.test'));
  const frame = await openCard(page, env.browser.extensionId);
  await frame.getByTestId('lens-entity-name').filter({ hasText: 'Globex' }).waitFor();
  const form = frame.getByTestId('lens-add-to-list');
  await form.locator('summary').click();
  const picker = form.getByRole('combobox');
  await picker.locator('option', { hasText: 'Deal Pipeline' }).first().waitFor({ state: 'attached' });
  assert.equal(await picker.inputValue(), '', 'no list is chosen');
  const before = (await affinity('/organizations?term=globex.test')).organizations[0];
  const entriesBefore = (await affinity(`/organizations/${before.id}`)).list_entries.length;
  await form.getByRole('button', { name: 'Add' }).click();
  await page.waitForTimeout(800);
  assert.equal((await affinity(`/organizations/${before.id}`)).list_entries.length, entriesBefore);
  assert.equal(await frame.getByTestId('lens-notice').count(), 0);
  await page.close();
});

test('the opened card has one size whatever it holds', async () => {
  const sizes = [];
  for (const host of ['acme.test', 'unknown-startup.test']) {
    const page = await env.browser.context.newPage();
    await page.goto(url(host));
    const frame = await openCard(page, env.browser.extensionId);
    await frame.getByTestId('lens-status').filter({ hasText: host === 'acme.test' ? 'In Affinity' : 'Not in Affinity' }).waitFor();
    await frame.getByTestId('lens-list-entry').first().waitFor({ timeout: host === 'acme.test' ? 15000 : 1 }).catch(() => {});
    await page.waitForTimeout(500);
    const box = await (await frame.frameElement()).boundingBox();
    sizes.push([box.width, box.height]);
    // And the page cannot read the card's own size through the frame: it is another origin.
    const readable = await page.evaluate(() => {
      try {
        return document.querySelector('affinity-lens-overlay').shadowRoot?.querySelector('iframe')?.contentDocument?.body.scrollHeight ?? null;
      } catch {
        return null;
      }
    });
    assert.equal(readable, null);
    await page.close();
  }
  assert.deepEqual(sizes[0], sizes[1], `the known and the unknown company's cards: ${JSON.stringify(sizes)}`);
  assert.ok(sizes[0][1] > 300, 'it is the card, not the pill');
  // The overlay frame of a new page starts as the pill again.
  const page = await env.browser.context.newPage();
  await page.goto(url('acme.test'));
  const frame = await overlayFrame(page, env.browser.extensionId);
  await frame.getByTestId('lens-pill').waitFor();
  await page.close();
});
