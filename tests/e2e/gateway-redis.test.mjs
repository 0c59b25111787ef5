// Redis as the security review asks for it (N3, N8): the gateway reaches it over TLS with a
// private CA and a password (Debian's redis-server, with a throwaway CA made by openssl);
// what it reads back is believed only with its key's tag, so a card planted by whoever can
// write to Redis is not served; and gateways with different --show-list keep their cards
// apart on one Redis.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox, startGateway, freePort, lensBinary, GATEWAY_TOKEN } from './harness.mjs';

const headers = { authorization: `Bearer ${GATEWAY_TOKEN}` };
const PASSWORD = 'e2e-redis-password-5f1c9a';
const WEBHOOK_SECRET = 'e2e-webhook-secret-0123456789abcdef';

/** A throwaway CA, and a certificate it signed for 127.0.0.1, in `dir`. */
function makeCertificates(dir) {
  const openssl = (args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-days', '2', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/CN=Lens e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']);
  writeFileSync(join(dir, 'server.ext'),
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2',
    '-out', 'server.pem', '-extfile', 'server.ext']);
  return { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server.key') };
}

/** redis-server on loopback with TLS only (no plain port) and a password; no persistence. */
async function startTlsRedis(dir) {
  const certs = makeCertificates(dir);
  const port = await freePort();
  const child = spawn('redis-server', [
    '--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1',
    '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no',
    '--requirepass', PASSWORD, '--save', '', '--appendonly', 'no', '--dir', dir,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10000);
    child.stdout.on('data', (d) => { out += d; if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server (TLS) exited ${code}: ${out}`)); });
  });
  /** redis-cli over TLS, trusting the CA, with the password: what a third party with them could do. */
  const cli = (...args) => execFileSync('redis-cli',
    ['--tls', '--cacert', certs.ca, '-a', PASSWORD, '--no-auth-warning', '-h', '127.0.0.1', '-p', String(port), ...args],
    { encoding: 'utf8' });
  return {
    port,
    url: `rediss://127.0.0.1:${port}/0`,
    ca: certs.ca,
    cli,
    keys: () => cli('--scan').split('\n').filter(Boolean),
    stop: () => new Promise((r) => {
      if (child.exitCode !== null || child.signalCode !== null) { r(); return; }
      child.once('exit', r);
      child.kill('SIGTERM');
    }),
  };
}

/** SHA-256 of the parts, each preceded by its length (8 bytes, big-endian), in hex. */
function digest(...parts) {
  const sha = createHash('sha256');
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64BE(BigInt(bytes.length));
    sha.update(len);
    sha.update(bytes);
  }
  return sha.digest('hex');
}

/** The Redis key of a card, as the gateway names it (shared_state.rs, documented there). */
function cardKey(baseUrl, apiKey, showLists, card) {
  const prefix = `lens:${digest('affinity-lens redis prefix v1', baseUrl, apiKey).slice(0, 32)}:`;
  const visibility = [...new Set(showLists.map((l) => l.toLowerCase()))].sort().join('\n');
  return `${prefix}v:${digest('affinity-lens visibility v1', visibility).slice(0, 16)}:card:${card}`;
}

async function card(gateway, query) {
  const r = await fetch(`${gateway.url}/affinity/card?${query}`, { headers });
  assert.equal(r.status, 200, `${query}: ${r.status}`);
  return r.json();
}

/** Resolves once `gateway`'s log matches `pattern` (or fails after `ms`). */
async function logSays(gateway, pattern, ms = 10000) {
  const until = Date.now() + ms;
  while (!pattern.test(gateway.log())) {
    if (Date.now() > until) assert.fail(`the gateway never said ${pattern}: ${gateway.log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

let dir, redis, sandbox, passwordFile;
const running = [];

/** A gateway in front of the sandbox, stopped after the file's tests. */
async function gateway(args, options = {}) {
  const g = await startGateway(sandbox, ['--caller-per-min', '100000', ...args], options);
  running.push(g);
  return g;
}

/** The flags that reach the TLS Redis with its password and CA. */
const withRedis = () => ['--redis', redis.url, '--redis-password-file', passwordFile, '--redis-ca-file', redis.ca];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lens-redis-tls-'));
  passwordFile = join(dir, 'redis-password');
  writeFileSync(passwordFile, `${PASSWORD}\n`);
  writeFileSync(join(dir, 'webhook-secret'), `${WEBHOOK_SECRET}\n`);
  redis = await startTlsRedis(dir);
  sandbox = await startSandbox();
});

after(async () => {
  for (const g of running) g.stop();
  sandbox?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('this redis-server speaks TLS and wants the password', () => {
  assert.equal(redis.cli('ping').trim(), 'PONG');
  const anonymous = spawnSync('redis-cli', ['--tls', '--cacert', redis.ca, '-h', '127.0.0.1', '-p', String(redis.port), 'ping'], { encoding: 'utf8' });
  assert.match(anonymous.stdout + anonymous.stderr, /NOAUTH/);
});

test('over rediss:// with the password file and the CA file, cards are shared through Redis', async () => {
  const g = await gateway(withRedis());
  await logSays(g, /sharing state through Redis/);
  const body = await card(g, 'domain=acme.test');
  assert.equal(body.status, 'matched');
  assert.equal(body.entity.name, 'Acme Corporation');
  const key = cardKey(sandbox.url, sandbox.key, [], 'domain:acme.test');
  assert.ok(redis.keys().includes(key), `${key} is not among ${redis.keys().join(' ')}`);
  // Stored with its tag, not as bare JSON.
  assert.match(redis.cli('get', key), /^lens1\.\d+\.[0-9a-f]{64}\.\{/);
  // The heartbeat is a sorted set of replicas, not one key each.
  assert.ok(redis.keys().some((k) => /^lens:[0-9a-f]{32}:replicas$/.test(k)), redis.keys().join(' '));
  assert.ok(!redis.keys().some((k) => /:replica:/.test(k)));
  assert.ok(!g.log().includes(PASSWORD), 'the password is in the log');
});

test('without the password, or without the CA, the gateway does not use Redis and serves from memory', async () => {
  const noPassword = await gateway(['--redis', redis.url, '--redis-ca-file', redis.ca]);
  const noCa = await gateway(['--redis', redis.url, '--redis-password-file', passwordFile]);
  const wrongFile = join(dir, 'wrong-password');
  writeFileSync(wrongFile, 'not-the-password\n');
  const wrongPassword = await gateway(['--redis', redis.url, '--redis-password-file', wrongFile, '--redis-ca-file', redis.ca]);
  for (const [g, domain] of [[noPassword, 'globex.test'], [noCa, 'initech.test'], [wrongPassword, 'solo.test']]) {
    assert.match(g.log(), /Redis cannot be reached yet/);
    assert.ok(!/sharing state through Redis/.test(g.log()), g.log());
    const body = await card(g, `domain=${domain}`);
    assert.equal(body.status, 'matched', JSON.stringify(body));
    assert.ok(!g.log().includes(PASSWORD), 'the password is in the log');
  }
  // The reason is said (never the password).
  assert.match(noPassword.log(), /Redis cannot be reached yet \(.*NOAUTH/);
  assert.match(noCa.log(), /Redis cannot be reached yet \(.*certificate/);
  assert.match(wrongPassword.log(), /Redis cannot be reached yet \(.*Authentication/);
  assert.ok(!redis.keys().some((k) => /:card:domain:(globex|initech|solo)\.test$/.test(k)), 'a card reached Redis');
});

test('a Redis on another host without TLS or without a password is refused, and the password is never said', () => {
  const tokens = join(dir, 'tokens');
  writeFileSync(tokens, `${GATEWAY_TOKEN}\n`);
  const run = (...args) => spawnSync(lensBinary(),
    ['gateway', '--listen', '127.0.0.1:0', '--base-url', sandbox.url, '--client-token-file', tokens, ...args],
    { env: { ...process.env, AFFINITY_API_KEY: sandbox.key }, encoding: 'utf8', timeout: 15000 });
  const refused = [
    [['--redis', 'redis://10.0.0.30:6379/0'], /unencrypted/],
    [['--redis', `redis://:${PASSWORD}@10.0.0.30:6379/0`], /unencrypted/],
    [['--redis', 'rediss://10.0.0.30:6379/0'], /no password/],
    [['--redis', `rediss://:${PASSWORD}@10.0.0.30:6379/0#insecure`], /certificate check/],
  ];
  for (const [args, why] of refused) {
    const r = run(...args);
    assert.notEqual(r.status, 0, `${args.join(' ')} was accepted`);
    assert.match(r.stderr, why);
    assert.ok(!(r.stdout + r.stderr).includes(PASSWORD), r.stderr);
    assert.ok(!(r.stdout + r.stderr).includes('listening on'));
  }
});

test('a card planted in Redis by someone without the key is not served, and that is said once', async () => {
  const g = await gateway(withRedis());
  await logSays(g, /sharing state through Redis/);
  const real = await card(g, 'domain=acme.test');
  assert.equal(real.entity.name, 'Acme Corporation');
  const key = cardKey(sandbox.url, sandbox.key, [], 'domain:acme.test');
  assert.ok(redis.keys().includes(key));

  // A third party that can write to Redis replaces the card: a phishing link, another name.
  const forged = { ...real, entity: { ...real.entity, name: 'Acme Login Portal', affinity_url: 'https://evil.example/' } };
  const entry = JSON.stringify({ body: JSON.stringify(forged), stored_at_ms: Date.now() });
  redis.cli('set', key, entry, 'px', '3600000');
  let served = await card(g, 'domain=acme.test');
  assert.equal(served.entity.name, 'Acme Corporation');
  assert.ok(!JSON.stringify(served).includes('evil.example'));
  // With something that looks like a tag, too.
  redis.cli('set', key, `lens1.${Date.now() + 3600000}.${'ab'.repeat(32)}.${entry}`, 'px', '3600000');
  served = await card(g, 'domain=acme.test');
  assert.equal(served.entity.name, 'Acme Corporation');
  assert.ok(!JSON.stringify(served).includes('evil.example'));
  // A genuine card of another company moved under Acme's key.
  await card(g, 'domain=globex.test');
  const globex = redis.cli('get', cardKey(sandbox.url, sandbox.key, [], 'domain:globex.test')).trim();
  redis.cli('set', key, globex, 'px', '3600000');
  served = await card(g, 'domain=acme.test');
  assert.equal(served.entity.name, 'Acme Corporation');

  // The month's budget at zero would put the gateway in reserve mode: not believed.
  const budget = redis.keys().find((k) => /^lens:[0-9a-f]{32}:budget:monthly$/.test(k)) ?? `${key.split(':v:')[0]}:budget:monthly`;
  redis.cli('set', budget, JSON.stringify({ limit: 100000, remaining: 0, unlimited: false, resets_at_ms: Date.now() + 86400000 }), 'ex', '3600');
  const cold = await card(g, 'domain=twice.test');
  assert.equal(cold.status, 'matched', JSON.stringify(cold));

  assert.equal((g.log().match(/Redis holds values this gateway did not write/g) ?? []).length, 1, g.log());
});

test('two gateways with different --show-list on one Redis never serve each other\'s cards', async () => {
  const port = await freePort();
  const partners = await gateway([...withRedis(), '--show-list', 'Board Confidential',
    '--public-url', `http://127.0.0.1:${port}`, '--webhook-secret-file', join(dir, 'webhook-secret')], { port });
  const everyone = await gateway(withRedis());
  await logSays(partners, /sharing state through Redis/);
  await logSays(everyone, /sharing state through Redis/);
  const seen = await card(partners, 'domain=acme.test');
  assert.ok(seen.lists.map((l) => l.list_name).includes('Board Confidential'), seen.lists.map((l) => l.list_name).join());
  const shown = await card(everyone, 'domain=acme.test');
  assert.equal(shown.entity.name, 'Acme Corporation');
  const names = shown.lists.map((l) => l.list_name);
  assert.ok(!names.includes('Board Confidential'), names.join());
  assert.ok(names.includes('Deal Pipeline'), names.join());
  // Two cards for one company, under two visibilities.
  const both = [cardKey(sandbox.url, sandbox.key, ['Board Confidential'], 'domain:acme.test'), cardKey(sandbox.url, sandbox.key, [], 'domain:acme.test')];
  for (const key of both) assert.ok(redis.keys().includes(key), `${key} is not in Redis`);
  // And the one without is served again, still without.
  assert.ok(!(await card(everyone, 'domain=acme.test')).lists.some((l) => l.list_name === 'Board Confidential'));

  // A change to Acme (a webhook to the partners' gateway only) drops Acme's cards of both.
  const event = {
    type: 'organization.updated',
    body: { id: seen.entity.id, name: 'Acme Corporation', domain: 'acme.test', domains: ['acme.test'] },
    sent_at: Math.floor(Date.now() / 1000),
  };
  const r = await fetch(`${partners.url}/affinity/webhook/${WEBHOOK_SECRET}`, { method: 'POST', body: JSON.stringify(event) });
  assert.equal(r.status, 200);
  const until = Date.now() + 5000;
  while (both.some((k) => redis.keys().includes(k)) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  for (const key of both) assert.ok(!redis.keys().includes(key), `${key} outlived the change`);
});

test('change messages travel between gateways signed; one published by a third party is dropped', async () => {
  const port = await freePort();
  const receiver = await gateway([...withRedis(), '--public-url', `http://127.0.0.1:${port}`,
    '--webhook-secret-file', join(dir, 'webhook-secret')], { port });
  const other = await gateway(withRedis());
  await logSays(receiver, /sharing state through Redis/);
  await logSays(other, /sharing state through Redis/);
  const asked = async () => (await (await fetch(`${sandbox.url}/_sandbox/requests`, {
    headers: { authorization: `Bearer ${sandbox.key}` },
  })).json()).requests;
  const fieldsAsked = (requests) => requests.filter((r) => r.split('?')[0] === 'GET /fields').length;
  // The other gateway knows the lists and fields: a new card does not ask for them.
  assert.equal((await card(other, 'domain=initech.test')).status, 'matched');
  let seen = (await asked()).length;
  assert.equal((await card(other, 'domain=megacorp.test')).status, 'matched');
  assert.equal(fieldsAsked((await asked()).slice(seen)), 0);

  // "Lists and fields changed", published by someone without the key: ignored.
  const channel = `${cardKey(sandbox.url, sandbox.key, [], 'x').split(':v:')[0]}:changes`;
  const listeners = Number(redis.cli('publish', channel, JSON.stringify({ cards: ['domain:acme.test'], entities: [], meta: true })).trim());
  assert.ok(listeners >= 2, `${listeners} listeners on ${channel}`);
  await logSays(other, /Redis holds values this gateway did not write/);
  seen = (await asked()).length;
  assert.notEqual((await card(other, 'domain=shared.test')).status, 'error');
  assert.equal(fieldsAsked((await asked()).slice(seen)), 0, 'a forged change was believed');

  // The same from a webhook to the receiver: the other gateway hears it and asks again.
  const event = { type: 'field.updated', body: { id: 1, name: 'Status', list_id: 12, value_type: 7 }, sent_at: Math.floor(Date.now() / 1000) };
  seen = (await asked()).length;
  const r = await fetch(`${receiver.url}/affinity/webhook/${WEBHOOK_SECRET}`, { method: 'POST', body: JSON.stringify(event) });
  assert.equal(r.status, 200);
  const until = Date.now() + 5000;
  let again = 0;
  for (const domain of ['globex.test', 'acme.test', 'solo.test', 'unicode.test', 'html.test', 'acmeanvils.test']) {
    if (again > 0 || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 300));
    assert.notEqual((await card(other, `domain=${domain}`)).status, 'error');
    again = fieldsAsked((await asked()).slice(seen));
  }
  assert.ok(again > 0, 'the other gateway did not hear the signed change');
});
