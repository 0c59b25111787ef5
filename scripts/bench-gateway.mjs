// The gateway under load, as `npm run bench` measures it (`node scripts/bench.mjs --only gateway`):
//   - 50 clients with a client token asking for cards as fast as they are answered, for
//     cards in the card cache (warm: most page views are of companies seen lately) and for
//     distinct domains (cold: every card a look-up, sandbox latency 100 ms);
//   - the gateway's memory (RSS) after 10,000 distinct unknown domains;
//   - Affinity calls for 1,000 page views by 10 users over 100 companies, each user with
//     a cache of their own (as the extension alone) against one shared gateway (team mode);
//   - the time from a write in the sandbox to the changed card (webhooks).
// Every number comes from the real binary in front of the sandbox, both on loopback.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, startGateway, freePort, GATEWAY_TOKEN } from '../tests/e2e/harness.mjs';

const headers = { authorization: `Bearer ${GATEWAY_TOKEN}` };

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** `clients` loops asking for `next()` until it returns null or `seconds` pass. */
async function load(gateway, clients, seconds, next) {
  const times = [];
  let failed = 0;
  const end = Date.now() + seconds * 1000;
  const started = Date.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    for (let q = next(); q && Date.now() < end; q = next()) {
      const t = performance.now();
      const r = await fetch(`${gateway.url}/affinity/card?${q}`, { headers });
      const body = await r.json().catch(() => null);
      times.push(performance.now() - t);
      if (r.status !== 200 || !body?.status || body.status === 'error') failed++;
    }
  }));
  const elapsed = (Date.now() - started) / 1000;
  times.sort((a, b) => a - b);
  return { cards: times.length, perSecond: times.length / elapsed, p50: percentile(times, 50), p99: percentile(times, 99), failed };
}

async function metric(gateway, name) {
  const text = await (await fetch(`${gateway.url}/metrics`, { headers })).text();
  return Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1]);
}

function rssMiB(pid) {
  return Number(readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)[1]) / 1024;
}

