// Shared pieces of the end-to-end tests: the sandbox, a site served under any host name,
// and browsers that load the built extension.
import { spawn } from 'node:child_process';
import { before, after } from 'node:test';
import { createServer } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, extname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// LENS_EXTENSION_DIST points the tests at a copy of extension/dist (one that a rebuild
// in progress cannot change under a running test).
const dist = process.env.LENS_EXTENSION_DIST ?? join(root, 'extension', 'dist');
export const chromeDist = join(dist, 'chrome');
export const firefoxDist = join(dist, 'firefox');
export const SANDBOX_KEY = 'e2e-test-key';

function lensBinary() {
  // LENS_BINARY: a build of the tool elsewhere (one a build in progress cannot change).
  if (process.env.LENS_BINARY) return process.env.LENS_BINARY;
  for (const profile of ['native', 'release', 'debug']) {
    const p = join(root, 'target', profile, 'affinity-lens');
    if (existsSync(p)) return p;
  }
  throw new Error('affinity-lens is not built: run `npm run build`');
}

/** Starts `affinity-lens sandbox` on a free port; resolves once it prints that it listens. */
export async function startSandbox(extraArgs = []) {
  const child = spawn(lensBinary(), ['sandbox', '--port', '0', '--key', SANDBOX_KEY, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`sandbox did not start: ${stderr}`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`sandbox exited ${code}: ${stderr}`)); });
  });
  return { url, key: SANDBOX_KEY, stop: () => child.kill('SIGTERM') };
}

/** A client token for the gateway tests (at least 16 characters, as the gateway asks). */
export const GATEWAY_TOKEN = 'e2e-intranet-token-0001';

/**
 * Starts `affinity-lens gateway` in front of `sandbox` on a free port, with a client token
 * file holding `tokens` (unless `args` choose another way), and resolves once it listens.
 * `log()` is everything it printed so far.
 */
export async function startGateway(sandbox, args = [], { tokens = [GATEWAY_TOKEN], port: wanted } = {}) {
  const port = wanted ?? await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lens-gateway-'));
  const tokenFile = join(dir, 'tokens');
  writeFileSync(tokenFile, tokens.join('\n') + '\n');
  const auth = tokens.length === 0 ? [] : ['--client-token-file', tokenFile];
  const child = spawn(lensBinary(), ['gateway', '--listen', `127.0.0.1:${port}`, '--base-url', sandbox.url, ...auth, ...args], {
    env: { ...process.env, AFFINITY_API_KEY: sandbox.key }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gateway did not start: ${log}`)), 15000);
    child.stdout.on('data', (d) => { log += d; if (log.includes('listening on')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`gateway exited ${code}: ${log}`)); });
  });
  return {
    url: `http://127.0.0.1:${port}`, port, pid: child.pid, log: () => log,
    stop: () => { child.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
}

/**
 * The intranet of the web component's tests, on `port` (any host name): www/dist under
 * /affinity-lens/, and the demo's Pipeline review page with its cards asking `gatewayUrl`
 * with the test token (at /twice.html, with the script included twice).
 */
export async function startIntranet(port, gatewayUrl) {
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8' };
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path.startsWith('/affinity-lens/')) {
      const file = join(root, 'www', 'dist', path.slice('/affinity-lens/'.length));
      if (!existsSync(file)) { res.writeHead(404); res.end(); return; }
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
      return;
    }
    const page = readFileSync(join(root, 'www', 'demo', 'pipeline.html'), 'utf8')
      .replaceAll('{{GATEWAY}}', `${gatewayUrl}/affinity`).replaceAll('{{TOKEN}}', GATEWAY_TOKEN);
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(path === '/twice.html' ? page.replace('</body>', '<script type="module" src="/affinity-lens/affinity-card.js"></script></body>') : page);
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return server;
}

/** `lensBinary()` for the tests that run the CLI themselves. */
export { lensBinary };

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

/** Serves tests/site under whatever host name the browser maps to 127.0.0.1. */
export async function startSite() {
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const headers = {};
    let file = 'index.html';
    if (path === '/strict-csp') {
      file = 'strict-csp.html';
      headers['content-security-policy'] = "default-src 'self'; script-src 'self'";
    } else if (path !== '/' && /^\/[\w-]+\.html$/.test(path)) {
      file = path.slice(1);
    }
    const full = join(root, 'tests', 'site', file);
    if (!existsSync(full)) { res.writeHead(404); res.end('not found'); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(full)] ?? 'application/octet-stream', ...headers });
    res.end(readFileSync(full));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, stop: () => new Promise((r) => server.close(r)) };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-features=Translate,MediaRouter',
];

/**
 * Chromium (Debian's) with the built extension loaded; `hosts` resolve to 127.0.0.1.
 * `extraArgs` are added to the command line (e.g. a site's `chromiumArgs`); `extension` is
 * the unpacked extension to load (a test build, say). The profile (`userDataDir`) goes with
 * the browser unless `keepProfile` (the caller removes it).
 */
