// The gateway's index of the firm's companies (GET /affinity/index) with two replicas and
// Redis (Debian's redis-server, started here): one sync for the firm, and a Status change
// and a new organization, sent as webhooks by the sandbox to one replica, served by both
// within 5 s. The served bytes are read with `affinity-lens index lookup --from-file`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, startGateway, freePort, lensBinary, GATEWAY_TOKEN, startRedis } from './harness.mjs';

const headers = { authorization: `Bearer ${GATEWAY_TOKEN}` };
const SECRET = 'e2e-webhook-secret-index-0123456789';

let sandbox, redis, a, b, dir;

async function api(path, init = {}) {
  const r = await fetch(`${sandbox.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  assert.ok(r.ok, `${init.method ?? 'GET'} ${path}: ${r.status} ${await r.clone().text()}`);
  return r.json();
}

async function metric(gateway, name) {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers })).text();
  return Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))[1]);
}

/** What the index bytes say of `domain`, read by the CLI. */
function lookup(bytes, domain) {
  const file = join(dir, `index-${Math.random().toString(16).slice(2)}.bin`);
  writeFileSync(file, bytes);
  const out = execFileSync(lensBinary(), ['index', 'lookup', '--from-file', file, '--json', domain], { encoding: 'utf8' });
  rmSync(file);
  return JSON.parse(out).answers[0].found;
}

/** The index a replica serves now: its bytes and ETag (waits up to 15 s for the first). */
async function served(gateway) {
  const until = Date.now() + 15000;
  for (;;) {
    const r = await fetch(`${gateway.url}/affinity/index`, { headers });
    if (r.status === 200) return { bytes: Buffer.from(await r.arrayBuffer()), etag: r.headers.get('etag') };
    assert.equal(r.status, 503, `${r.status} ${await r.text()}`);
    assert.ok(Date.now() < until, 'no index within 15 s');
    await new Promise((res) => setTimeout(res, 200));
  }
}

/**
 * Polls `gateway` with If-None-Match from `etag` until `check(found)` holds for `domain` in
 * the index it serves; resolves with the time it took from `started`, or fails after 5 s.
 */
async function arrives(gateway, etag, domain, check, started) {
  let decoded = 0;
  while (Date.now() - started < 5000) {
    const r = await fetch(`${gateway.url}/affinity/index`, { headers: { ...headers, 'if-none-match': etag } });
    if (r.status === 200) {
      const bytes = Buffer.from(await r.arrayBuffer());
      etag = r.headers.get('etag');
      decoded++;
      if (check(lookup(bytes, domain))) return Date.now() - started;
    } else {
      assert.equal(r.status, 304);
    }
    await new Promise((res) => setTimeout(res, 50));
  }
  assert.fail(`the change to ${domain} did not reach ${gateway.url} within 5 s (${decoded} new indexes read)`);
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lens-gateway-index-'));
  writeFileSync(join(dir, 'secret'), `${SECRET}\n`);
  sandbox = await startSandbox();
  redis = await startRedis();
  // Affinity calls one public URL: replica a's here (a load balancer's in a firm).
  const portA = await freePort();
  const hook = ['--public-url', `http://127.0.0.1:${portA}`, '--webhook-secret-file', join(dir, 'secret')];
  a = await startGateway(sandbox, ['--redis', redis.url, ...hook], { port: portA });
  b = await startGateway(sandbox, ['--redis', redis.url, ...hook]);
});

