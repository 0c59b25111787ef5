// The Lens in Gmail in headless Firefox (ESR, geckodriver; issue #22), on the Gmail-like app
// of tests/site/gmail served as https://mail.google.com: an open thread's card lists its two
// external participants with the right organization, and another thread opened inside the
// app (no reload) shows its own; the inbox list badges the senders of known companies
// (read through the badges' closed shadow root), with no Affinity call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { firefoxDist, startSandbox, startGmail, settledUsage, sandboxStatus } from './harness.mjs';
import { waitFor, webdriver } from './webdriver.mjs';

const ADDON_ID = 'affinity-lens@affinity-lens.dev';
const ADDON_UUID = '6f1d3c2e-8a4b-4c1d-9e2f-3a5b7c9d1e0f';
const THREAD_1 = 'FMfcgzQZTkHvcRqBjLmWsXpNdKfGtBnS';
const THREAD_2 = 'FMfcgzQZTlDmWqJcXrNvBsKhGpLtMzFd';

let sandbox, gmail, driver;
const at = { base: '', session: null };
const { wd, s, textOf, clickPill, startFirefox, saveKey, badges } = webdriver(at, ADDON_UUID);

before(async () => {
  sandbox = await startSandbox();
  gmail = await startGmail();
  driver = await startFirefox({ hosts: ['mail.google.com'], extension: firefoxDist, addonId: ADDON_ID, acceptInsecureCerts: true });
  await saveKey(sandbox);
  await waitFor('the synced index', async () => /^Index: [1-9]/.test(await textOf('[data-testid="index-status"]')), 60000);
});

after(async () => {
  if (at.session) await wd('DELETE', s('')).catch(() => {});
  driver?.kill('SIGTERM');
  await gmail?.stop();
  sandbox?.stop();
});

/** In the overlay frame: waits for the pill to match `pattern`, opens the card, reads its participants. */
async function threadCard(pattern) {
  await clickPill(pattern, async () => {
    await wd('POST', s('/frame'), { id: null });
    await wd('POST', s('/frame'), { id: 0 });
  });
  const people = await waitFor('the participants', async () => {
    const got = await wd('POST', s('/execute/sync'), {
      script: 'return [...document.querySelectorAll(\'[data-testid="lens-thread-person"]\')].map((el) => [el.dataset.email, el.dataset.known, el.querySelector(\'[data-testid="lens-thread-organization"]\')?.dataset.domain ?? "", el.querySelector(\'[data-testid="lens-list-status"]\')?.textContent ?? ""]);',
      args: [],
    });
    return got.length ? got : null;
  });
  await wd('POST', s('/frame'), { id: null });
  return people;
}

/** Acme's Status on the Deal Pipeline, as the sandbox holds it. */
const acmeStatus = () => sandboxStatus(sandbox, 'acme.test', 'Deal Pipeline');

test('Firefox: a thread shows its two external participants; another thread, opened without a reload, its own', async () => {
  await wd('POST', s('/url'), { url: `${gmail.origin}/mail/u/0/#inbox/${THREAD_1}` });
  const status = await acmeStatus();
  assert.deepEqual(await threadCard(new RegExp(`^2 people · 1 in Affinity · Acme Corporation: ${status}$`)), [
    ['bob.smith@acme.test', 'In Affinity', 'acme.test', status],
    ['jordan@bankerly.test', 'Not in Affinity', '', ''],
  ]);
  const loads = gmail.requests.filter((p) => p.startsWith('/mail/')).length;
  await wd('POST', s('/execute/sync'), { script: 'location.hash = arguments[0];', args: [`#inbox/${THREAD_2}`] });
  const second = await threadCard(/^2 people · 1 in Affinity · Globex/);
  assert.deepEqual(second.map((p) => p.slice(0, 3)), [
    ['alex.morgan@globex.test', 'In Affinity', 'globex.test'],
    ['sam.rivera@gmail.com', 'Not in Affinity', ''],
  ]);
  assert.equal(gmail.requests.filter((p) => p.startsWith('/mail/')).length, loads, 'the app did not reload');
});

test('Firefox: the inbox list badges Bob (Acme) and Alex (Globex), with no Affinity call', async () => {
  const start = await settledUsage(sandbox);
  await wd('POST', s('/url'), { url: `${gmail.origin}/mail/u/0/#inbox` });
  const domains = await waitFor('the badges', async () => {
    const got = (await badges()).map((b) => b.domain);
    return got.length >= 2 ? got.sort() : null;
  });
  assert.deepEqual(domains, ['acme.test', 'globex.test']);
  assert.equal((await settledUsage(sandbox)) - start, 0);
});
