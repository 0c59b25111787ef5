// The gateway as a firm runs it for everybody: aborted requests, callers without
// credentials, foreign hosts, a caller spending too much, the month's reserve, private
// lists, slow clients, and many distinct domains. Each test starts the real binary in
// front of the sandbox.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { startSandbox, startGateway, GATEWAY_TOKEN } from './harness.mjs';

const auth = (token = GATEWAY_TOKEN) => ({ authorization: `Bearer ${token}` });

async function metric(gateway, name) {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers: auth() })).text();
  const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'));
  assert.ok(m, `${name} in /metrics`);
  return Number(m[1]);
}

async function card(gateway, query, headers = auth()) {
  const r = await fetch(`${gateway.url}/affinity/card?${query}`, { headers });
  return { status: r.status, headers: r.headers, body: await r.json().catch(() => null) };
}

async function until(what, check, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
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

test('after a storm of aborted cold requests the gateway still answers in the normal time', async () => {
  await withServers(['--latency-ms', '500'], [], async (gateway) => {
    const domains = ['acme.test', 'globex.test', 'initech.test', 'megacorp.test', 'solo.test', 'twice.test', 'shared.test', 'unicode.test'];
    await Promise.all(domains.map(async (d) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      await fetch(`${gateway.url}/affinity/card?domain=${d}`, { headers: auth(), signal: controller.signal }).catch(() => {});
    }));
    // Every abandoned look-up gives back its slots.
    await until('every Affinity request slot to be free', async () =>
      (await metric(gateway, 'lens_gateway_affinity_in_flight')) === 0
      && (await metric(gateway, 'lens_gateway_lookups_in_flight')) === 0);
    const started = Date.now();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 30000);
    const r = await fetch(`${gateway.url}/affinity/card?domain=html.test`, { headers: auth(), signal: controller.signal });
    clearTimeout(timer);
    const body = await r.json();
    assert.equal(r.status, 200);
    assert.equal(body.status, 'matched');
    assert.ok(Date.now() - started < 8000, `a card after the storm took ${Date.now() - started} ms`);
  });
});

test('callers must say who they are: no token, a wrong one, or a proxy header from elsewhere get 401 and cost nothing', async () => {
  await withServers([], ['--trusted-user-header', 'X-Forwarded-Email', '--trusted-proxy', '10.9.9.9'], async (gateway) => {
    const before = await metric(gateway, 'lens_gateway_affinity_requests_total');
    const none = await card(gateway, 'domain=acme.test', {});
    assert.equal(none.status, 401);
    assert.equal(none.headers.get('www-authenticate'), 'Bearer');
    assert.equal((await card(gateway, 'domain=acme.test', auth('not-the-token-at-all'))).status, 401);
    // The header is believed only from the trusted proxy; this test is not it.
    assert.equal((await card(gateway, 'domain=acme.test', { 'x-forwarded-email': 'ann@firm.test' })).status, 401);
    assert.equal(await metric(gateway, 'lens_gateway_affinity_requests_total'), before, 'a refused caller cost Affinity calls');
    assert.equal((await card(gateway, 'domain=acme.test')).status, 200, 'the token still works');
  });
  // From a trusted proxy address, the header names the caller; a request without an Origin
  // so named (a browser's cookie, maybe for another site's page) must say it is ours.
  await withServers([], ['--trusted-user-header', 'X-Forwarded-Email', '--trusted-proxy', '127.0.0.1'], async (gateway) => {
    assert.equal((await card(gateway, 'domain=acme.test', { 'x-forwarded-email': 'ann@firm.test' })).status, 403);
    const r = await card(gateway, 'domain=acme.test', { 'x-forwarded-email': 'ann@firm.test', 'x-affinity-lens': '1' });
    assert.equal(r.status, 200);
    assert.equal(r.body.entity.name, 'Acme Corporation');
  }, { tokens: [] });
});

test('the gateway refuses to start without a way to know its callers', async () => {
  const sandbox = await startSandbox();
  try {
    await assert.rejects(startGateway(sandbox, [], { tokens: [] }), /needs to know who is asking/);
    await assert.rejects(startGateway(sandbox, [], { tokens: ['short'] }), /shorter than 16/);
    const demo = await startGateway(sandbox, ['--no-auth'], { tokens: [] });
    assert.match(demo.log(), /WARNING: --no-auth/);
    assert.equal((await card(demo, 'domain=acme.test', {})).status, 200);
    demo.stop();
  } finally {
    sandbox.stop();
  }
});

