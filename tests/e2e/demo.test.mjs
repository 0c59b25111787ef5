// `npm run demo` (after its build): the demo sites and sandbox it starts, with the built
// extension showing the card, and Ctrl-C stopping everything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { root, launchChromiumWithExtension, configureChromiumExtension, overlayFrame, openCard, freePort } from './harness.mjs';


test('the demo serves company sites on which the extension shows the card; Ctrl-C stops it', async () => {
  const sandboxPort = await freePort();
  const demoPort = await freePort();
  const demo = spawn('node', [join(root, 'scripts', 'demo.mjs')], {
    env: { ...process.env, LENS_SANDBOX_PORT: String(sandboxPort), LENS_DEMO_PORT: String(demoPort), LENS_GATEWAY_PORT: String(await freePort()) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo did not start: ${out}`)), 15000);
    demo.stdout.on('data', (d) => {
      out += d;
      if (out.includes('Ctrl-C stops it') && out.includes('Load the extension unpacked')) { clearTimeout(timer); resolve(); }
    });
  });
  assert.match(out, new RegExp(`http://acme\\.localhost:${demoPort}/`));
  assert.match(out, /API key: demo-key/);

  const browser = await launchChromiumWithExtension();
  try {
    await configureChromiumExtension(browser.context, browser.extensionId, { url: `http://127.0.0.1:${sandboxPort}`, key: 'demo-key' });
    const page = await browser.context.newPage();
    await page.goto(`http://acme.localhost:${demoPort}/`); // *.localhost is loopback in Chromium
    const frame = await openCard(page, browser.extensionId);
    await frame.getByTestId('lens-entity-name').filter({ hasText: 'Acme Corporation' }).waitFor();
  } finally {
    await browser.context.close();
  }

  const exited = new Promise((r) => demo.on('exit', r));
  demo.kill('SIGINT');
  await exited;
  await new Promise((r) => setTimeout(r, 300));
  const stillUp = await fetch(`http://127.0.0.1:${sandboxPort}/auth/whoami`).then(() => true, () => false);
  assert.equal(stillUp, false, 'the sandbox outlived the demo');
});