export async function runGatewayBench({ log = console.log } = {}) {
  const rows = [];
  const open = ['--caller-per-min', '1000000', '--caller-calls-per-min', '1000000', '--rate-limit-per-min', '1000000'];
  // Warm and cold cards with 50 clients, sandbox latency 100 ms.
  {
    const sandbox = await startSandbox(['--latency-ms', '100', '--rate-limit-per-min', '1000000']);
    const gateway = await startGateway(sandbox, open);
    try {
      const known = ['acme.test', 'globex.test', 'initech.test', 'megacorp.test', 'solo.test', 'twice.test', 'shared.test', 'unicode.test'];
      for (const d of known) await fetch(`${gateway.url}/affinity/card?domain=${d}`, { headers });
      let i = 0;
      const warm = await load(gateway, 50, 10, () => `domain=${known[i++ % known.length]}`);
      rows.push(['warm (card cache), 50 clients, 10 s', warm]);
      log(`warm: ${warm.perSecond.toFixed(0)} cards/s, p99 ${warm.p99.toFixed(1)} ms`);
      const callsBefore = await metric(gateway, 'lens_gateway_affinity_requests_total');
      let j = 0;
      const cold = await load(gateway, 50, 20, () => `domain=cold-${j++}.test`);
      const calls = (await metric(gateway, 'lens_gateway_affinity_requests_total')) - callsBefore;
      cold.calls = calls / cold.cards;
      rows.push(['cold (distinct unknown domains), 50 clients, 20 s', cold]);
      log(`cold: ${cold.perSecond.toFixed(1)} cards/s, p99 ${cold.p99.toFixed(0)} ms, ${cold.calls.toFixed(1)} Affinity calls a card`);
    } finally {
      gateway.stop();
      sandbox.stop();
    }
  }
  // Memory after 10,000 distinct unknown domains (no latency, so that it is quick).
  let memory;
  {
    const sandbox = await startSandbox(['--rate-limit-per-min', '1000000']);
    const gateway = await startGateway(sandbox, open);
    try {
      const before = rssMiB(gateway.pid);
      let k = 0;
      await load(gateway, 24, 600, () => (k < 10000 ? `domain=nobody-${k++}.test` : null));
      memory = { before, after: rssMiB(gateway.pid), cacheBytes: await metric(gateway, 'lens_gateway_cache_bytes{cache="responses"}') };
      log(`memory: ${memory.before.toFixed(1)} MiB at start, ${memory.after.toFixed(1)} MiB after 10,000 domains`);
    } finally {
      gateway.stop();
      sandbox.stop();
    }
  }
  // 1,000 page views by 10 users over 100 companies: each user's own cache (as the
  // extension alone keeps it) against one shared gateway (team mode).
  const sharing = {};
  {
    const sandbox = await startSandbox(['--rate-limit-per-min', '1000000']);
    const users = [];
    try {
      const orgs = (await (await fetch(`${sandbox.url}/organizations?page_size=100&term=.com`, { headers: { authorization: `Bearer ${sandbox.key}` } })).json()).organizations;
      const companies = orgs.map((o) => o.domain).filter(Boolean).slice(0, 100);
      // A fixed sequence of views: user u looks at company c.
      let seed = 7;
      const random = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
      const views = Array.from({ length: 1000 }, () => [Math.floor(random() * 10), companies[Math.floor(random() * companies.length)]]);
      for (let u = 0; u < 10; u++) users.push(await startGateway(sandbox, open));
      const team = await startGateway(sandbox, open);
      users.push(team);
      const spent = async (g) => metric(g, 'lens_gateway_affinity_requests_total');
      for (const [u, d] of views) await fetch(`${users[u].url}/affinity/card?domain=${d}`, { headers });
      let alone = 0;
      for (let u = 0; u < 10; u++) alone += await spent(users[u]);
      for (const [, d] of views) await fetch(`${team.url}/affinity/card?domain=${d}`, { headers });
      sharing.alone = alone;
      sharing.team = await spent(team);
      sharing.companies = companies.length;
      log(`1,000 page views: ${alone} Affinity calls with 10 separate caches, ${sharing.team} through one gateway`);
    } finally {
      for (const g of users) g.stop();
      sandbox.stop();
    }
  }
  // From a write in the sandbox to the changed card: the webhook, the change event on
  // /affinity/events, and the card fetched again (5 writes, the median).
  const freshness = [];
  {
    const sandbox = await startSandbox();
    const dir = mkdtempSync(join(tmpdir(), 'lens-bench-'));
    writeFileSync(join(dir, 'secret'), 'bench-webhook-secret-0123456789abcdef');
    const port = await freePort();
    const gateway = await startGateway(sandbox, [...open, '--public-url', `http://127.0.0.1:${port}`, '--webhook-secret-file', join(dir, 'secret')], { port });
    const affinity = { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json' };
    try {
      await new Promise((r) => setTimeout(r, 500)); // the subscription
      const acme = await (await fetch(`${gateway.url}/affinity/card?domain=acme.test`, { headers })).json();
      const entry = acme.lists.find((l) => l.list_name === 'Deal Pipeline');
      const fields = await (await fetch(`${sandbox.url}/fields?list_id=${entry.list_id}`, { headers: affinity })).json();
      const status = fields.find((f) => f.name === 'Status');
      const values = await (await fetch(`${sandbox.url}/field-values?organization_id=${acme.entity.id}`, { headers: affinity })).json();
      const value = values.find((v) => v.field_id === status.id && v.list_entry_id === entry.entry_id);
      const events = await fetch(`${gateway.url}/affinity/events`, { headers });
      const reader = events.body.pipeThrough(new TextDecoderStream()).getReader();
      for (let i = 0; i < 5; i++) {
        const option = status.dropdown_options[i % status.dropdown_options.length];
        const t = performance.now();
        await fetch(`${sandbox.url}/field-values/${value.id}`, { method: 'PUT', headers: affinity, body: JSON.stringify({ value: option.id }) });
        for (let text = ''; !text.includes('event: change');) text += (await reader.read()).value;
        const card = await (await fetch(`${gateway.url}/affinity/card?domain=acme.test`, { headers })).json();
        if (card.lists.find((l) => l.entry_id === entry.entry_id)?.status?.text === option.text) freshness.push(performance.now() - t);
      }
      reader.cancel();
      freshness.sort((a, b) => a - b);
      log(`write to updated card: median ${freshness[2]?.toFixed(0)} ms over ${freshness.length} writes`);
    } finally {
      gateway.stop();
      sandbox.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const fmt = (n, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '–');
  const markdown = `| load | cards | cards/s | p50 | p99 | error cards (e.g. cut at the deadline) | Affinity calls a card |
|---|---:|---:|---:|---:|---:|---:|
${rows.map(([name, r]) => `| ${name} | ${r.cards} | ${fmt(r.perSecond)} | ${fmt(r.p50)} ms | ${fmt(r.p99)} ms | ${r.failed} | ${r.calls === undefined ? '0 (cached)' : fmt(r.calls)} |`).join('\n')}

| memory of the gateway (RSS) | MiB |
|---|---:|
| at start | ${fmt(memory.before)} |
| after 10,000 distinct unknown domains | ${fmt(memory.after)} |
| of which cached Affinity answers (bytes counted by the cache) | ${fmt(memory.cacheBytes / 1048576)} |

| 1,000 page views by 10 users over ${sharing.companies} companies | Affinity calls |
|---|---:|
| each user with their own cache (the extension alone) | ${sharing.alone} |
| every user through one gateway (team mode) | ${sharing.team} |

| from a write in Affinity (the sandbox) to the changed card | ms |
|---|---:|
| median of ${freshness.length} Status changes (webhook → change event → card fetched again) | ${fmt(freshness[Math.floor(freshness.length / 2)], 0)} |`;
  return { markdown };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { markdown } = await runGatewayBench();
  console.log(`\n${markdown}`);
}
