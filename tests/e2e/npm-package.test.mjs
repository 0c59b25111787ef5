// <affinity-card> as an npm package: the tarball `npm run build` packs is installed into an
// intranet app (npm install of the file, offline), imported by its package name (resolved
// through the package's `exports`, as a bundler does, and mapped for the browser), and
// renders a card from the gateway; and bundled by esbuild into an app's one script.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { root, startSandbox, startGateway, freePort, CHROMIUM_ARGS, GATEWAY_TOKEN } from './harness.mjs';

const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8' };
let sandbox, gateway, app, server, browser, origin;

before(async () => {
  const tarballs = readdirSync(join(root, 'target')).filter((f) => /^affinity-lens-card-.*\.tgz$/.test(f));
  assert.equal(tarballs.length, 1, `one packed tarball in target/ (run npm run build): ${tarballs}`);
  app = mkdtempSync(join(tmpdir(), 'lens-intranet-app-'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'intranet-app', private: true, type: 'module',
    dependencies: { '@affinity-lens/card': `file:${join(root, 'target', tarballs[0])}` },
  }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: app });

  sandbox = await startSandbox();
  const port = await freePort();
  origin = `http://localhost:${port}`;
  gateway = await startGateway(sandbox, ['--allow-origin', origin]);
  server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = normalize(join(app, path === '/' ? 'index.html' : path));
    if (!file.startsWith(app) || !existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  server?.close();
  gateway?.stop();
  sandbox?.stop();
  if (app) rmSync(app, { recursive: true, force: true });
});

test('the packed package installs with its module, types and wasm, and renders a card by its package name', async () => {
  const installed = join(app, 'node_modules', '@affinity-lens', 'card');
  const manifest = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
  assert.equal(manifest.type, 'module');
  // What a bundler reads: the entry and the types of the package's `exports`.
  const entry = manifest.exports['.'].default;
  const types = manifest.exports['.'].types;
  for (const f of [entry, types, 'wasm/lens_pages.js', 'wasm/lens_pages.d.ts', 'wasm/lens_pages_bg.wasm']) {
    assert.ok(existsSync(join(installed, f)), `the package holds ${f}`);
  }
  assert.match(readFileSync(join(installed, types), 'utf8'), /'affinity-card': AffinityCardElement/);
  assert.match(readFileSync(join(installed, 'wasm', 'lens_pages.d.ts'), 'utf8'), /export function mountCard/);

  writeFileSync(join(app, 'index.html'), `<!doctype html><meta charset="utf-8"><title>Intranet</title>
<script type="importmap">{"imports": {"@affinity-lens/card": "/node_modules/@affinity-lens/card/${entry.replace(/^\.\//, '')}"}}</script>
<script type="module">import '@affinity-lens/card';</script>
<affinity-card id="card" domain="acme.test" endpoint="${gateway.url}/affinity" token="${GATEWAY_TOKEN}"></affinity-card>`);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/`);
  await page.locator('affinity-card [data-testid="lens-entity-name"]').filter({ hasText: 'Acme Corporation' }).waitFor({ timeout: 15000 });
  assert.equal(await page.locator('affinity-card [data-testid="lens-status"]').textContent(), 'In Affinity');
  assert.deepEqual(errors, []);
  await page.close();
});

test('an app bundled with esbuild from the installed package renders the card', async () => {
  const { build } = await import('esbuild');
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'src', 'main.js'), "import '@affinity-lens/card';\ndocument.body.dataset.app = 'bundled';\n");
  await build({ entryPoints: [join(app, 'src', 'main.js')], bundle: true, format: 'esm', outfile: join(app, 'dist', 'app.js'), logLevel: 'silent' });
  const bundle = readFileSync(join(app, 'dist', 'app.js'), 'utf8');
  assert.match(bundle, /customElements\.define\("affinity-card"/, 'the element is in the bundle');
  assert.doesNotMatch(bundle, /from ['"]@affinity-lens\/card['"]/, 'no import is left for the browser to resolve');
  // esbuild leaves `new URL('./wasm/…', import.meta.url)` as it is: the wasm goes beside the bundle.
  mkdirSync(join(app, 'dist', 'wasm'), { recursive: true });
  cpSync(join(app, 'node_modules', '@affinity-lens', 'card', 'wasm', 'lens_pages_bg.wasm'), join(app, 'dist', 'wasm', 'lens_pages_bg.wasm'));
  writeFileSync(join(app, 'bundled.html'), `<!doctype html><meta charset="utf-8"><title>Intranet (bundled)</title>
<script type="module" src="/dist/app.js"></script>
<affinity-card domain="globex.test" endpoint="${gateway.url}/affinity" token="${GATEWAY_TOKEN}"></affinity-card>`);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${origin}/bundled.html`);
  await page.locator('affinity-card [data-testid="lens-entity-name"]').filter({ hasText: 'Globex' }).waitFor({ timeout: 15000 });
  assert.equal(await page.evaluate(() => document.body.dataset.app), 'bundled');
  assert.deepEqual(errors, []);
  await page.close();
});
