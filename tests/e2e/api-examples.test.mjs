// The affinity-api crate's two examples, run as an integrator would, against the sandbox:
// whoami names the key's user and firm; list_entries pages through a whole list and sees
// every entry the sandbox holds, exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root, startSandbox } from './harness.mjs';

const run = promisify(execFile);

function example(name) {
  for (const profile of ['native', 'release', 'debug']) {
    const p = join(root, 'target', profile, 'examples', name);
    if (existsSync(p)) return p;
  }
  throw new Error(`the ${name} example is not built: cargo build --profile native -p affinity-api --examples`);
}

test('the whoami example names the key\'s user and firm', async (t) => {
  const sandbox = await startSandbox();
  t.after(sandbox.stop);
  const env = { ...process.env, AFFINITY_BASE_URL: sandbox.url, AFFINITY_API_KEY: sandbox.key };
  const whoami = await fetch(`${sandbox.url}/auth/whoami`, { headers: { authorization: `Bearer ${sandbox.key}` } }).then((r) => r.json());
  const { stdout } = await run(example('whoami'), [], { env });
  assert.match(stdout, new RegExp(`^${whoami.user.firstName} ${whoami.user.lastName} <${whoami.user.email}>`, 'm'));
  assert.match(stdout, new RegExp(`firm: ${whoami.tenant.name} \\(${whoami.tenant.subdomain}\\.affinity\\.co\\)`));

  // A wrong key says so and fails.
  const bad = await run(example('whoami'), [], { env: { ...env, AFFINITY_API_KEY: 'wrong' } }).catch((e) => e);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /rejected the API key \(401\)/);
});

test('the list_entries example pages through a whole list, each entry once', async (t) => {
  const sandbox = await startSandbox();
  t.after(sandbox.stop);
  const env = { ...process.env, AFFINITY_BASE_URL: sandbox.url, AFFINITY_API_KEY: sandbox.key };
  const auth = { authorization: `Bearer ${sandbox.key}` };
  const lists = await fetch(`${sandbox.url}/lists`, { headers: auth }).then((r) => r.json());
  const pipeline = lists.find((l) => l.name === 'Deal Pipeline');
  // Without page_size the sandbox, like Affinity, answers the whole list at once.
  const all = await fetch(`${sandbox.url}/lists/${pipeline.id}/list-entries`, { headers: auth }).then((r) => r.json());
  assert.ok(all.length > 100, `the pipeline has more than a page of entries (${all.length})`);

  const { stdout } = await run(example('list_entries'), [String(pipeline.id)], { env, maxBuffer: 16 << 20 });
  assert.match(stdout, new RegExp(`^Deal Pipeline \\(list ${pipeline.id}\\):`, 'm'));
  const ids = [...stdout.matchAll(/^ {2}entry (\d+): /gm)].map((m) => Number(m[1]));
  assert.deepEqual([...ids].sort((a, b) => a - b), all.map((e) => e.id).sort((a, b) => a - b));
  assert.equal(new Set(ids).size, ids.length, 'no entry twice');
  const pages = Math.ceil(all.length / 100);
  assert.match(stdout, new RegExp(`^${all.length} entries in ${pages} pages$`, 'm'));
  assert.match(stdout, /entry \d+: Acme Corporation$/m, 'entries are named');
});
