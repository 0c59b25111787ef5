// The gateway holds (issue "The gateway holds", the security review's N1, N2, N4, N6, N7,
// N10, N11, N15, N16): no one can switch it off, nothing leaks between callers, a slow
// Affinity still gives a card. Each test starts the real binary in front of the sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { get as httpGet } from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, startGateway, GATEWAY_TOKEN, lensBinary } from './harness.mjs';

const auth = (token = GATEWAY_TOKEN) => ({ authorization: `Bearer ${token}` });
const OTHER_TOKEN = 'e2e-another-caller-0002';
const SECRET = 'a-webhook-secret-of-24-chars-at-least';

async function metric(gateway, name, token = GATEWAY_TOKEN) {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: auth(token) })).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

async function card(gateway, query, headers = auth()) {
  const started = Date.now();
  const r = await fetch(`${gateway.url}/affinity/card?${query}`, { headers });
  return { status: r.status, body: await r.json().catch(() => null), ms: Date.now() - started };
}

async function until(what, check, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function served(sandbox) {
  const r = await fetch(`${sandbox.url}/_sandbox/requests`, { headers: auth(sandbox.key) });
  return (await r.json()).requests;
}

async function withServers(sandboxArgs, gatewayArgs, body, options) {
  const sandbox = await startSandbox(sandboxArgs);
  let gateway;
  try {
    gateway = await startGateway(sandbox, gatewayArgs, options);
    await body(gateway, sandbox);
  } finally {
    gateway?.stop();
    sandbox.stop();
  }
}

/** Opens a socket to the gateway from `from` (a loopback address of its own). */
function socket(port, from) {
  const s = connect({ host: '127.0.0.1', port, localAddress: from });
  s.on('error', () => {});
  return s;
}

test('2,000 slow connections from one address do not keep a card from anybody else', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lens-holds-'));
  writeFileSync(join(dir, 'secret'), SECRET);
  await withServers([], ['--public-url', 'http://127.0.0.1:9', '--webhook-secret-file', join(dir, 'secret'),
    '--max-connections', '200'], async (gateway) => {
    // The usual time, before.
    const before = await card(gateway, 'domain=acme.test');
    assert.equal(before.status, 200);
    const usual = Math.max(before.ms, 200);
    // The attacker, on 127.0.0.2: slow webhook bodies (a wrong secret and the right path), slow
    // request heads, and live streams held open (with a token: an insider), 2,000 in all, each
    // opened again when the gateway closes it.
    let open = 0;
    let stop = false;
    const kinds = [
      (s) => s.write(`POST /affinity/webhook/not-the-secret HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nContent-Length: 100000\r\n\r\n{`),
      (s) => s.write(`POST /affinity/webhook/${SECRET} HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nContent-Length: 100000\r\n\r\n{`),
      (s) => s.write(`GET /affinity/card?domain=acme.test HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\n`),
      (s) => s.write(`GET /affinity/events?cards=domain:acme.test HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\nAuthorization: Bearer ${OTHER_TOKEN}\r\n\r\n`),
    ];
    const attack = (i) => {
      if (stop) return;
      const s = socket(gateway.port, '127.0.0.2');
      open++;
      s.on('connect', () => kinds[i % kinds.length](s));
      const drip = setInterval(() => s.write(' '), 2000);
      s.on('close', () => { open--; clearInterval(drip); setTimeout(() => attack(i), 100); });
    };
    for (let i = 0; i < 2000; i++) attack(i);
    await new Promise((r) => setTimeout(r, 1500));
    // Everybody else (127.0.0.1) still gets every card within its usual time.
    const domains = ['acme.test', 'globex.test', 'initech.test', 'solo.test', 'megacorp.test'];
    for (let round = 0; round < 4; round++) {
      for (const d of domains) {
        const r = await card(gateway, `domain=${d}`);
        assert.equal(r.status, 200, `${d}: ${JSON.stringify(r.body)}`);
        assert.ok(r.ms < usual + 1500, `${d} took ${r.ms} ms (usual ${usual})`);
      }
    }
    assert.ok(await metric(gateway, 'lens_gateway_refused_per_address_total') > 0, 'the attacker hit its share');
    const held = await metric(gateway, 'lens_gateway_open_connections');
    assert.ok(held <= 64 + 8, `the attacker holds at most its share (${held} open)`);
    stop = true;
  }, { tokens: [GATEWAY_TOKEN, OTHER_TOKEN] });
});

