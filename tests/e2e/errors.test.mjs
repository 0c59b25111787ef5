// What a user sees in the overlay card in every error state (shared/docs/product.md,
// "States the card must have"), each driven through the sandbox, in headless Chromium
// with the built extension.
//
// One browser (and its configured extension) serves every test but the "no key" one. The
// extension keeps one client (one cache, one rate limiter) per base URL and key, so tests
// that block the limiter or stop their Affinity get a sandbox of their own, and every test
// looks up a domain of its own: the background caches answers for 5 minutes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startSandbox, startSite, launchChromiumWithExtension, configureChromiumExtension, overlayFrame, freePort, setFaults, settledUsage,
} from './harness.mjs';

const HOSTS = {
  noKey: 'no-key-yet.test',
  rejected: 'wrong-key.test',
  forbidden: 'forbidden.test',
  rateLimited: 'rate-limited.test',
  unavailable: 'unavailable.test',
  unreachable: 'unreachable.test',
  malformed: 'malformed.test',
  offline: 'acme.test',
  hanging: 'hanging.test',
};
// The overlay's own time limit (overlay.js TIME_LIMIT_MS); the client times requests out
// after 15 s. Either way the card must have left "Looking up…" by then.
const OVERLAY_TIME_LIMIT_MS = 20000;
// How long a user may be left looking at "Looking up…" when Affinity answers at once
// (with an error).
const PROMPT_MS = 10000;

let sandbox, site, browser;
let current = null; // the extension's settings as last saved

before(async () => {
  [sandbox, site] = await Promise.all([startSandbox(), startSite()]);
  browser = await launchChromiumWithExtension(Object.values(HOSTS));
});

after(async () => {
  await browser?.context.close();
  await site?.stop();
  sandbox?.stop();
});

/** Points the extension at `url` with `key` (through its options page), if not already. */
async function useAffinity(url, key) {
  if (current?.url === url && current?.key === key) return;
  await configureChromiumExtension(browser.context, browser.extensionId, { url, key });
  current = { url, key };
}


/** Opens `host` in a new tab of `context` and returns the page and its overlay frame. */
async function openCard(host, context = browser.context, extensionId = browser.extensionId) {
  const page = await context.newPage();
  await page.goto(`http://${host}:${site.port}/`);
  const frame = await overlayFrame(page, extensionId);
  // The overlay starts as the pill: open the card, as a user would.
  await frame.getByTestId('lens-pill').click();
  await frame.getByTestId('lens-card').waitFor();
  return { page, frame };
}

/** All the text the card shows right now. */
async function seen(frame) {
  return (await frame.getByTestId('lens-card').innerText().catch((e) => `<${e.message}>`)).replace(/\s+/g, ' ').trim();
}

