// The opened card's notes, firmographics, "Ask for an intro" and every field of a list
// entry, edited in place from the overlay in headless Chromium; each write read back from
// the sandbox. The last test swaps the key for a read-only one: values, no controls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { root, useExtension, openCard, settledUsage, STEADY } from './harness.mjs';

const RO_KEY = 'e2e-read-only-key';
const env = useExtension(['acme.test'], ['--read-only-key', RO_KEY]);
const url = () => `http://acme.test:${env.site.port}/`;

/** GET from the sandbox with the test's key, as Affinity would answer. */
async function affinity(path, key = env.sandbox.key) {
  const res = await fetch(`${env.sandbox.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}
const requests = async () => (await affinity('/_sandbox/requests')).requests;

/** Acme, its Deal Pipeline entry and that list's fields, as the sandbox has them. */
async function acmeDeal() {
  const acme = (await affinity('/organizations?term=acme.test')).organizations.find((o) => o.domains.includes('acme.test'));
  const lists = await affinity('/lists');
  const pipeline = lists.find((l) => l.name === 'Deal Pipeline');
  const org = await affinity(`/organizations/${acme.id}`);
  const entry = org.list_entries.find((e) => e.list_id === pipeline.id);
  const fields = await affinity(`/fields?list_id=${pipeline.id}`);
  const values = async (name) => {
    const field = fields.find((f) => f.name === name);
    return (await affinity(`/field-values?list_entry_id=${entry.id}`)).filter((v) => v.field_id === field.id).map((v) => v.value);
  };
  return { acme, pipeline, entry, fields, values };
}

/** A field's row in the card's Deal Pipeline entry. */
const fieldRow = (frame, name) =>
  frame.getByTestId('lens-list-entry').filter({ hasText: 'Deal Pipeline' }).locator(`[data-testid="lens-field"][data-field="${name}"]`);

/** Waits for the notice a write ends with. */
async function notice(frame, text) {
  await frame.getByTestId('lens-notice').filter({ hasText: text }).waitFor();
}

/** Saves with a double click, as a hurried user does, once the card has stood still. */
async function saveTwice(frame, row) {
  await frame.page().waitForTimeout(STEADY);
  await row.getByTestId('lens-field-save').dblclick();
}

test('the opened card shows the three latest notes as text, the firmographics and an intro draft per connection', async () => {
  const page = await env.browser.context.newPage();
  await page.goto(url());
  const frame = await openCard(page, env.browser.extensionId);
  const { acme } = await acmeDeal();

  // Notes: the three most recent, newest first; markup in a note is text.
  await frame.getByTestId('lens-note').first().waitFor();
  const notes = (await affinity(`/notes?organization_id=${acme.id}`)).notes
    .sort((a, b) => b.created_at.localeCompare(a.created_at))
    .slice(0, 3);
  const shown = await frame.getByTestId('lens-note-text').allTextContents();
  // An HTML note (type 2) is shown as its text, a paragraph a line; a text note as written.
  const asText = (n) => (n.type === 2
    ? n.content.replace(/<\/p>\s*<p>/g, '\n').replace(/<[^>]*>/g, '').replaceAll('&amp;', '&').trim()
    : n.content);
  assert.deepEqual(shown, notes.map(asText));
  assert.ok(shown.some((t) => t.includes('<b>Not HTML</b>')), 'the seeded note with markup is among them');
  assert.equal(await frame.locator('[data-testid="lens-note-text"] b').count(), 0, 'markup is never rendered');
  assert.match(await frame.getByTestId('lens-notes-all').getAttribute('href'), /^https:\/\/[a-z0-9-]+\.affinity\.co\/companies\/\d+$/);

  // Firmographics: the sandbox's enriched values, amounts in the browser's locale.
  const enriched = await affinity(`/v2/companies/${acme.id}?fieldTypes=enriched`);
  const data = (id) => enriched.fields.find((f) => f.id === `affinity-data-${id}`)?.value?.data;
  const [usd, num] = await frame.evaluate(([a, b, c, d]) => {
    const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', notation: 'compact', maximumFractionDigits: 1 });
    const plain = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
    return [[money.format(a), money.format(b)], [plain.format(c), d]];
  }, [data('total-funding-amount'), data('last-funding-amount'), data('number-of-employees'), 0]);
  const loc = data('location');
  const expected = [
    data('industry').join(', '),
    `${num[0]} employees`,
    `${usd[0]} raised`,
    `last round ${data('investment-stage')}, ${usd[1]}, ${data('last-funding-date').slice(0, 10)}`,
    [loc.city, loc.state, loc.country].join(', '),
    `founded ${data('year-founded')}`,
  ].join(' · ');
  assert.equal(await frame.getByTestId('lens-firmographics').textContent(), expected);

  // "Ask for an intro": a draft to the colleague, naming the contact, the company and the relationship.
  const rows = frame.getByTestId('lens-connection');
  const count = await rows.count();
  assert.ok(count >= 2);
  assert.equal(await frame.getByTestId('lens-intro').count(), count, 'one beside each connection');
  const href = await frame.getByTestId('lens-intro').first().getAttribute('href');
  const [address, query] = href.replace(/^mailto:/, '').split('?');
  const params = Object.fromEntries(query.split('&').map((p) => p.split('=').map(decodeURIComponent)));
  const alice = (await affinity('/persons?term=Alice')).persons.find((p) => p.first_name === 'Alice');
  assert.equal(address, alice.primary_email);
  assert.equal(params.subject, 'Intro to Bob Smith at Acme Corporation?');
  assert.equal(
    params.body,
    'Hi Alice, could you introduce me to Bob Smith at Acme Corporation?\r\nAffinity shows you know Bob Smith best on the team (strong, 0.82).',
  );
  assert.equal(await frame.getByTestId('lens-intro').first().getAttribute('target'), '_blank');

  // The card keeps its size; its content scrolls. A screenshot for the docs.
  const box = await (await frame.frameElement()).boundingBox();
  assert.deepEqual([box.width, box.height], [384, 560]);
  const scrolls = await frame.evaluate(() => {
    const card = document.querySelector('[data-testid="lens-card"]');
    return card.scrollHeight > card.clientHeight && getComputedStyle(card).overflowY === 'auto';
  });
  assert.ok(scrolls, 'the card is taller than its frame and scrolls');
  // The first entry's fields are open, the others' folded under their summary.
  const folded = await frame.getByTestId('lens-fields').evaluateAll((all) => all.map((d) => d.open));
  assert.deepEqual(folded, folded.map((_, i) => i === 0));
  // The screenshot: the Deal Pipeline's last fields and, below, the notes.
  await frame.evaluate(() => document.querySelector('[data-field="Close Date"]').scrollIntoView({ block: 'start' }));
  await (await frame.frameElement()).screenshot({ path: join(root, 'docs', 'card-fields.png') });
  await page.close();
});

test('every field type is edited in place; a double click and a retried request write once; "abc" is refused with no call', async () => {
  const page = await env.browser.context.newPage();
  await page.goto(url());
  const frame = await openCard(page, env.browser.extensionId);
  const deal = await acmeDeal();
  await fieldRow(frame, 'Amount').waitFor();

  // A number field refuses "abc" in the card, before any call.
  const amount = fieldRow(frame, 'Amount');
  await amount.getByTestId('lens-field-edit').click();
  await amount.getByTestId('lens-field-input').fill('abc');
  await settledUsage(env.sandbox);
  const before = (await requests()).length;
  await saveTwice(frame, amount);
  await amount.getByTestId('lens-field-error').filter({ hasText: 'Amount takes a number' }).waitFor();
  await page.waitForTimeout(700);
  assert.deepEqual((await requests()).slice(before), [], 'no request for a refused value');

  // Number.
  await amount.getByTestId('lens-field-input').fill('8,000,000');
  await saveTwice(frame, amount);
  await notice(frame, 'Amount set to');
  await amount.getByTestId('lens-field-value').filter({ hasText: /8.000.000/ }).waitFor();
  assert.deepEqual(await deal.values('Amount'), [8000000]);

  // A retried request (the same message again, as a lost answer's retry sends it): nothing new.
  const token = new URL(frame.url()).hash.match(/[#&]t=([0-9a-f]{32})/)[1];
  const field = (name) => deal.fields.find((f) => f.name === name).id;
  const retry = (action) =>
    frame.evaluate(([t, target, a]) => chrome.runtime.sendMessage({ type: 'lens:act', token: t, target, action: a }), [
      token,
      { kind: 'organization', id: deal.acme.id },
      { action: 'set_field', list_id: deal.pipeline.id, entry_id: deal.entry.id, ...action },
    ]);
  const again = await retry({ field_id: field('Amount'), op: 'set', value: { type: 'number', number: 8000000 }, label: '8,000,000' });
  assert.equal(again.ok, true, JSON.stringify(again));
  assert.equal(again.changed, false, JSON.stringify(again));
  assert.deepEqual(await deal.values('Amount'), [8000000]);

  // Dropdown and ranked dropdown.
  for (const [name, option] of [['Source', 'Inbound'], ['Priority', 'Low']]) {
    const row = fieldRow(frame, name);
    await row.getByTestId('lens-field-edit').click();
    await row.getByTestId('lens-field-select').selectOption({ label: option });
    await saveTwice(frame, row);
    await notice(frame, `${name} set to ${option}.`);
    await row.getByTestId('lens-field-value').filter({ hasText: option }).waitFor();
    const values = await deal.values(name);
    assert.deepEqual(values.map((v) => (typeof v === 'string' ? v : v.text)), [option], name);
  }

  // Multi-valued dropdown: add one, then remove one; a retried add adds nothing.
  const sectors = fieldRow(frame, 'Sectors');
  await sectors.getByTestId('lens-field-add').click();
  await sectors.getByTestId('lens-field-select').selectOption({ label: 'Climate' });
  await saveTwice(frame, sectors);
  await notice(frame, 'Added Climate to Sectors.');
  await sectors.getByTestId('lens-field-value').filter({ hasText: 'Climate' }).waitFor();
  const climate = deal.fields.find((f) => f.name === 'Sectors').dropdown_options.find((o) => o.text === 'Climate');
  const retried = await retry({ field_id: field('Sectors'), op: 'add', value: { type: 'option', id: climate.id }, label: 'Climate' });
  assert.equal(retried.changed, false, JSON.stringify(retried));
  const texts = async () => (await deal.values('Sectors')).map((v) => (typeof v === 'string' ? v : v.text)).sort();
  assert.deepEqual(await texts(), ['AI', 'Climate', 'Developer Tools']);
  await page.waitForTimeout(STEADY);
  await sectors.getByRole('button', { name: 'Remove AI from Sectors' }).dblclick();
  await notice(frame, 'Removed AI from Sectors.');
  assert.deepEqual(await texts(), ['Climate', 'Developer Tools']);

  // Text and date.
  for (const [name, value, want] of [['Next Step', 'Term sheet by Friday', 'Term sheet by Friday'], ['Close Date', '2027-03-01', '2027-03-01']]) {
    const row = fieldRow(frame, name);
    await row.getByTestId('lens-field-edit').click();
    await row.getByTestId('lens-field-input').fill(value);
    await saveTwice(frame, row);
    await notice(frame, `${name} `);
    await row.getByTestId('lens-field-value').filter({ hasText: want }).waitFor();
    const values = await deal.values(name);
    assert.equal(values.length, 1, `${name}: ${JSON.stringify(values)}`);
    assert.ok(String(values[0]).startsWith(want), `${name}: ${JSON.stringify(values)}`);
  }

  // People: a colleague added to the Owners.
  const owners = fieldRow(frame, 'Owners');
  await owners.getByTestId('lens-field-add').click();
  await owners.getByTestId('lens-field-select').selectOption({ label: 'Mei Chen' });
  await saveTwice(frame, owners);
  await notice(frame, 'Added Mei Chen to Owners.');
  const mei = (await affinity('/persons?term=Mei')).persons.find((p) => p.first_name === 'Mei');
  assert.equal((await deal.values('Owners')).filter((id) => id === mei.id).length, 1);

  // Organizations: found in the firm's index by name (no call), added to the Co-investors.
  const co = fieldRow(frame, 'Co-investors');
  await co.getByTestId('lens-field-add').click();
  await settledUsage(env.sandbox);
  const beforeFind = (await requests()).length;
  await co.getByTestId('lens-field-find').fill('Initech');
  const pick = co.getByTestId('lens-field-company').filter({ hasText: 'Initech' }).first();
  await pick.waitFor();
  assert.deepEqual((await requests()).slice(beforeFind), [], 'the picker asks the index, not Affinity');
  const initech = (await affinity('/organizations?term=initech.test')).organizations[0];
  await page.waitForTimeout(STEADY);
  await pick.dblclick();
  await notice(frame, 'Added Initech');
  assert.equal((await deal.values('Co-investors')).filter((id) => id === initech.id).length, 1);

  // A note written from the card is at the top of its notes at once.
  await frame.getByTestId('lens-add-note').click();
  await frame.getByTestId('lens-add-note').getByRole('textbox').fill('Term sheet sent <i>today</i>.');
  await page.waitForTimeout(STEADY);
  await frame.getByTestId('lens-add-note').getByRole('button', { name: 'Save note' }).click();
  await notice(frame, 'Note added.');
  await frame.getByTestId('lens-note-text').first().filter({ hasText: 'Term sheet sent <i>today</i>.' }).waitFor();
  assert.equal(await frame.getByTestId('lens-note').count(), 3);
  await page.close();
});

test('a read-only key shows every value and no control', async () => {
  const options = await env.browser.context.newPage();
  await options.goto(`chrome-extension://${env.browser.extensionId}/options.html`);
  await options.getByTestId('api-key').fill(RO_KEY);
  await options.getByTestId('save').click();
  await options.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  await options.close();
  const page = await env.browser.context.newPage();
  await page.goto(url());
  const frame = await openCard(page, env.browser.extensionId);
  await fieldRow(frame, 'Amount').waitFor();
  assert.ok((await frame.getByTestId('lens-field').count()) >= 8);
  assert.equal(await fieldRow(frame, 'Next Step').getByTestId('lens-field-value').textContent(), 'Term sheet by Friday');
  for (const control of ['lens-field-edit', 'lens-field-add', 'lens-field-remove', 'lens-set-status']) {
    assert.equal(await frame.getByTestId(control).count(), 0, `${control} with a read-only key`);
  }
  await page.close();
});