test('live streams have their own pool: a caller holds a few, and they never block cards', async () => {
  const tokens = Array.from({ length: 30 }, (_, i) => `e2e-tab-token-${String(i).padStart(8, '0')}`);
  await withServers([], ['--max-connections', '20', '--max-streams', '25', '--max-streams-per-caller', '2'], async (gateway) => {
    // Each stream on a socket of its own, closed at the end (fetch's shared pool kept some
    // sockets of aborted streams and opened others meanwhile: the gateway's twenty
    // connection places then ran out, and a request of this test failed now and then).
    const streams = [];
    const openStream = (token) => new Promise((resolve, reject) => {
      const request = httpGet(`${gateway.url}/affinity/events?cards=domain:acme.test`, { headers: auth(token), agent: false }, (response) => {
        response.on('error', () => {});
        resolve(response.statusCode);
      });
      request.on('error', reject);
      streams.push(request);
    });
    // One caller: two streams, the third refused.
    assert.equal(await openStream(tokens[0]), 200);
    assert.equal(await openStream(tokens[0]), 200);
    assert.equal(await openStream(tokens[0]), 429);
    // Many callers (a thousand tabs, scaled down): more streams than connections, and cards
    // still served; past the streams' pool, 429.
    const statuses = [];
    for (const t of tokens.slice(1)) statuses.push(await openStream(t));
    assert.equal(statuses.filter((s) => s === 200).length, 23, statuses.join());
    assert.ok(statuses.slice(23).every((s) => s === 429));
    const r = await card(gateway, 'domain=acme.test', auth(tokens[0]));
    assert.equal(r.status, 200);
    assert.equal(await metric(gateway, 'lens_gateway_open_streams', tokens[0]), 25);
    streams.forEach((r) => r.destroy());
    await until('the streams to be given back', async () => (await metric(gateway, 'lens_gateway_open_streams', tokens[0])) === 0);
  }, { tokens });
});

/** Reads server-sent events from a fetch response into `events` until aborted. */
async function collect(response, events) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read().catch(() => ({ done: true }));
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      events.push(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
    }
  }
}

test("a caller's stream tells nothing of another caller's cards", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lens-holds-'));
  writeFileSync(join(dir, 'secret'), SECRET);
  await withServers([], ['--public-url', 'http://127.0.0.1:9', '--webhook-secret-file', join(dir, 'secret')], async (gateway, sandbox) => {
    // A looks up Bob by email (and Globex); B only Globex, and names Acme's card and Bob's
    // in its stream without having asked for them.
    await card(gateway, 'email=bob.smith@acme.test', auth(GATEWAY_TOKEN));
    await card(gateway, 'domain=acme.test', auth(GATEWAY_TOKEN));
    await card(gateway, 'domain=globex.test', auth(OTHER_TOKEN));
    const controller = new AbortController();
    const r = await fetch(`${gateway.url}/affinity/events?cards=domain:globex.test,domain:acme.test,email:bob.smith@acme.test`,
      { headers: auth(OTHER_TOKEN), signal: controller.signal });
    assert.equal(r.status, 200);
    const events = [];
    const reading = collect(r, events);
    // Changes to Bob, to Acme, and to a list: webhook events as Affinity sends them.
    const hook = (event) => fetch(`${gateway.url}/affinity/webhook/${SECRET}`, { method: 'POST',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...event, sent_at: Math.floor(Date.now() / 1000) }) });
    const bob = (await card(gateway, 'email=bob.smith@acme.test')).body.entity.id;
    assert.equal((await hook({ type: 'note.created', body: { id: 1, person_ids: [bob], organization_ids: [7133202] } })).status, 200);
    assert.equal((await hook({ type: 'field.updated', body: { id: 99 } })).status, 200);
    // And to Globex, which B asked for.
    assert.equal((await hook({ type: 'organization.updated', body: { id: 7133203, domain: 'globex.test' } })).status, 200);
    await until('the change to Globex', async () => events.some((e) => e.includes('globex')), 15000);
    await new Promise((r2) => setTimeout(r2, 500));
    controller.abort();
    await reading;
    const all = events.join('\n');
    assert.ok(!all.includes('bob'), all);
    assert.ok(!all.includes('acme'), all);
    assert.ok(!all.includes(String(bob)) && !all.includes('7133202'), `an entity id reached the stream: ${all}`);
    assert.ok(!all.includes('entities') && !all.includes('meta'), all);
  }, { tokens: [GATEWAY_TOKEN, OTHER_TOKEN] });
});

