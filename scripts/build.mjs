// Release build: the wasm modules (cargo → wasm-bindgen → wasm-opt -Oz), then
// extension/dist/{chrome,firefox} with manifests generated from one source, and a zip of
// each. Never downloads anything: scripts/bootstrap.sh installs the tools first.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ext = join(root, 'extension');
// The wasm modules and their TypeScript definitions, in a `wasm/` folder as the extension's
// pages import them (extension/tsconfig.json type-checks the JS against them there).
const wasmOut = join(root, 'target', 'lens-wasm', 'wasm');
const quiet = process.argv.includes('--quiet');
const WASM_OPT_ARGS = ['-Oz', '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
  '--enable-reference-types', '--enable-multivalue', '--enable-mutable-globals'];

function run(cmd, args, opts = {}) {
  if (!quiet) console.log(`$ ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts, env: { ...process.env, ...opts.env, PATH: toolPath } });
}

// wasm-pack finds wasm-bindgen on PATH; the npm packages' tools come first.
const toolPath = [join(root, 'node_modules', '.bin'), join(process.env.HOME ?? '', '.cargo', 'bin'), process.env.PATH].join(':');

function wasmOptPath() {
  const local = join(root, 'node_modules', '.bin', 'wasm-opt');
  if (!existsSync(local)) throw new Error('wasm-opt from the npm package binaryen is missing: run scripts/bootstrap.sh');
  return local;
}

// 0. The native command-line tool (sandbox, gateway, CLI), built for speed.
run('cargo', ['build', '--profile', 'native', '-p', 'lens-cli']);

// 1. Two wasm modules from lens-web, so that each context loads only what it runs:
//    lens_worker (the background: the client, lookups, writes) and lens_pages (the
//    Leptos card: overlay, popup, web component). Each feature set has its own target
//    directory (one shared directory made each build undo the other's); wasm-pack runs
//    wasm-bindgen (keeping the TypeScript definitions), then wasm-opt, only when cargo made
//    a module that differs from the last one shipped: a second build with nothing changed
//    takes seconds.
mkdirSync(wasmOut, { recursive: true });
for (const [feature, name] of [['worker', 'lens_worker'], ['pages', 'lens_pages']]) {
  const targetDir = join(root, 'target', `wasm-${feature}`);
  const cargoArgs = ['--no-default-features', '--features', feature];
  const env = { CARGO_TARGET_DIR: targetDir };
  // cargo first (seconds when nothing changed): wasm-bindgen and wasm-opt run only when the
  // module it made differs from the one they last turned into the shipped files.
  run('cargo', ['build', '--lib', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'lens-web', ...cargoArgs],
    { env });
  const compiled = readFileSync(join(targetDir, 'wasm32-unknown-unknown', 'release', 'lens_web.wasm'));
  const stamp = createHash('sha256').update(compiled).update(WASM_OPT_ARGS.join(' ')).digest('hex');
  const stampFile = join(wasmOut, `${name}.stamp`);
  const outputs = [`${name}.js`, `${name}.d.ts`, `${name}_bg.wasm`].map((f) => join(wasmOut, f));
  if (outputs.every(existsSync) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) {
    if (!quiet) console.log(`${name}.wasm: unchanged, wasm-bindgen and wasm-opt skipped`);
    continue;
  }
  const bindgenOut = join(targetDir, 'pkg');
  run('wasm-pack', ['build', '--quiet', '--target', 'web', '--release', '--no-opt', '--no-pack', '--no-gitignore',
    '--out-dir', bindgenOut, '--out-name', name, '--', ...cargoArgs], { cwd: join(root, 'crates', 'lens-web'), env });
  for (const f of readdirSync(bindgenOut)) if (!f.endsWith('.wasm')) cpSync(join(bindgenOut, f), join(wasmOut, f));
  const bg = join(wasmOut, `${name}_bg.wasm`);
  const raw = statSync(join(bindgenOut, `${name}_bg.wasm`)).size;
  run(wasmOptPath(), [...WASM_OPT_ARGS, join(bindgenOut, `${name}_bg.wasm`), '-o', bg]);
  writeFileSync(stampFile, stamp);
  const after = statSync(bg).size;
  const gz = gzipSync(readFileSync(bg)).length;
  console.log(`${name}.wasm: ${(raw / 1024).toFixed(0)} KiB → ${(after / 1024).toFixed(0)} KiB after wasm-opt -Oz, ${(gz / 1024).toFixed(0)} KiB gzipped`);
}

// 2. One manifest source, two manifests.
const source = JSON.parse(readFileSync(join(ext, 'manifest.source.json'), 'utf8'));
const dist = join(ext, 'dist');
rmSync(dist, { recursive: true, force: true });
for (const browser of ['chrome', 'firefox']) {
  const out = join(dist, browser);
  mkdirSync(out, { recursive: true });
  cpSync(join(ext, 'src'), out, { recursive: true, filter: (f) => !f.endsWith('.d.ts') });
  cpSync(join(ext, 'icons'), join(out, 'icons'), { recursive: true });
  // The pill's style, one file for the card (lens-ui) and the overlay's first pill.
  cpSync(join(root, 'crates', 'lens-ui', 'src', 'pill.css'), join(out, 'pill.css'));
  cpSync(wasmOut, join(out, 'wasm'), { recursive: true, filter: (f) => !f.endsWith('.stamp') });
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
for (const f of ['lens_pages.js', 'lens_pages.d.ts', 'lens_pages_bg.wasm']) cpSync(join(wasmOut, f), join(www, 'wasm', f));
console.log(`web component: ${relative(root, www)}/affinity-card.js`);

// 4. The web component as an npm package (www/pkg: package.json, the ES module, its types,
//    the pages' wasm and theirs), packed into target/ for `npm install <tarball>`.
const pkg = join(root, 'www', 'pkg');
rmSync(pkg, { recursive: true, force: true });
mkdirSync(join(pkg, 'wasm'), { recursive: true });
cpSync(join(root, 'www', 'package'), pkg, { recursive: true });
cpSync(join(root, 'www', 'src', 'affinity-card.js'), join(pkg, 'affinity-card.js'));
for (const f of ['lens_pages.js', 'lens_pages.d.ts', 'lens_pages_bg.wasm']) cpSync(join(wasmOut, f), join(pkg, 'wasm', f));
const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', join(root, 'target'), pkg], { cwd: root, encoding: 'utf8' }).trim();
console.log(`npm package: ${relative(root, pkg)}, packed as target/${tarball}`);
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
