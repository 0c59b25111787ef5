// The content script's Gmail reading (extension/src/gmail-page.js) over the Gmail-like app
// of tests/site/gmail (its README says what each view holds and where its markup comes
// from), in headless Chromium: who is on the open thread (senders and recipients of the
// header area only, never an address of the subject, a body, a quote, a signature, the
// details popup or a hidden view), the account's own address, and the inbox's senders;
// switching threads inside the app (no reload) reads the new one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { root, CHROMIUM_ARGS } from './harness.mjs';

const SITE = join(root, 'tests', 'site', 'gmail');
const READER = readFileSync(join(root, 'extension', 'src', 'gmail-page.js'), 'utf8');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'";
const THREAD_1 = 'FMfcgzQZTkHvcRqBjLmWsXpNdKfGtBnS';
const THREAD_2 = 'FMfcgzQZTlDmWqJcXrNvBsKhGpLtMzFd';
// Addresses the fixtures hold only in what must never be read (README: "Decoys").
const DECOY_DOMAINS = ['initech.test', 'megacorp.test', 'solo.test', 'twice.test'];

let server;
let base;
let browser;
let context;

before(async () => {
  const files = {
    '/static/app.js': ['app.js', 'text/javascript'],
    '/static/app.css': ['app.css', 'text/css'],
    '/mail/u/0/': ['app.html', 'text/html; charset=utf-8'],
    '/thread.html': ['thread.html', 'text/html; charset=utf-8'],
  };
  server = createServer((req, res) => {
    const file = files[new URL(req.url, 'http://x').pathname];
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[1], 'content-security-policy': CSP });
    res.end(readFileSync(join(SITE, file[0])));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}`;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
  context = await browser.newContext();
});

after(async () => {
  await browser?.close();
  server?.close();
});

/** Opens `path`, waits for `ready` (a page function) and returns a reader of the page. */
async function open(path, ready, arg) {
  const page = await context.newPage();
  await page.goto(`${base}${path}`);
  if (ready) await page.waitForFunction(ready, arg);
  await page.evaluate(READER);
  return { page, read: () => page.evaluate(() => globalThis.affinityLensReadGmail(document, location)) };
}

const emails = (addresses) => [...new Set(addresses.map((a) => a.email))].sort();
/** Whether the visible view is the thread `id`, its messages drawn (a page function). */
const threadShown = (id) =>
  [...document.querySelectorAll('[role=main]')].some((m) => m.getClientRects().length && m.querySelector('[data-message-id]'))
  && location.hash.endsWith(id) && window.__gmailSite.renders > 0;

function assertNoDecoy(result) {
  const all = JSON.stringify(result);
  for (const d of DECOY_DOMAINS) assert.ok(!all.includes(d), `nothing from ${d} (a body, subject, quote or popup): ${all}`);
}

test('an open thread: its senders and recipients from the header area, the account as me, no decoy', async () => {
  const { page, read } = await open(`/mail/u/0/#inbox/${THREAD_1}`, threadShown, THREAD_1);
  try {
    const got = await read();
    assert.equal(got.view, 'thread');
    assert.equal(got.thread, THREAD_1);
    assert.deepEqual(got.me, ['alice@sandbox-ventures.test']);
    assert.deepEqual(emails(got.addresses), [
      'alice@sandbox-ventures.test',
      'ben@sandbox-ventures.test',
      'bob.smith@acme.test',
      'jordan@bankerly.test',
    ]);
    const bob = got.addresses.find((a) => a.email === 'bob.smith@acme.test' && a.role === 'from');
    assert.equal(bob?.name, 'Bob Smith');
    assertNoDecoy(got);
  } finally {
    await page.close();
  }
});

test('the static snapshot of the same thread reads the same (no script of the page needed)', async () => {
  const { page, read } = await open(`/thread.html#inbox/${THREAD_1}`);
  try {
    const got = await read();
    assert.equal(got.view, 'thread');
    assert.deepEqual(emails(got.addresses), [
      'alice@sandbox-ventures.test',
      'ben@sandbox-ventures.test',
      'bob.smith@acme.test',
      'jordan@bankerly.test',
    ]);
    assertNoDecoy(got);
  } finally {
    await page.close();
  }
});

test('switching to another thread inside the app reads only the new one (the old view stays hidden)', async () => {
  const { page, read } = await open(`/mail/u/0/#inbox/${THREAD_1}`, threadShown, THREAD_1);
  try {
    await page.evaluate((id) => { location.hash = `#inbox/${id}`; }, THREAD_2);
    await page.waitForFunction(
      (id) => location.hash.endsWith(id)
        && [...document.querySelectorAll('[role=main]')].some((m) => m.getClientRects().length && m.innerHTML.includes('globex.test')),
      THREAD_2,
    );
    const got = await read();
    assert.equal(got.thread, THREAD_2);
    assert.deepEqual(emails(got.addresses), ['alex.morgan@globex.test', 'alice@sandbox-ventures.test', 'sam.rivera@gmail.com']);
    assertNoDecoy(got);
    assert.ok(!JSON.stringify(got).includes('acme.test'), 'the hidden first thread is not read');
  } finally {
    await page.close();
  }
});

test("the inbox list: each row's senders, not the subject, snippet or hidden label", async () => {
  const { page, read } = await open('/mail/u/0/#inbox', () => document.querySelector('[role=main] [gh=tl] tr.zA'));
  try {
    const got = await read();
    assert.equal(got.view, 'list');
    assert.deepEqual(got.senders, [
      ['bob.smith@acme.test', 'alice@sandbox-ventures.test'],
      ['alex.morgan@globex.test', 'sam.rivera@gmail.com'],
      ['jordan@bankerly.test'],
      ['sam.rivera@gmail.com'],
      ['ben@sandbox-ventures.test'],
    ]);
    assert.ok(got.me.includes('alice@sandbox-ventures.test'));
    assertNoDecoy(got);
    const rows = await page.evaluate(() => globalThis.affinityLensGmailRows(document).length);
    assert.equal(rows, 5);
  } finally {
    await page.close();
  }
});

test('a page that is not Gmail, or a Gmail view with nothing to read, gives nothing', async () => {
  const page = await context.newPage();
  try {
    await page.setContent('<div role="main"><p>maya@acme.test</p><span email="ceo@twice.test" class="gD">x</span></div>');
    await page.evaluate(READER);
    const got = await page.evaluate(() => globalThis.affinityLensReadGmail(document, location));
    assert.deepEqual({ view: got.view, addresses: got.addresses, senders: got.senders }, { view: 'other', addresses: [], senders: [] });
  } finally {
    await page.close();
  }
});