function rawGet(url, headers) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end();
  });
}

test('a request for another host name is refused with 421 (no DNS rebinding), before any look-up', async () => {
  await withServers([], ['--public-host', 'lens.intranet.test'], async (gateway) => {
    const url = `${gateway.url}/affinity/card?domain=acme.test`;
    assert.equal(await rawGet(url, { ...auth(), host: `rebound.attacker.test:${gateway.port}` }), 421);
    assert.equal(await rawGet(url, { ...auth(), host: 'lens.intranet.test' }), 200);
    assert.equal(await rawGet(url, { ...auth(), host: `127.0.0.1:${gateway.port}` }), 200);
    assert.equal(await metric(gateway, 'lens_gateway_requests_total{outcome="wrong_host"}'), 1);
  });
});

test('a caller over its per-minute limit gets 429 with Retry-After while other callers are served', async () => {
  const other = 'second-intranet-token-0002';
  await withServers([], ['--caller-per-min', '2'], async (gateway) => {
    assert.equal((await card(gateway, 'domain=acme.test')).status, 200);
    assert.equal((await card(gateway, 'domain=globex.test')).status, 200);
    const over = await card(gateway, 'domain=initech.test');
    assert.equal(over.status, 429);
    const wait = Number(over.headers.get('retry-after'));
    assert.ok(wait >= 1 && wait <= 60, `Retry-After ${wait}`);
    assert.match(over.body.error, /try again in \d+ s/);
    // A card looked up before is free, even for this caller.
    assert.equal((await card(gateway, 'domain=acme.test')).status, 200);
    // Another caller is served.
    const r = await card(gateway, 'domain=initech.test', auth(other));
    assert.equal(r.status, 200);
    assert.equal(r.body.entity.name, 'Initech');
  }, { tokens: [GATEWAY_TOKEN, other] });
});

test('below the monthly reserve only cached cards are served, and that costs nothing', async () => {
  // What the month's budget is charged: every call but `GET /rate-limit` (free, read now
  // and then in reserve mode to learn when the month resets).
  const charged = async (sandbox) => {
    const r = await fetch(`${sandbox.url}/_sandbox/requests`, { headers: { authorization: `Bearer ${sandbox.key}` } });
    return (await r.json()).requests.filter((what) => what !== 'GET /rate-limit').length;
  };
  await withServers(['--monthly-budget', '40'], ['--reserve-percent', '90'], async (gateway, sandbox) => {
    const first = await card(gateway, 'domain=acme.test');
    assert.equal(first.body.status, 'matched');
    const spent = await charged(sandbox);
    assert.ok((await metric(gateway, 'lens_gateway_budget_percent_left')) < 90);
    const again = await card(gateway, 'domain=acme.test');
    assert.equal(again.body.entity.name, 'Acme Corporation');
    const refused = await card(gateway, 'domain=globex.test');
    assert.equal(refused.status, 200);
    assert.equal(refused.body.status, 'error');
    assert.equal(refused.body.error.kind, 'budget_reserve');
    assert.match(refused.body.error.message, /reserve/);
    assert.equal(await charged(sandbox), spent, 'below the reserve Affinity was called');
  });
});

test('a list that is not public stays off gateway cards unless named with --show-list', async () => {
  await withServers([], [], async (gateway) => {
    const { body } = await card(gateway, 'domain=acme.test');
    const lists = body.lists.map((l) => l.list_name);
    assert.ok(lists.includes('Deal Pipeline'), lists.join());
    assert.ok(!lists.includes('Board Confidential'), 'a private list reached the card');
    // Nor its entry's fields (#23); and the gateway offers no field to change.
    assert.ok(!body.fields.some((e) => e.list_id === 17), 'a private list\'s fields reached the card');
    assert.ok(body.fields.every((e) => e.fields.every((f) => !f.editable)));
    // Nothing tells anyone the name of a private list: not /healthz (asked by anyone), not
    // the log (it names the hidden lists by id).
    const health = await (await fetch(`${gateway.url}/healthz`)).json();
    assert.deepEqual(health, { status: 'ok' });
    assert.match(gateway.log(), /1 list\(s\) hidden from cards .*ids 17/);
    assert.ok(!gateway.log().includes('Board Confidential'), 'a private list is named in the log');
  });
  await withServers([], ['--show-list', 'Board Confidential'], async (gateway) => {
    const { body } = await card(gateway, 'domain=acme.test');
    assert.ok(body.lists.map((l) => l.list_name).includes('Board Confidential'));
  });
});

