// Release build: the wasm modules (cargo → wasm-bindgen → wasm-opt -Oz), then
// extension/dist/{chrome,firefox} with manifests generated from one source, and a zip of
// each. Never downloads anything: scripts/bootstrap.sh installs the tools first.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ext = join(root, 'extension');
const wasmOut = join(root, 'target', 'lens-wasm');
const quiet = process.argv.includes('--quiet');

function run(cmd, args, opts = {}) {
  if (!quiet) console.log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
}

function wasmOptPath() {
  const local = join(root, 'node_modules', '.bin', 'wasm-opt');
  if (!existsSync(local)) throw new Error('wasm-opt from the npm package binaryen is missing: run scripts/bootstrap.sh');
  return local;
}

// 0. The native command-line tool (sandbox, gateway, CLI), built for speed.
run('cargo', ['build', '--profile', 'native', '-p', 'affinity-lens']);

// 1. Two wasm modules from affinity-web, so that each context loads only what it runs:
//    lens_worker (the background: the client, lookups, writes) and lens_pages (the
//    Leptos card: overlay, popup, web component).
rmSync(wasmOut, { recursive: true, force: true });
mkdirSync(wasmOut, { recursive: true });
for (const [feature, name] of [['worker', 'lens_worker'], ['pages', 'lens_pages']]) {
  run('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'affinity-web',
    '--no-default-features', '--features', feature]);
  run('wasm-bindgen', ['--target', 'web', '--no-typescript', '--out-dir', wasmOut, '--out-name', name,
    join(root, 'target', 'wasm32-unknown-unknown', 'release', 'affinity_web.wasm')]);
  const bg = join(wasmOut, `${name}_bg.wasm`);
  const before = statSync(bg).size;
  run(wasmOptPath(), ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
    '--enable-reference-types', '--enable-multivalue', '--enable-mutable-globals', bg, '-o', bg]);
  const after = statSync(bg).size;
  const gz = gzipSync(readFileSync(bg)).length;
  console.log(`${name}.wasm: ${(before / 1024).toFixed(0)} KiB → ${(after / 1024).toFixed(0)} KiB after wasm-opt -Oz, ${(gz / 1024).toFixed(0)} KiB gzipped`);
}

// 2. One manifest source, two manifests.
const source = JSON.parse(readFileSync(join(ext, 'manifest.source.json'), 'utf8'));
const dist = join(ext, 'dist');
rmSync(dist, { recursive: true, force: true });
for (const browser of ['chrome', 'firefox']) {
  const out = join(dist, browser);
  mkdirSync(out, { recursive: true });
  cpSync(join(ext, 'src'), out, { recursive: true });
  cpSync(join(ext, 'icons'), join(out, 'icons'), { recursive: true });
  cpSync(wasmOut, join(out, 'wasm'), { recursive: true });
  const manifest = { ...source.common, ...source[browser] };
  writeFileSync(join(out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  zipDir(out, join(dist, `affinity-lens-${browser}.zip`));
}
// 3. The web component: one ES module and its wasm.
const www = join(root, 'www', 'dist');
rmSync(www, { recursive: true, force: true });
mkdirSync(www, { recursive: true });
cpSync(join(root, 'www', 'src'), www, { recursive: true });
// The web component only renders cards (the gateway looks them up): the pages module only.
mkdirSync(join(www, 'wasm'), { recursive: true });
for (const f of ['lens_pages.js', 'lens_pages_bg.wasm']) cpSync(join(wasmOut, f), join(www, 'wasm', f));
console.log(`web component: ${relative(root, www)}/affinity-card.js`);
console.log(`extension: ${relative(root, join(dist, 'chrome'))} and ${relative(root, join(dist, 'firefox'))}, zipped beside them`);

function zipDir(dir, zipPath) {
  // Python's zipfile is on every machine of this kind; files are stored with paths
  // relative to the extension root, as both stores expect.
  const files = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else files.push(relative(dir, p));
    }
  };
  walk(dir);
  const py = 'import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED)\n'
    + 'for f in sys.argv[2:]:\n    z.write(f, f)\nz.close()\n';
  execFileSync('python3', ['-c', py, zipPath, ...files], { cwd: dir });
}