after(async () => {
  a?.stop();
  b?.stop();
  sandbox?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('one replica syncs the index for the firm; the other loads it from Redis and serves the same', async () => {
  const [fromA, fromB] = await Promise.all([served(a), served(b)]);
  assert.equal(fromA.etag, fromB.etag, 'the replicas serve different indexes');
  const syncs = (await metric(a, 'lens_gateway_index_syncs_total')) + (await metric(b, 'lens_gateway_index_syncs_total'));
  assert.equal(syncs, 1, 'both replicas synced');
  // The sandbox read the directory once: one first page (GET /organizations?page_size=500
  // without a page token).
  const { requests } = await api('/_sandbox/requests');
  const directory = requests.filter((r) => r.startsWith('GET /organizations?') && r.includes('page_size=500') && !r.includes('page_token'));
  assert.equal(directory.length, 1, directory.join('\n'));
  const acme = lookup(fromB.bytes, 'acme.test');
  assert.equal(acme.length, 1);
  assert.ok(acme[0].lists.some((l) => l.list_name === 'Deal Pipeline'));
  assert.ok(!acme[0].lists.some((l) => l.list_name === 'Board Confidential'), 'a private list is served');
});

test('a Status change and a new organization reach the index served by both replicas within 5 s', async () => {
  // The webhook subscription is made once the replicas listen.
  const until = Date.now() + 10000;
  while ((await api('/webhook')).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  assert.equal((await api('/webhook')).length, 1);
  const [fromA, fromB] = await Promise.all([served(a), served(b)]);

  // 1. The Status of Acme's Deal Pipeline entry changes.
  const acme = (await api('/organizations?term=acme.test')).organizations[0];
  const entry = (await api('/lists/10/list-entries')).find((e) => e.entity_id === acme.id);
  const statusField = (await api('/fields?list_id=10')).find((f) => f.name === 'Status');
  const before = lookup(fromA.bytes, 'acme.test')[0].lists.find((l) => l.entry_id === entry.id);
  const option = statusField.dropdown_options.find((o) => o.text !== before.status?.text);
  const values = await api(`/field-values?organization_id=${acme.id}`);
  const current = values.find((v) => v.field_id === statusField.id && v.list_entry_id === entry.id);
  let started = Date.now();
  if (current) await api(`/field-values/${current.id}`, { method: 'PUT', body: JSON.stringify({ value: option.id }) });
  else await api('/field-values', { method: 'POST', body: JSON.stringify({ field_id: statusField.id, entity_id: acme.id, list_entry_id: entry.id, value: option.id }) });
  const hasStatus = (found) => found[0]?.lists.find((l) => l.entry_id === entry.id)?.status?.text === option.text;
  const status = await Promise.all([a, b].map((g, i) => arrives(g, [fromA, fromB][i].etag, 'acme.test', hasStatus, started)));

  // 2. A new organization.
  const [nowA, nowB] = await Promise.all([served(a), served(b)]);
  started = Date.now();
  const created = await api('/organizations', { method: 'POST', body: JSON.stringify({ name: 'Indexed Newco', domain: 'indexed-newco.test' }) });
  const isThere = (found) => found.some((c) => c.id === created.id && c.name === 'Indexed Newco');
  const organization = await Promise.all([a, b].map((g, i) => arrives(g, [nowA, nowB][i].etag, 'www.indexed-newco.test', isThere, started)));
  console.log(`webhook to the index served: Status a ${status[0]} ms, b ${status[1]} ms; new organization a ${organization[0]} ms, b ${organization[1]} ms`);

  // Both serve the same index again, and neither synced for it.
  const [endA, endB] = await Promise.all([served(a), served(b)]);
  assert.equal(endA.etag, endB.etag);
  const syncs = (await metric(a, 'lens_gateway_index_syncs_total')) + (await metric(b, 'lens_gateway_index_syncs_total'));
  assert.equal(syncs, 1);
});

test('an unchanged index costs a 304 without a body; without a token, 401', async () => {
  const { etag } = await served(b);
  const r = await fetch(`${b.url}/affinity/index`, { headers: { ...headers, 'if-none-match': etag } });
  assert.equal(r.status, 304);
  assert.equal(r.headers.get('etag'), etag);
  assert.equal(r.headers.get('cache-control'), 'private, no-cache');
  assert.equal((await r.arrayBuffer()).byteLength, 0);
  assert.equal((await fetch(`${a.url}/affinity/index`)).status, 401);
});