export async function launchChromiumWithExtension(hosts = [], extraArgs = [], extension = chromeDist, { keepProfile = false } = {}) {
  const { chromium } = await import('playwright-core');
  const userDataDir = mkdtempSync(join(tmpdir(), 'lens-chromium-'));
  const args = [
    ...CHROMIUM_ARGS,
    `--disable-extensions-except=${extension}`,
    `--load-extension=${extension}`,
  ];
  if (hosts.length) args.push(`--host-resolver-rules=${hosts.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}`);
  args.push(...extraArgs);
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args,
    viewport: { width: 1200, height: 800 },
  });
  // The profile goes with the browser.
  const close = context.close.bind(context);
  context.close = async (...args) => {
    await close(...args);
    if (!keepProfile) rmSync(userDataDir, { recursive: true, force: true });
  };
  let [worker] = context.serviceWorkers();
  if (!worker) worker = await context.waitForEvent('serviceworker', { timeout: 15000 });
  const extensionId = new URL(worker.url()).host;
  return { context, worker, extensionId, userDataDir };
}

/** Fills the options page with the sandbox's URL and key. */
export async function configureChromiumExtension(context, extensionId, sandbox) {
  const page = await context.newPage();
  await page.goto(`chrome-extension://${extensionId}/options.html`);
  await page.getByTestId('api-key').fill(sandbox.key);
  await page.getByTestId('base-url').fill(sandbox.url);
  await page.getByTestId('save').click();
  await page.getByTestId('options-status').filter({ hasText: 'Saved.' }).waitFor();
  await page.close();
}

/**
 * Whether `url` is the overlay's. In Chromium the content script asks for the overlay at
 * its dynamic URL (`use_dynamic_url`, a per-session id); the frame then shows the
 * extension's own URL. Either is the overlay.
 */
export const isOverlayUrl = (url) => /^chrome-extension:\/\/[^/]+\/overlay\.html(#|$)/.test(url);

/** The overlay frame of a page (an extension-origin iframe inside a closed shadow root). */
export async function overlayFrame(page, extensionId, timeout = 15000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const frame = page.frames().find((f) => isOverlayUrl(f.url()));
    if (frame) return frame;
    await page.waitForTimeout(100);
  }
  throw new Error('no overlay frame appeared');
}

/**
 * How long a test lets the overlay's card stand still before a write's click (ms): the
 * card holds a click until the pointer, the frame and the button have been still for 500.
 */
export const STEADY = 600;

