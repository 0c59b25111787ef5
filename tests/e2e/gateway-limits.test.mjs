// Affinity's per-minute limit across replicas and restarts: two replicas sharing Redis,
// driven past the key's limit for two minutes (Redis killed halfway), never make Affinity
// answer 429 and never let more than the limit into a minute; a gateway started right
// after another one spent the key's minute believes Affinity's headers from its first
// answer on, and sends nothing Affinity refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startSandbox, startGateway, GATEWAY_TOKEN, startRedis } from './harness.mjs';

const headers = { authorization: `Bearer ${GATEWAY_TOKEN}` };
const LIMIT = 300;
const UNCAPPED = ['--caller-per-min', '1000000', '--caller-calls-per-min', '1000000', '--rate-limit-per-min', String(LIMIT)];

async function metric(gateway, name) {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers })).text();
  return Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))[1]);
}

/** The most requests the sandbox let through in any 60-second window, and in all (`GET
 *  /rate-limit` aside: Affinity does not count it against the minute). */
async function busiestMinute(sandbox) {
  const r = await fetch(`${sandbox.url}/_sandbox/requests`, { headers: { authorization: `Bearer ${sandbox.key}` } });
  const { times_ms: all, requests } = await r.json();
  const times = all.filter((_, i) => requests[i] !== 'GET /rate-limit');
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (times[j] <= times[i] - 60000) j++;
    most = Math.max(most, i - j + 1);
  }
  return { most, total: times.length };
}

/** Asks `gateways` in turn for cards of distinct unknown companies (a call each, at least),
 *  `concurrency` at a time, for `ms`; calls `at(ms)` once, `halfway` through. */
async function saturate(gateways, ms, { concurrency = 24, halfway } = {}) {
  const until = Date.now() + ms;
  let n = 0;
  let calledHalfway = false;
  const statuses = {};
  const worker = async () => {
    while (Date.now() < until) {
      if (halfway && !calledHalfway && Date.now() > until - ms / 2) { calledHalfway = true; await halfway(); }
      const i = n++;
      const g = gateways[i % gateways.length];
      const r = await fetch(`${g.url}/affinity/card?domain=limit-${i}.test`, { headers }).catch(() => null);
      const body = await r?.json().catch(() => null);
      const key = r ? `${r.status} ${body?.status ?? ''} ${body?.error?.kind ?? ''}`.trim() : 'refused';
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

test('two replicas driven past the key\'s limit for two minutes, Redis killed halfway: no 429, no minute over the limit', async () => {
  const redis = await startRedis();
  const sandbox = await startSandbox(['--rate-limit-per-min', String(LIMIT)]);
  const a = await startGateway(sandbox, [...UNCAPPED, '--redis', redis.url]);
  const b = await startGateway(sandbox, [...UNCAPPED, '--redis', redis.url]);
  try {
    await new Promise((r) => setTimeout(r, 2500)); // both replicas see each other
    const statuses = await saturate([a, b], 120000, { halfway: () => redis.kill() });
    const { most, total } = await busiestMinute(sandbox);
    const refused = (await metric(a, 'lens_gateway_affinity_rate_limited_total')) + (await metric(b, 'lens_gateway_affinity_rate_limited_total'));
    console.log(`two minutes past the limit: ${total} calls, busiest minute ${most}, 429s ${refused}; answers ${JSON.stringify(statuses)}`);
    assert.equal(refused, 0, 'Affinity answered 429');
    assert.ok(most <= LIMIT, `${most} calls in one minute`);
    assert.ok(total > LIMIT, `the key was driven to its limit (${total} calls)`);
  } finally {
    a.stop();
    b.stop();
    sandbox.stop();
    await redis.kill().catch(() => {});
  }
});

test('a gateway started right after another one spent the key\'s minute sends nothing Affinity refuses', async () => {
  const sandbox = await startSandbox(['--rate-limit-per-min', '100']);
  const args = ['--caller-per-min', '1000000', '--caller-calls-per-min', '1000000', '--rate-limit-per-min', '100'];
  const first = await startGateway(sandbox, args);
  await saturate([first], 8000, { concurrency: 12 });
  const spent = await busiestMinute(sandbox);
  first.stop();
  assert.ok(spent.most >= 95, `the first gateway spent the minute (${spent.most})`);
  const second = await startGateway(sandbox, args);
  try {
    const statuses = await saturate([second], 10000, { concurrency: 12 });
    console.log(`the next gateway's answers: ${JSON.stringify(statuses)}`);
    assert.equal(await metric(second, 'lens_gateway_affinity_rate_limited_total'), 0, 'Affinity answered 429');
    const after = await busiestMinute(sandbox);
    assert.ok(after.most <= 100, `${after.most} calls in one minute`);
  } finally {
    second.stop();
    sandbox.stop();
  }
});

test("a caller's share of Affinity calls is counted across replicas: spent on one, held back on the other", async () => {
  const other = 'second-intranet-token-0002';
  const redis = await startRedis();
  const sandbox = await startSandbox();
  const args = ['--caller-calls-per-min', '20', '--caller-per-min', '1000', '--redis', redis.url];
  const a = await startGateway(sandbox, args, { tokens: [GATEWAY_TOKEN, other] });
  const b = await startGateway(sandbox, args, { tokens: [GATEWAY_TOKEN, other] });
  try {
    // Spend the caller's share on replica a (cold look-ups of unknown companies).
    let spentOnA = false;
    for (let i = 0; i < 40 && !spentOnA; i++) {
      spentOnA = (await fetch(`${a.url}/affinity/card?domain=share-${i}.test`, { headers })).status === 429;
    }
    assert.ok(spentOnA, 'replica a never held the caller back');
    // Replica b, which this caller has not used, knows the share is spent.
    const r = await fetch(`${b.url}/affinity/card?domain=share-b.test`, { headers });
    assert.equal(r.status, 429, 'replica b let the caller spend its share again');
    assert.match((await r.json()).error, /Affinity's calls this minute/);
    // Another caller is served by either.
    const served = await fetch(`${b.url}/affinity/card?domain=acme.test`, { headers: { authorization: `Bearer ${other}` } });
    assert.equal(served.status, 200);
  } finally {
    a.stop();
    b.stop();
    sandbox.stop();
    await redis.kill();
  }
});