test('webhook events: the secret first, old or repeated events ignored, a flood handled in batches', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lens-holds-'));
  writeFileSync(join(dir, 'secret'), SECRET);
  await withServers([], ['--public-url', 'http://127.0.0.1:9', '--webhook-secret-file', join(dir, 'secret')], async (gateway, sandbox) => {
    await card(gateway, 'domain=acme.test');
    const now = Math.floor(Date.now() / 1000);
    const post = (secret, body) => fetch(`${gateway.url}/affinity/webhook/${secret}`, { method: 'POST',
      headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal((await post('wrong-secret', { type: 'x', body: {} })).status, 404);
    assert.equal((await post(SECRET, { type: 'field.updated', body: {}, sent_at: now - 86400 })).status, 400, 'a day old');
    const event = { type: 'field.updated', body: { id: 1 }, sent_at: now };
    assert.equal((await post(SECRET, event)).status, 200);
    const replay = await (await post(SECRET, event)).json();
    assert.equal(replay.replay, true);
    // 100 forged list changes in a second: the context is read again at most twice (once
    // now, once deferred), not a hundred times.
    const before = (await served(sandbox)).filter((r) => r.startsWith('GET /lists')).length;
    // (Ten at a time: one address may hold 64 connections.)
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 10 }, (_, i) => post(SECRET, { type: 'field.updated', body: { id: 1000 + batch * 10 + i }, sent_at: now })));
    }
    for (let i = 0; i < 5; i++) await card(gateway, 'domain=acme.test');
    await new Promise((r) => setTimeout(r, 11000));
    for (let i = 0; i < 5; i++) await card(gateway, 'domain=acme.test');
    const after = (await served(sandbox)).filter((r) => r.startsWith('GET /lists')).length;
    assert.ok(after - before <= 2, `GET /lists ${after - before} times`);
    // An event naming 10,000 ids is taken without a scan.
    const started = Date.now();
    const big = await post(SECRET, { type: 'list_entry.created', body: { person_ids: Array.from({ length: 10000 }, (_, i) => i) }, sent_at: now });
    assert.equal(big.status, 200);
    assert.ok(Date.now() - started < 1000);
  });
});

