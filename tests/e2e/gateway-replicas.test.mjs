// Two gateway replicas sharing one Redis (Debian's redis-server, started here): one
// budget for the key across both, each card paid for once, and freshness pushed by the
// sandbox's webhooks to the cards and to <affinity-card> live in Chromium.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, startGateway, startIntranet, freePort, CHROMIUM_ARGS, GATEWAY_TOKEN, startRedis } from './harness.mjs';

const headers = { authorization: `Bearer ${GATEWAY_TOKEN}` };

async function metric(gateway, name) {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers })).text();
  return Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))[1]);
}

/** The most requests the sandbox answered in any 60-second window. */
async function busiestMinute(sandbox) {
  const r = await fetch(`${sandbox.url}/_sandbox/requests`, { headers: { authorization: `Bearer ${sandbox.key}` } });
  const { times_ms: times } = await r.json();
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j] <= times[i] - 60000) j++;
    most = Math.max(most, i - j + 1);
  }
  return { most, total: times.length };
}

// 200 domains: 10 companies in the sandbox and 190 it does not know, asked 10 times each.
const KNOWN = ['acme.test', 'globex.test', 'initech.test', 'megacorp.test', 'solo.test', 'twice.test', 'shared.test', 'unicode.test', 'html.test', 'acmeanvils.test'];
const DOMAINS = [...KNOWN, ...Array.from({ length: 190 }, (_, i) => `prospect-${i}.test`)];
const REQUESTS = Array.from({ length: 2000 }, (_, i) => DOMAINS[(i * 7) % DOMAINS.length]);