/** Waits until the card has left "Looking up…"; fails with what the user saw instead. */
async function settled(frame, timeout, what) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const status = await frame.getByTestId('lens-status').textContent({ timeout: 1000 }).catch(() => null);
    if (status !== null && !/Looking up/.test(status)) return status.trim();
    if (Date.now() > deadline) {
      assert.fail(`${what}: after ${timeout / 1000} s the card still showed: "${await seen(frame)}"`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The card's error line, asserted to match `pattern` (with what the card showed if not). */
async function expectError(frame, pattern, what) {
  const error = frame.getByTestId('lens-error');
  assert.equal(await error.count(), 1, `${what}: no error line; the card showed: "${await seen(frame)}"`);
  const text = (await error.textContent()).trim();
  assert.match(text, pattern, `${what}: the card showed: "${await seen(frame)}"`);
  return text;
}

/** An error card from a lookup names the site it is about and offers to try again. */
async function expectErrorCardFor(frame, host, what) {
  assert.equal((await frame.getByTestId('lens-entity-name').textContent()).trim(), host, `${what}: the card names the site`);
  assert.equal(await frame.getByTestId('lens-refresh').count(), 1, `${what}: the card offers a refresh`);
}

test('no API key yet: the card says to add the key in the options', async () => {
  // A browser of its own: the extension there has never been configured.
  const fresh = await launchChromiumWithExtension([HOSTS.noKey]);
  try {
    const { frame } = await openCard(HOSTS.noKey, fresh.context, fresh.extensionId);
    await settled(frame, PROMPT_MS, 'no API key');
    await expectError(frame, /API key/, 'no API key');
    await expectError(frame, /options/i, 'no API key');
  } finally {
    await fresh.context.close();
  }
});

test('key rejected (401): the card says Affinity rejected the API key', async () => {
  await useAffinity(sandbox.url, 'not-the-right-key');
  const { page, frame } = await openCard(HOSTS.rejected);
  try {
    await settled(frame, PROMPT_MS, '401');
    await expectError(frame, /API key/, '401');
    await expectError(frame, /reject|invalid|not valid|wrong/i, '401');
    await expectErrorCardFor(frame, HOSTS.rejected, '401');
  } finally {
    await page.close();
  }
});

test('not allowed (403): the card says the account may not see this', async () => {
  await useAffinity(sandbox.url, sandbox.key);
  await setFaults(sandbox, { endpoints: { '/organizations': { status: 403 } } });
  try {
    const { page, frame } = await openCard(HOSTS.forbidden);
    await settled(frame, PROMPT_MS, '403');
    await expectError(frame, /may not see|not allowed|no access|permission/i, '403');
    await expectErrorCardFor(frame, HOSTS.forbidden, '403');
    await page.close();
  } finally {
    await setFaults(sandbox, {});
  }
});

/** Seconds since midnight of an "HH:MM:SS" text, and of a Date in this machine's zone. */
const secondsOfDay = (hms) => { const [h, m, s] = hms.split(':').map(Number); return h * 3600 + m * 60 + s; };
const utcSecondsOfDay = (d) => d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();

test('rate limited (429): the card says so and when the Lens tries again', async () => {
  // Two requests a minute: the first lookup runs into the limit at once, and the
  // sandbox answers 429 with Retry-After (the seconds to the end of its minute).
  const limited = await startSandbox(['--rate-limit-per-min', '2']);
  try {
    await useAffinity(limited.url, limited.key);
    const opened = Date.now();
    const { page, frame } = await openCard(HOSTS.rateLimited);
    await settled(frame, PROMPT_MS, '429');
    const text = await expectError(frame, /rate limit/i, '429');
    const at = text.match(/\b(\d{2}:\d{2}:\d{2}) UTC\b/);
    assert.ok(at, `429: the message says when it tries again (HH:MM:SS UTC): "${text}"`);
    assert.match(text, /Try again in \d+ s/, '429: and in how many seconds');
    // The sandbox's minute ends at most 60 s after the first request (plus retries'
    // jitter): the time shown is within the next couple of minutes, in UTC.
    const ahead = (secondsOfDay(at[1]) - utcSecondsOfDay(new Date(opened)) + 86400) % 86400;
    assert.ok(ahead <= 180, `429: the retry time ${at[1]} UTC is within the next minutes (${new Date(opened).toISOString()})`);
    await expectErrorCardFor(frame, HOSTS.rateLimited, '429');
    await page.close();
  } finally {
    limited.stop();
  }
});

test('Affinity unavailable (5xx): the card says Affinity cannot be reached', async () => {
  await useAffinity(sandbox.url, sandbox.key);
  await setFaults(sandbox, { fail_rate: 1, fail_status: 503 });
  try {
    const { page, frame } = await openCard(HOSTS.unavailable);
    await settled(frame, PROMPT_MS, '503');
    await expectError(frame, /cannot be reached|unavailable/i, '503');
    await expectErrorCardFor(frame, HOSTS.unavailable, '503');
    await page.close();
  } finally {
    await setFaults(sandbox, {});
  }
});

test('Affinity unavailable (nothing answers at the base URL): the card says Affinity cannot be reached', async () => {
  await useAffinity(`http://127.0.0.1:${await freePort()}`, sandbox.key);
  const { page, frame } = await openCard(HOSTS.unreachable);
  try {
    await settled(frame, PROMPT_MS, 'unreachable');
    await expectError(frame, /cannot be reached|unavailable/i, 'unreachable');
    await expectErrorCardFor(frame, HOSTS.unreachable, 'unreachable');
  } finally {
    await page.close();
  }
});

test('an answer the Lens cannot read: the card says so', async () => {
  await useAffinity(sandbox.url, sandbox.key);
  await setFaults(sandbox, { endpoints: { '/organizations': 'malformed' } });
  try {
    const { page, frame } = await openCard(HOSTS.malformed);
    await settled(frame, PROMPT_MS, 'malformed');
    await expectError(frame, /could not read|unexpected/i, 'malformed');
    await expectErrorCardFor(frame, HOSTS.malformed, 'malformed');
    await page.close();
  } finally {
    await setFaults(sandbox, {});
  }
});

test('offline: the card last fetched is still shown, marked stale', async () => {
  // An Affinity of its own, to be stopped.
  const own = await startSandbox();
  let stopped = false;
  try {
    await useAffinity(own.url, own.key);
    const first = await openCard(HOSTS.offline);
    await first.frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor({ timeout: PROMPT_MS });
    assert.equal((await first.frame.getByTestId('lens-status').textContent()).trim(), 'In Affinity');
    // The whole card is fetched (the name shows with the look-up's first round; a tab closed
    // before the rest comes ends its look-up, and the rest is then not in the cache).
    await settledUsage(own);
    await first.page.close();

    // Affinity goes away.
    own.stop();
    stopped = true;
    for (let i = 0; i < 50; i++) {
      if (await fetch(`${own.url}/rate-limit`).then(() => false, () => true)) break;
      await new Promise((r) => setTimeout(r, 100));
    }

    // The page again: the card is still there.
    const { page, frame } = await openCard(HOSTS.offline);
    await settled(frame, PROMPT_MS, 'offline, page opened again');
    assert.equal((await frame.getByTestId('lens-entity-name').textContent()).trim(), 'Acme Corporation',
      `offline, page opened again: the card showed: "${await seen(frame)}"`);

    // Refresh cannot reach Affinity: the card stays, marked as what was known when.
    await frame.getByTestId('lens-refresh').click();
    await settled(frame, PROMPT_MS, 'offline, after refresh');
    const what = `offline, after refresh: the card showed: "${await seen(frame)}"`;
    assert.equal((await frame.getByTestId('lens-entity-name').textContent()).trim(), 'Acme Corporation', what);
    assert.equal((await frame.getByTestId('lens-status').textContent()).trim(), 'In Affinity', what);
    const stale = frame.locator('.lens-stale');
    assert.equal(await stale.count(), 1, what);
    assert.match(await stale.textContent(), /Offline: as of \d{4}-\d{2}-\d{2}/, what);
    await page.close();
  } finally {
    if (!stopped) own.stop();
  }
});

test('loading has a time limit: an endpoint that never answers ends in an error, not an endless "Looking up…"', async () => {
  const hanging = await startSandbox(['--fault', '/organizations=hang']);
  try {
    await useAffinity(hanging.url, hanging.key);
    const opened = Date.now();
    const { page, frame } = await openCard(HOSTS.hanging);
    assert.match(await frame.getByTestId('lens-status').textContent(), /Looking up/, 'the card first says it is looking up');
    await settled(frame, OVERLAY_TIME_LIMIT_MS + 3000, 'hang');
    const elapsed = Date.now() - opened;
    assert.ok(elapsed <= OVERLAY_TIME_LIMIT_MS + 3000, `left "Looking up…" after ${elapsed} ms`);
    await expectError(frame, /cannot be reached|did not answer in time|unavailable|timed out/i, 'hang');
    await page.close();
  } finally {
    hanging.stop(); // also drops the connection that hangs
  }
});