test('in cookie mode a request without an Origin costs nothing unless it shows it is not from another site', async () => {
  await withServers([], ['--trusted-user-header', 'x-forwarded-email', '--trusted-proxy', '127.0.0.1'], async (gateway, sandbox) => {
    const before = (await served(sandbox)).length;
    const user = { 'x-forwarded-email': 'ann@firm.test' };
    // A page elsewhere (no-cors: no Origin), in Chrome and in Firefox.
    const crossSite = await card(gateway, 'domain=acme.test', { ...user, 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' });
    assert.equal(crossSite.status, 403);
    const bare = await card(gateway, 'domain=acme.test', user);
    assert.equal(bare.status, 403, 'no Fetch Metadata, no header: refused');
    assert.equal((await served(sandbox)).length, before, 'Affinity was called');
    // The web component (the header), the same origin, a script that says so: served.
    assert.equal((await card(gateway, 'domain=acme.test', { ...user, 'x-affinity-lens': '1' })).status, 200);
    assert.equal((await card(gateway, 'domain=acme.test', { ...user, 'sec-fetch-site': 'same-origin' })).status, 200);
  }, { tokens: [] });
});

test("health says ok and nothing else; --no-auth beside a token file, a webhook URL or Affinity in clear, do not start", async () => {
  await withServers(['--fault', '/lists=503'], [], async (gateway, sandbox) => {
    const before = (await served(sandbox)).length;
    for (let i = 0; i < 20; i++) {
      assert.deepEqual(await (await fetch(`${gateway.url}/healthz`)).json(), { status: 'ok' });
    }
    assert.equal((await served(sandbox)).length, before, '/healthz called Affinity');
  });
  const dir = mkdtempSync(join(tmpdir(), 'lens-holds-'));
  writeFileSync(join(dir, 'tokens'), `${GATEWAY_TOKEN}\n`);
  writeFileSync(join(dir, 'secret'), SECRET);
  const lens = lensBinary();
  const run = (args) => spawnSync(lens, ['gateway', '--listen', '127.0.0.1:0', '--base-url', 'http://127.0.0.1:9', ...args],
    { env: { ...process.env, AFFINITY_API_KEY: 'k' }, encoding: 'utf8', timeout: 10000 });
  const noAuth = run(['--no-auth', '--client-token-file', join(dir, 'tokens')]);
  assert.notEqual(noAuth.status, 0);
  assert.match(noAuth.stderr, /cannot be used with/);
  const clear = run(['--client-token-file', join(dir, 'tokens'), '--public-url', 'http://lens.example.com', '--webhook-secret-file', join(dir, 'secret')]);
  assert.notEqual(clear.status, 0);
  assert.match(clear.stderr, /must be https/);
  // Nor an Affinity on another machine in clear: the key would travel with every request.
  const key = spawnSync(lens, ['gateway', '--listen', '127.0.0.1:0', '--base-url', 'http://api.affinity.example', '--client-token-file', join(dir, 'tokens')],
    { env: { ...process.env, AFFINITY_API_KEY: 'k' }, encoding: 'utf8', timeout: 10000 });
  assert.notEqual(key.status, 0);
  assert.match(key.stderr, /--base-url must be https \(the API key travels with every request\)/);
});

test('a token bound to an origin is refused from another origin and from none', async () => {
  const tokens = [`${GATEWAY_TOKEN} https://intranet.example`];
  await withServers([], ['--allow-origin', 'https://intranet.example', '--allow-origin', 'https://other.example'], async (gateway) => {
    assert.equal((await card(gateway, 'domain=acme.test', { ...auth(), origin: 'https://intranet.example' })).status, 200);
    assert.equal((await card(gateway, 'domain=acme.test', { ...auth(), origin: 'https://other.example' })).status, 401);
    assert.equal((await card(gateway, 'domain=acme.test', auth())).status, 401);
  }, { tokens });
});

test('with Affinity answering in 2 s and a v1-only key, the deadline answers the partial card and the look-up goes on for the next caller', async () => {
  const sandbox = await startSandbox(['--latency-ms', '2000', '--v1-only-key', 'e2e-v1-only-key']);
  let gateway;
  try {
    gateway = await startGateway({ ...sandbox, key: 'e2e-v1-only-key' }, ['--card-deadline-secs', '8']);
    const first = await card(gateway, 'domain=acme.test');
    assert.equal(first.status, 200);
    assert.ok(first.ms <= 8500, `answered in ${first.ms} ms`);
    assert.equal(first.body.status, 'matched', JSON.stringify(first.body));
    assert.equal(first.body.partial, true);
    assert.equal(first.body.entity.name, 'Acme Corporation');
    // The look-up went on after the deadline and kept the whole card for the next caller.
    await until('the look-up to finish', async () => (await metric(gateway, 'lens_gateway_lookups_running')) === 0, 60000);
    const hits = await metric(gateway, 'lens_gateway_card_cache_hits_total');
    const next = await card(gateway, 'domain=acme.test');
    assert.equal(next.body.partial, false);
    assert.ok(next.body.connections.length > 0, 'the whole card');
    assert.ok(next.ms < 1000, `${next.ms} ms`);
    assert.equal(await metric(gateway, 'lens_gateway_card_cache_hits_total'), hits + 1);
  } finally {
    gateway?.stop();
    sandbox.stop();
  }
});

test('a caller whose look-ups spend its share of Affinity calls waits; the others do not', async () => {
  await withServers([], ['--caller-calls-per-min', '20', '--caller-per-min', '1000'], async (gateway) => {
    let refused = null;
    for (let i = 0; i < 40 && !refused; i++) {
      const r = await card(gateway, `domain=prospect-${i}.test`);
      if (r.status === 429) refused = r;
    }
    assert.ok(refused, 'the caller was never held back');
    assert.match(refused.body.error, /Affinity's calls this minute/);
    assert.equal((await card(gateway, 'domain=acme.test', auth(OTHER_TOKEN))).status, 200, 'another caller');
  }, { tokens: [GATEWAY_TOKEN, OTHER_TOKEN] });
});

test("below the month's reserve, the month's reset brings look-ups back", async () => {
  await withServers(['--monthly-budget', '40', '--month-secs', '20'], ['--reserve-percent', '50'], async (gateway) => {
    // Spend the month down to the reserve.
    for (let i = 0; i < 30; i++) {
      const r = await card(gateway, `domain=spend-${i}.test`);
      if (r.body?.error?.kind === 'budget_reserve') break;
    }
    assert.equal((await card(gateway, 'domain=globex.test')).body.error?.kind, 'budget_reserve');
    // After the month turns, a cold card is looked up again.
    await until('a look-up after the reset', async () => (await card(gateway, 'domain=globex.test')).body.status === 'matched', 40000);
  });
});

test('the log shows request values escaped, one request a line', async () => {
  await withServers([], [], async (gateway) => {
    await fetch(`${gateway.url}/affinity/card?domain=x%0AGET%20/affinity/card?domain=competitor.com%20200%203ms%1B[31m`, { headers: auth() });
    await until('the request in the log', async () => gateway.log().includes('competitor.com'), 5000);
    const lines = gateway.log().split('\n').filter((l) => l.includes('competitor.com'));
    assert.equal(lines.length, 1, gateway.log());
    assert.ok(!/[\x00-\x08\x0b-\x1f]/.test(lines[0]), JSON.stringify(lines[0]));
  });
});