test('a list created after the gateway read the lists is shown only if it is public (no list fails open)', async () => {
  await withServers([], [], async (gateway, sandbox) => {
    // The gateway reads (and keeps) the lists while looking up another company.
    assert.equal((await card(gateway, 'domain=globex.test')).body.status, 'matched');
    const api = async (path, body) => {
      const r = await fetch(`${sandbox.url}${path}`, { method: 'POST', body: JSON.stringify(body),
        headers: { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json' } });
      assert.ok(r.ok, `${path}: ${r.status} ${await r.clone().text()}`);
      return r.json();
    };
    const secret = await api('/v2/lists', { name: 'Partners Only', type: 'company', isPublic: false });
    const open = await api('/v2/lists', { name: 'Open Watchlist', type: 'company', isPublic: true });
    const acme = 7133202;
    await api(`/lists/${secret.id}/list-entries`, { entity_id: acme });
    await api(`/lists/${open.id}/list-entries`, { entity_id: acme });
    // Acme's entries are read fresh; the lists the gateway kept know neither new list.
    const { body } = await card(gateway, 'domain=acme.test');
    const lists = body.lists.map((l) => l.list_name ?? l.list_id);
    assert.ok(lists.includes('Open Watchlist'), `the new public list is missing: ${lists.join()}`);
    assert.ok(!lists.includes('Partners Only') && !lists.includes(secret.id), `a new private list reached the card: ${lists.join()}`);
  });
});

function closedWithin(socket, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.on('close', () => { clearTimeout(timer); resolve(true); });
    socket.on('error', () => {});
  });
}

test('a slow client that never finishes its request head, or an idle connection, is dropped', async () => {
  await withServers([], ['--header-timeout-secs', '1'], async (gateway) => {
    const slow = connect(gateway.port, '127.0.0.1');
    await new Promise((r) => slow.on('connect', r));
    slow.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\n`); // and nothing more
    assert.ok(await closedWithin(slow, 4000), 'the slow connection is still open');
    // An idle keep-alive connection after a whole request is closed too.
    const idle = connect(gateway.port, '127.0.0.1');
    await new Promise((r) => idle.on('connect', r));
    let answered = '';
    idle.on('data', (d) => { answered += d; });
    idle.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${gateway.port}\r\n\r\n`);
    assert.ok(await closedWithin(idle, 4000), 'the idle connection is still open');
    assert.match(answered, /^HTTP\/1.1 200/);
    assert.equal(await metric(gateway, 'lens_gateway_open_connections'), 1, 'only the metrics request is open');
  });
});

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1]) / 1024;
}

// The bound stated in the README: the gateway's caches are bounded in bytes (64 MiB of
// answers and 16 MiB of cards by default), so its memory stays under 160 MiB however many
// distinct domains it is asked about.
export const MEMORY_BOUND_MIB = 160;

test(`10,000 distinct unknown domains leave the gateway under ${MEMORY_BOUND_MIB} MiB`, async () => {
  await withServers(['--rate-limit-per-min', '1000000'],
    ['--caller-per-min', '1000000', '--caller-calls-per-min', '1000000', '--rate-limit-per-min', '1000000', '--cache-mib', '64'], async (gateway) => {
      let next = 0;
      let errors = 0;
      const worker = async () => {
        while (next < 10000) {
          const i = next++;
          const r = await fetch(`${gateway.url}/affinity/card?domain=nobody-${i}.test`, { headers: auth() });
          const body = await r.json();
          if (r.status !== 200 || body.status !== 'not_found') errors++;
        }
      };
      await Promise.all(Array.from({ length: 24 }, worker));
      assert.equal(errors, 0);
      const rss = rssMiB(gateway.pid);
      console.log(`gateway RSS after 10,000 distinct unknown domains: ${rss.toFixed(1)} MiB`);
      assert.ok(rss < MEMORY_BOUND_MIB, `${rss.toFixed(1)} MiB`);
      assert.equal(await metric(gateway, 'lens_gateway_lookups_in_flight'), 0);
    });
});
