// `npm run demo`: starts the sandbox and a demo of company sites on loopback, prints where
// to look, and stops everything on Ctrl-C. Run after scripts/build.mjs.
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync, existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SANDBOX_PORT = Number(process.env.LENS_SANDBOX_PORT ?? 8787);
const DEMO_PORT = Number(process.env.LENS_DEMO_PORT ?? 8788);
const GATEWAY_PORT = Number(process.env.LENS_GATEWAY_PORT ?? 8790);
const DEMO_KEY = process.env.LENS_DEMO_KEY ?? 'demo-key';
const INTRANET = `http://localhost:${DEMO_PORT}`;

// *.localhost resolves to this machine in Chrome and Firefox without any setup.
const SITES = {
  'acme.localhost': { name: 'Acme Corporation', color: '#c0392b', tagline: 'Anvils, rockets and roller skates since 1949.',
    about: 'We make the things that coyotes rely on. Our team ships a new anvil every week.' },
  'globex.localhost': { name: 'Globex', color: '#2c3e50', tagline: 'The world, run better.',
    about: 'Globex builds infrastructure for ambitious companies, from volcano lairs to supply chains.' },
  'initech.localhost': { name: 'Initech', color: '#16a085', tagline: 'Software for the TPS reports of tomorrow.',
    about: 'Initech helps teams file their reports on time, with the right cover sheet.' },
  'unknown-startup.localhost': { name: 'Unknown Startup', color: '#8e44ad', tagline: 'Stealth mode, not in your CRM yet.',
    about: 'A company the firm has never met: the card offers to add it.' },
};

const binary = join(root, 'target', 'native', 'affinity-lens');
if (!existsSync(binary)) {
  console.error('affinity-lens is not built: run `npm run demo` (it builds first)');
  process.exit(1);
}

const children = [];
const sandbox = spawn(binary, ['sandbox', '--port', String(SANDBOX_PORT), '--key', DEMO_KEY], { stdio: ['ignore', 'pipe', 'inherit'] });
children.push(sandbox);

const template = readFileSync(join(root, 'www', 'demo', 'company.html'), 'utf8');
const TYPES = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html; charset=utf-8' };
const demo = createServer((req, res) => {
  const host = (req.headers.host ?? '').split(':')[0].toLowerCase();
  const path = new URL(req.url, 'http://x').pathname;
  const site = SITES[host];
  // The intranet: the web component's files and the "Pipeline review" page.
  if (!site && path.startsWith('/affinity-lens/')) {
    const file = join(root, 'www', 'dist', path.slice('/affinity-lens/'.length));
    if (!file.startsWith(join(root, 'www', 'dist')) || !existsSync(file)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
    return;
  }
  if (!site && path === '/pipeline.html') {
    const page = readFileSync(join(root, 'www', 'demo', 'pipeline.html'), 'utf8')
      .replaceAll('{{GATEWAY}}', `http://127.0.0.1:${GATEWAY_PORT}/affinity`)
      .replaceAll('{{TOKEN}}', '');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(page);
    return;
  }
  if (!site) {
    const links = Object.keys(SITES).map((h) => `<li><a href="http://${h}:${DEMO_PORT}/">${h}</a></li>`).join('');
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><title>Affinity Lens demo</title><body style="font:16px system-ui;margin:40px">
      <h1>Affinity Lens demo</h1><p>Company sites served on this machine:</p><ul>${links}</ul>
      <p>An intranet page with &lt;affinity-card&gt;: <a href="/pipeline.html">Pipeline review</a></p></body>`);
    return;
  }
  const html = template
    .replaceAll('{{NAME}}', site.name).replaceAll('{{COLOR}}', site.color).replaceAll('{{TAGLINE}}', site.tagline)
    .replaceAll('{{ABOUT}}', site.about).replaceAll('{{HOST}}', host);
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
  res.end(html);
});

let stopping = false;
function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
  demo.close();
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
sandbox.on('exit', (code) => {
  console.error(`the sandbox stopped (exit ${code}); is port ${SANDBOX_PORT} already in use? Set LENS_SANDBOX_PORT.`);
  stop(1);
});

let out = '';
sandbox.stdout.on('data', (d) => {
  out += d;
  if (!out.includes('listening on')) return;
  sandbox.stdout.removeAllListeners('data');
  // The gateway holds the key for the intranet page's cards. On loopback, for the demo
  // only, it needs no caller identity (a firm's gateway takes tokens or its SSO proxy).
  const gateway = spawn(binary, ['gateway', '--listen', `127.0.0.1:${GATEWAY_PORT}`, '--allow-origin', INTRANET, '--no-auth',
    '--base-url', `http://127.0.0.1:${SANDBOX_PORT}`], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, AFFINITY_API_KEY: DEMO_KEY } });
  children.push(gateway);
  gateway.on('exit', (code) => {
    console.error(`the gateway stopped (exit ${code}); is port ${GATEWAY_PORT} in use? Set LENS_GATEWAY_PORT.`);
    stop(1);
  });
  demo.listen(DEMO_PORT, '127.0.0.1', () => {
    console.log(`
Affinity Lens demo is running. Ctrl-C stops it.

  Sandbox API     http://127.0.0.1:${SANDBOX_PORT}   (API key: ${DEMO_KEY})
  Demo sites      http://localhost:${DEMO_PORT}/
${Object.keys(SITES).map((h) => `                  http://${h}:${DEMO_PORT}/`).join('\n')}

  Load the extension unpacked from:
    Chrome/Chromium: ${join(root, 'extension', 'dist', 'chrome')}   (chrome://extensions → Developer mode → Load unpacked)
    Firefox:         ${join(root, 'extension', 'dist', 'firefox')}  (about:debugging → This Firefox → Load Temporary Add-on → manifest.json)
  Then open the extension's options: API key ${DEMO_KEY}, base URL http://127.0.0.1:${SANDBOX_PORT}

  Intranet page   ${INTRANET}/pipeline.html   (<affinity-card> elements, served by the gateway)
  Gateway         http://127.0.0.1:${GATEWAY_PORT}/affinity/card?domain=acme.test
`);
  });
  demo.on('error', (e) => {
    console.error(`cannot serve the demo on port ${DEMO_PORT}: ${e.message}. Set LENS_DEMO_PORT.`);
    stop(1);
  });
});