/** Sends the 2,000 requests, 20 at a time, spread over `gateways` in turn. */
async function drive(gateways, { halfway } = {}) {
  let next = 0;
  const statuses = {};
  let sent = 0;
  const worker = async () => {
    while (next < REQUESTS.length) {
      const i = next++;
      if (i === REQUESTS.length / 2 && halfway) await halfway();
      const gateway = gateways[i % gateways.length];
      const r = await fetch(`${gateway.url}/affinity/card?domain=${REQUESTS[i]}`, { headers });
      const body = await r.json().catch(() => null);
      const key = r.status === 200 && body?.status !== 'error' ? 'ok' : `${r.status} ${body?.error?.kind ?? body?.error}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
      sent++;
    }
  };
  await Promise.all(Array.from({ length: 20 }, worker));
  assert.equal(sent, REQUESTS.length);
  return statuses;
}

const GATEWAY_ARGS = ['--caller-per-min', '100000', '--caller-calls-per-min', '100000', '--rate-limit-per-min', '300', '--card-deadline-secs', '600'];

test('two replicas with Redis keep one window of 300 a minute and pay for each card about once', async () => {
  const redis = await startRedis();
  const single = await startSandbox(['--rate-limit-per-min', '300']);
  const shared = await startSandbox(['--rate-limit-per-min', '300']);
  const alone = await startGateway(single, GATEWAY_ARGS);
  const a = await startGateway(shared, [...GATEWAY_ARGS, '--redis', redis.url]);
  const b = await startGateway(shared, [...GATEWAY_ARGS, '--redis', redis.url]);
  try {
    const [one, two] = await Promise.all([drive([alone]), drive([a, b])]);
    assert.deepEqual(one, { ok: 2000 }, 'single gateway');
    assert.deepEqual(two, { ok: 2000 }, 'two replicas');
    const baseline = await busiestMinute(single);
    const replicas = await busiestMinute(shared);
    console.log(`Affinity calls: one gateway ${baseline.total}, two replicas with Redis ${replicas.total}; busiest minute ${replicas.most}`);
    assert.ok(replicas.most <= 300, `${replicas.most} calls in one minute`);
    assert.ok(replicas.total <= baseline.total * 1.1, `${replicas.total} calls against ${baseline.total} for one gateway`);
    for (const g of [a, b]) assert.equal(await metric(g, 'lens_gateway_affinity_rate_limited_total'), 0);
  } finally {
    for (const g of [alone, a, b]) g.stop();
    single.stop();
    shared.stop();
    await redis.stop();
  }
});

test('when Redis stops halfway, both replicas keep answering every request with no 429', async () => {
  const redis = await startRedis();
  const sandbox = await startSandbox(['--rate-limit-per-min', '300']);
  const a = await startGateway(sandbox, [...GATEWAY_ARGS, '--redis', redis.url]);
  const b = await startGateway(sandbox, [...GATEWAY_ARGS, '--redis', redis.url]);
  try {
    // Let both replicas see each other (their heartbeat is every 2 s).
    await new Promise((r) => setTimeout(r, 2500));
    const statuses = await drive([a, b], { halfway: () => redis.stop() });
    assert.deepEqual(statuses, { ok: 2000 });
    const { most } = await busiestMinute(sandbox);
    assert.ok(most <= 300, `${most} calls in one minute`);
    for (const g of [a, b]) {
      assert.equal(await metric(g, 'lens_gateway_affinity_rate_limited_total'), 0);
      assert.equal((g.log().match(/Redis is unreachable/g) ?? []).length, 1, 'said once');
    }
  } finally {
    a.stop();
    b.stop();
    sandbox.stop();
    await redis.stop().catch(() => {});
  }
});

// ---- freshness pushed by webhooks ----

let sandbox, redis, a, b, secretDir, intranet, browser;

async function api(path, init = {}) {
  const r = await fetch(`${sandbox.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  assert.ok(r.ok, `${init.method ?? 'GET'} ${path}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

before(async () => {
  sandbox = await startSandbox();
  redis = await startRedis();
  secretDir = mkdtempSync(join(tmpdir(), 'lens-webhook-'));
  writeFileSync(join(secretDir, 'secret'), 'e2e-webhook-secret-0123456789abcdef\n');
  const pagePort = await freePort();
  const origin = `http://localhost:${pagePort}`;
  const hook = (g) => ['--public-url', `http://127.0.0.1:${g}`, '--webhook-secret-file', join(secretDir, 'secret')];
  // Affinity calls one public URL: replica a's here (a load balancer's in a firm).
  const portA = await freePort();
  a = await startGateway(sandbox, ['--redis', redis.url, '--allow-origin', origin, ...hook(portA)], { port: portA });
  b = await startGateway(sandbox, ['--redis', redis.url, '--allow-origin', origin, ...hook(portA)]);
  // The page's cards go to replica b: the webhook reaches a, the change reaches b's page.
  intranet = await startIntranet(pagePort, b.url);
  intranet.origin = origin;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  intranet?.close();
  a?.stop();
  b?.stop();
  sandbox?.stop();
  await redis?.stop();
  if (secretDir) rmSync(secretDir, { recursive: true, force: true });
});

test('the replicas share one webhook subscription and say so at start', async () => {
  const subscriptions = await api('/webhook');
  assert.equal(subscriptions.length, 1, JSON.stringify(subscriptions));
  assert.match(subscriptions[0].webhook_url, /\/affinity\/webhook\/e2e-webhook-secret/);
  const said = a.log() + b.log();
  assert.match(said, /subscribed to Affinity's webhooks/);
  assert.match(said, /reusing its webhook subscription/);
  assert.ok(!said.includes('e2e-webhook-secret'), 'the webhook secret is in the log');
  // A wrong secret is not a webhook URL.
  const wrong = await fetch(`${a.url}/affinity/webhook/not-the-secret`, { method: 'POST', body: '{}' });
  assert.equal(wrong.status, 404);
});

test('a write in Affinity shows on the gateway card and the live <affinity-card> within 5 s; an unrelated card costs nothing', async () => {
  const page = await browser.newPage();
  await page.goto(`${intranet.origin}/pipeline.html`);
  const lead = page.locator('#lead');
  await lead.locator('[data-testid="lens-entity-name"]').filter({ hasText: 'Acme Corporation' }).waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('affinity-card')].every((c) => !c.shadowRoot.querySelector('[data-status="loading"]')));
  const card = async (g, q) => (await fetch(`${g.url}/affinity/card?${q}`, { headers })).json();
  const acme = await card(b, 'domain=acme.test');
  await card(a, 'domain=globex.test');
  const before = (await metric(a, 'lens_gateway_affinity_requests_total')) + (await metric(b, 'lens_gateway_affinity_requests_total'));

  // 1. The Status of Acme's Deal Pipeline entry changes.
  const entry = acme.lists.find((l) => l.list_name === 'Deal Pipeline');
  const fields = await api(`/fields?list_id=${entry.list_id}`);
  const statusField = fields.find((f) => f.name === 'Status');
  const option = statusField.dropdown_options.find((o) => o.text !== entry.status?.text);
  const values = await api(`/field-values?organization_id=${acme.entity.id}`);
  const current = values.find((v) => v.field_id === statusField.id && v.list_entry_id === entry.entry_id);
  const started = Date.now();
  if (current) await api(`/field-values/${current.id}`, { method: 'PUT', body: JSON.stringify({ value: option.id }) });
  else await api('/field-values', { method: 'POST', body: JSON.stringify({ field_id: statusField.id, entity_id: acme.entity.id, list_entry_id: entry.entry_id, value: option.id }) });
  await lead.locator('[data-testid="lens-list-status"]').filter({ hasText: option.text }).first().waitFor({ timeout: 5000 })
    .catch((e) => { console.log('A', a.log(), 'B', b.log()); throw e; });
  const live = Date.now() - started;
  const fresh = await card(a, 'domain=acme.test');
  assert.equal(fresh.lists.find((l) => l.entry_id === entry.entry_id).status.text, option.text);
  console.log(`write to updated live card: ${live} ms`);

  // 2. A new list entry (Co-investors) and 3. a note.
  await api('/lists/12/list-entries', { method: 'POST', body: JSON.stringify({ entity_id: acme.entity.id }) });
  const listed = async () => (await card(b, 'domain=acme.test')).lists.map((l) => l.list_name);
  const until = Date.now() + 5000;
  let names = await listed();
  while (!names.includes('Co-investors') && Date.now() < until) { await new Promise((r) => setTimeout(r, 200)); names = await listed(); }
  assert.ok(names.includes('Co-investors'), names.join());
  await api('/notes', { method: 'POST', body: JSON.stringify({ content: 'Met at the demo day', organization_ids: [acme.entity.id] }) });

  // The unrelated card (Globex) is still served from the cache: no Affinity call for it.
  // First let the note's own effects settle (the live page fetches Acme again).
  const calls = async () => (await metric(a, 'lens_gateway_affinity_requests_total')) + (await metric(b, 'lens_gateway_affinity_requests_total'));
  let spent = await calls();
  for (let settled = 0; settled < 3;) {
    await new Promise((r) => setTimeout(r, 300));
    const now = await calls();
    settled = now === spent ? settled + 1 : 0;
    spent = now;
  }
  await card(a, 'domain=globex.test');
  await card(b, 'domain=globex.test');
  const after = (await metric(a, 'lens_gateway_affinity_requests_total')) + (await metric(b, 'lens_gateway_affinity_requests_total'));
  assert.equal(after, spent, 'the unrelated cached card cost Affinity calls');
  assert.ok(spent > before, 'the changed card was looked up again');
  await page.close();
});

test('a change made while the page opens its stream again (a card was added) still reaches the live card', async () => {
  const page = await browser.newPage();
  await page.goto(`${intranet.origin}/pipeline.html`);
  const lead = page.locator('#lead');
  await lead.locator('[data-testid="lens-entity-name"]').filter({ hasText: 'Acme Corporation' }).waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('affinity-card')].every((c) => !c.shadowRoot.querySelector('[data-status="loading"]')));
  await new Promise((r) => setTimeout(r, 500)); // the page's stream follows every card shown
  // The page's next stream takes 2 s to open (a slow network).
  let reopened = 0;
  await page.route('**/affinity/events*', async (route) => {
    reopened++;
    await new Promise((r) => setTimeout(r, 2000));
    await route.continue().catch(() => {});
  });
  // A card is added: the page closes its stream and opens one that follows that card too.
  await page.evaluate(() => {
    const lead = document.getElementById('lead');
    const card = document.createElement('affinity-card');
    for (const a of ['endpoint', 'token']) card.setAttribute(a, lead.getAttribute(a));
    card.setAttribute('domain', 'solo.test');
    document.body.append(card);
  });
  const until = Date.now() + 5000;
  while (reopened === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(reopened, 1, 'the page opened its stream again');
  // Meanwhile (no stream open), the Status of Acme's Deal Pipeline entry changes.
  const acme = await (await fetch(`${b.url}/affinity/card?domain=acme.test`, { headers })).json();
  const entry = acme.lists.find((l) => l.list_name === 'Deal Pipeline');
  const statusField = (await api(`/fields?list_id=${entry.list_id}`)).find((f) => f.name === 'Status');
  const option = statusField.dropdown_options.find((o) => o.text !== entry.status?.text);
  const values = await api(`/field-values?organization_id=${acme.entity.id}`);
  const current = values.find((v) => v.field_id === statusField.id && v.list_entry_id === entry.entry_id);
  if (current) await api(`/field-values/${current.id}`, { method: 'PUT', body: JSON.stringify({ value: option.id }) });
  else await api('/field-values', { method: 'POST', body: JSON.stringify({ field_id: statusField.id, entity_id: acme.entity.id, list_entry_id: entry.entry_id, value: option.id }) });
  // The stream, once open, hears of the change it missed, and the card shows it.
  await lead.locator('[data-testid="lens-list-status"]').filter({ hasText: option.text }).first().waitFor({ timeout: 8000 });
  await page.close();
});

test('a change of lists or fields (a webhook to one replica) makes every replica ask for them again', async () => {
  const card = async (g, q) => (await fetch(`${g.url}/affinity/card?${q}`, { headers })).json();
  const asked = async () => (await (await fetch(`${sandbox.url}/_sandbox/requests`, {
    headers: { authorization: `Bearer ${sandbox.key}` },
  })).json()).requests;
  // The fields are read for the cards only (the gateway reads the lists itself too, to
  // know the private ones, through its cache).
  const schema = (requests) => requests.filter((r) => r.split('?')[0] === 'GET /fields').length;
  // Both replicas know the lists and fields (remembered for hours): a card that is not
  // cached asks for neither.
  assert.equal((await card(a, 'domain=initech.test')).status, 'matched');
  assert.equal((await card(b, 'domain=initech.test')).status, 'matched');
  let seen = (await asked()).length;
  assert.equal((await card(b, 'domain=twice.test')).status, 'matched');
  assert.equal(schema((await asked()).slice(seen)), 0, 'the lists and fields were asked for again unprompted');

  // A Status option is renamed in Affinity: its webhook reaches replica a only.
  const event = { type: 'field.updated', body: { id: 1, name: 'Status', list_id: 12, value_type: 7 }, sent_at: Math.floor(Date.now() / 1000) };
  const secret = 'e2e-webhook-secret-0123456789abcdef';
  seen = (await asked()).length;
  const r = await fetch(`${a.url}/affinity/webhook/${secret}`, { method: 'POST', body: JSON.stringify(event) });
  assert.equal(r.status, 200);
  // Replica b's next cards ask Affinity for the lists and fields again (within 5 s).
  const until = Date.now() + 5000;
  let again = 0;
  for (const domain of ['globex.test', 'acme.test', 'solo.test', 'initech.test', 'twice.test']) {
    if (again > 0 || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await card(b, `domain=${domain}`)).status, 'matched');
    again = schema((await asked()).slice(seen));
  }
  assert.ok(again > 0, 'replica b still used the lists and fields it remembered');
});