/** A port nothing listens on right now. */
export async function freePort() {
  const srv = createTcpServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address();
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * The overlay frame with its card open: the overlay starts as the pill, which is clicked
 * (as a user would) once it is there.
 */
export async function openCard(page, extensionId, timeout = 15000) {
  const frame = await overlayFrame(page, extensionId, timeout);
  await frame.getByTestId('lens-pill').click({ timeout });
  await frame.getByTestId('lens-card').waitFor({ timeout });
  return frame;
}

/**
 * A site served over HTTPS as `hostname` (default www.linkedin.com) on a free port of
 * 127.0.0.1, with a throwaway self-signed certificate made at test time (the key is read
 * into memory and its files deleted at once: nothing is ever written to the repository).
 * Serves `dir` (default tests/site/linkedin) like a single-page app: the shell (`shell`;
 * LinkedIn's `index.html` for `/`, `/feed/…`, `/in/…` and `/company/…` by default), and
 * `/static/NAME.js|css` from `dir`;
 * anything else is 404. Chromium trusts this certificate, and only it, with `chromiumArgs`
 * (`--ignore-certificate-errors-spki-list` with the SHA-256 of its public key).
 * `requests` lists the paths asked for, so a test can tell that a page did not reload.
 */
export async function startHttpsSite({
  hostname = 'www.linkedin.com',
  dir = join(root, 'tests', 'site', 'linkedin'),
  // The app's shell for the paths it routes itself: LinkedIn's by default; Gmail's
  // (tests/site/gmail) is app.html for /mail/u/<n>/.
  shell = (path) => (path === '/' || /^\/(feed|in|company)(\/|$)/.test(path) ? 'index.html' : null),
} = {}) {
  const { createServer: createHttpsServer } = await import('node:https');
  const { X509Certificate, createHash } = await import('node:crypto');
  const { execFileSync } = await import('node:child_process');
  const { rmSync } = await import('node:fs');
  const tmp = mkdtempSync(join(tmpdir(), 'lens-cert-'));
  let key, cert;
  try {
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
      '-keyout', join(tmp, 'key.pem'), '-out', join(tmp, 'cert.pem'), '-subj', `/CN=${hostname}`,
      '-addext', `subjectAltName=DNS:${hostname}`, '-addext', 'extendedKeyUsage=serverAuth',
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    key = readFileSync(join(tmp, 'key.pem'));
    cert = readFileSync(join(tmp, 'cert.pem'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const x509 = new X509Certificate(cert);
  const spki = createHash('sha256').update(x509.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');

  const requests = [];
  const server = createHttpsServer({ key, cert }, (req, res) => {
    const path = new URL(req.url, 'https://x').pathname;
    requests.push(path);
    let file = null;
    const asset = path.match(/^\/static\/([\w-]+\.(?:js|css))$/);
    if (asset) file = asset[1];
    else file = shell(path);
    const full = file && join(dir, file);
    if (!full || !existsSync(full)) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('not found'); return; }
    res.writeHead(200, {
      'content-type': TYPES[extname(full)] ?? 'application/octet-stream',
      // Like LinkedIn: no inline or foreign scripts.
      'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:",
      'cache-control': 'no-store',
    });
    res.end(readFileSync(full));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    port,
    hostname,
    origin: `https://${hostname}:${port}`,
    spki,
    certificate: x509,
    chromiumArgs: [`--ignore-certificate-errors-spki-list=${spki}`],
    requests,
    stop: () => new Promise((r) => { server.closeAllConnections?.(); server.close(r); }),
  };
}

/** Requests the sandbox has counted against the month so far (GET /rate-limit is exempt). */
export async function monthlyUsed(sandbox) {
  const res = await fetch(`${sandbox.url}/rate-limit`, { headers: { authorization: `Bearer ${sandbox.key}` } });
  return (await res.json()).rate.org_monthly.used;
}

/** Changes the sandbox's faults while it runs; `{}` clears them. Throws if it refused them. */
export async function setFaults(sandbox, faults) {
  const res = await fetch(`${sandbox.url}/_sandbox/faults`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sandbox.key}`, 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  if (res.status !== 200) throw new Error(`the sandbox refused the faults (${res.status}): ${await res.text()}`);
}

/**
 * For a test file: a sandbox (with `sandboxArgs`), the test site, and Chromium with the
 * extension configured for that sandbox (`hosts` map to the site), started before the
 * file's tests and stopped after them. The returned object is filled in by then.
 */
export function useExtension(hosts, sandboxArgs = []) {
  const env = {};
  before(async () => {
    env.sandbox = await startSandbox(sandboxArgs);
    env.site = await startSite();
    env.browser = await launchChromiumWithExtension(hosts);
    await configureChromiumExtension(env.browser.context, env.browser.extensionId, env.sandbox);
  });
  after(async () => {
    await env.browser?.context.close();
    await env.site?.stop();
    env.sandbox?.stop();
  });
  return env;
}

/**
 * Starts Debian's redis-server on a free port, without persistence. `stop` ends it
 * (SIGTERM); `kill` takes it away as a crash would (SIGKILL).
 */
export async function startRedis() {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lens-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10000);
    child.stdout.on('data', (d) => { out += d; if (out.includes('Ready to accept connections')) { clearTimeout(timer); resolve(); } });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited ${code}: ${out}`)); });
  });
  const end = (signal) => new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) { r(); return; }
    child.once('exit', r);
    child.kill(signal);
  }).then(() => rmSync(dir, { recursive: true, force: true }));
  return { url: `redis://127.0.0.1:${port}/0`, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

/** Waits until `sandbox` has counted no new request for 700 ms; its month's count then. */
export async function settledUsage(sandbox) {
  let last = await monthlyUsed(sandbox);
  for (;;) {
    await new Promise((r) => setTimeout(r, 700));
    const now = await monthlyUsed(sandbox);
    if (now === last) return now;
    last = now;
  }
}

/** Gmail's fixture (tests/site/gmail) served as https://mail.google.com (startHttpsSite). */
export function startGmail() {
  return startHttpsSite({
    hostname: 'mail.google.com',
    dir: join(root, 'tests', 'site', 'gmail'),
    shell: (path) => (/^\/mail\/u\/\d+\/?$/.test(path) ? 'app.html' : null),
  });
}

/** The Status of `domain`'s organization on the list named `listName`, as the sandbox holds it (v1). */
export async function sandboxStatus(sandbox, domain, listName) {
  const api = async (path) => (await fetch(`${sandbox.url}${path}`, { headers: { authorization: `Bearer ${sandbox.key}` } })).json();
  const org = (await api(`/organizations?term=${encodeURIComponent(domain)}`)).organizations.find((o) => o.domains.includes(domain));
  const list = (await api('/lists')).find((l) => l.name === listName);
  const status = (await api(`/fields?list_id=${list.id}`)).find((f) => f.name === 'Status');
  return (await api(`/field-values?organization_id=${org.id}`)).find((v) => v.field_id === status.id)?.value?.text ?? null;
}