test('a live stream on one replica hears of a card its caller asked another replica for', async () => {
  // Behind a load balancer a page's card requests and its stream may reach different
  // replicas: what a caller asked for is known to all of them (through Redis).
  // (A card by id: no other test asks either replica for it.)
  const id = (await api('/organizations?term=initech.test')).organizations[0].id;
  const initech = await (await fetch(`${a.url}/affinity/card?organization_id=${id}`, { headers })).json();
  assert.equal(initech.status, 'matched');
  await new Promise((r) => setTimeout(r, 300)); // the replica notes it in Redis after answering
  const controller = new AbortController();
  const stream = await fetch(`${b.url}/affinity/events?cards=organization_id:${id}`, { headers, signal: controller.signal });
  assert.equal(stream.status, 200);
  const reader = stream.body.pipeThrough(new TextDecoderStream()).getReader();
  let heard = '';
  const reading = (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      heard += value;
    }
  })();
  try {
    await new Promise((r) => setTimeout(r, 300));
    await api('/notes', { method: 'POST', body: JSON.stringify({ content: 'Asked on a, heard on b', organization_ids: [initech.entity.id] }) });
    const until = Date.now() + 10000;
    while (!heard.includes(`organization_id:${id}`) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    assert.ok(heard.includes(`event: change\ndata: {"cards":["organization_id:${id}"]}`), `the stream heard: ${JSON.stringify(heard)}`);
  } finally {
    controller.abort();
    await reading;
  }
});
