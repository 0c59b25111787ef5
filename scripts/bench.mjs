// `npm run bench`: runs the benchmarks, prints their tables, and writes them to
// docs/benchmarks.md with the commands that reproduce them.
//
//   node scripts/bench.mjs                        all three parts (what `npm run bench` runs)
//   node scripts/bench.mjs --only size            just the download sizes (seconds)
//   node scripts/bench.mjs --only browser         just the Chromium time-to-card (about a minute)
//   node scripts/bench.mjs --only lookup          just the cargo example (lookup and gateway)
//   node scripts/bench.mjs --only gateway         the gateway binary under 50 clients, and its memory
//   node scripts/bench.mjs --only index           the index of the firm's companies: sync, a day of use, size, look-up (about 2 minutes)
//   node scripts/bench.mjs --only size,browser    several parts, comma-separated
//   --runs N                                      browser runs (default 5)
//   --no-write                                    print only; leave docs/benchmarks.md alone
//
// The parts:
//   lookup   `cargo run --profile native -q -p lens-cli --example bench -- --latency-ms 100`: calls per page
//            view and opened card (v2 and v1-only keys), then time to the card
//   size     raw and gzipped (level 9) size of every *.wasm that ships, and of each zipped extension
//   browser  scripts/bench-browser.mjs: navigation to visible card in headless Chromium
//   gateway  scripts/bench-gateway.mjs: cards/s and p99 with 50 authenticated clients, memory after 10,000 domains
//   index    `cargo run --profile native -q -p lens-cli --example index_bench -- --latency-ms 100`: full-sync calls
//            and time (5,000 and 50,000 organizations, v2 and v1-only keys), a day of use, size, look-up time
// With --only, docs/benchmarks.md is rewritten with the parts that ran and keeps the other
// parts' sections as they were (each section is between <!-- bench:NAME --> markers).
//
// The extension is read from LENS_EXTENSION_DIST (default extension/dist), as in the e2e
// tests; the web component from www/dist. If the size or browser part finds them (or the
// native affinity-lens) missing, it runs `node scripts/build.mjs --quiet` first.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const PARTS = ['lookup', 'size', 'browser', 'gateway', 'index'];
const only = flag('--only')?.split(',').map((s) => s.trim()).filter(Boolean) ?? PARTS;
for (const p of only) if (!PARTS.includes(p)) throw new Error(`--only: unknown part "${p}" (use ${PARTS.join(', ')})`);
const runs = Number(flag('--runs') ?? 5);
const write = !argv.includes('--no-write');

const distOverride = process.env.LENS_EXTENSION_DIST;
const extDist = distOverride ?? join(root, 'extension', 'dist');
const wwwDist = join(root, 'www', 'dist');
const machine = `${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores`;
const today = new Date().toISOString().slice(0, 10);
const show = (p) => (p.startsWith(root) ? relative(root, p) : p);
const envPrefix = distOverride ? `LENS_EXTENSION_DIST=${distOverride} ` : '';

// ---- the build the size and browser parts need ----
function missingBuild() {
  const need = [
    join(extDist, 'chrome', 'manifest.json'),
    join(extDist, 'firefox', 'manifest.json'),
    join(extDist, 'affinity-lens-chrome.zip'),
    join(extDist, 'affinity-lens-firefox.zip'),
  ];
  const missing = need.filter((p) => !existsSync(p));
  if (!wasmFiles(wwwDist).length) missing.push(join(wwwDist, '**/*.wasm'));
  if (!['native', 'release', 'debug'].some((p) => existsSync(join(root, 'target', p, 'affinity-lens')))) {
    missing.push(join(root, 'target', 'native', 'affinity-lens'));
  }
  return missing;
}

function ensureBuilt() {
  let missing = missingBuild();
  if (!missing.length) return;
  console.log(`missing: ${missing.map(show).join(', ')}\n$ node scripts/build.mjs --quiet`);
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--quiet'], { cwd: root, stdio: 'inherit' });
  missing = missingBuild();
  if (missing.length) {
    // The build writes extension/dist; a LENS_EXTENSION_DIST copy elsewhere is not refreshed.
    throw new Error(`still missing after the build: ${missing.map(show).join(', ')}`
      + (distOverride ? ` (LENS_EXTENSION_DIST=${distOverride}: copy extension/dist there, or unset it)` : ''));
  }
}

function wasmFiles(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.wasm')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

// ---- the parts; each returns the markdown of its section ----
const kib = (n) => (n / 1024).toFixed(1);

function lookupPart() {
  const args = ['run', '--profile', 'native', '-q', '-p', 'lens-cli', '--example', 'bench', '--', '--latency-ms', '100'];
  console.log(`$ cargo ${args.join(' ')}`);
  const lookup = execFileSync('cargo', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  console.log(lookup);
  return `Produced by \`cargo ${args.join(' ')}\` on ${today}, ${machine}. The sandbox runs in the
same process and adds 100 ms to every answer, so time is dominated by round trips, as it is
against Affinity. The first table is what the firm's monthly Affinity budget pays: the calls of
a page view (the pill) and of an opened card, with a key that may use API v2 and with a
v1-only key (the sandbox's \`--v1-only-key\`, answered 403 on /v2).

"Sequential rounds" is the longest chain of requests each of which started after the
previous one ended. The seed's recipe is the reference's "strongest relationship strength
connection" and "field value changes for status fields" done one request after another.

${lookup.trim()}`;
}

function sizePart() {
  ensureBuilt();
  const wasm = [
    ...wasmFiles(join(extDist, 'chrome')),
    ...wasmFiles(join(extDist, 'firefox')),
    ...wasmFiles(wwwDist),
  ];
  const sizes = wasm.map((p) => {
    const data = readFileSync(p);
    return { p, bytes: data.length, gz: gzipSync(data, { level: 9 }).length };
  });
  const rows = sizes.map(({ p, bytes, gz }) => `| \`${show(p)}\` | ${bytes} | ${kib(bytes)} | ${gz} | ${kib(gz)} |`);
  const zips = ['chrome', 'firefox'].map((b) => {
    const p = join(extDist, `affinity-lens-${b}.zip`);
    const n = statSync(p).size;
    return `| \`${show(p)}\` | ${n} | ${kib(n)} |`;
  });
  // Issue #11's budget for the background's module: no bigger than before API v2 came in.
  const WORKER_TARGET_KIB = 614;
  const workerGz = sizes.find(({ p }) => p.endsWith('lens_worker_bg.wasm')).gz;
  const verdict = workerGz <= WORKER_TARGET_KIB * 1024 ? 'met' : 'NOT met';
  const md = `WebAssembly modules that ship (raw, and gzipped with zlib level 9)

| module | bytes | KiB | gzipped bytes | gzipped KiB |
|---|---:|---:|---:|---:|
${rows.join('\n')}

Target: the background's module (\`lens_worker\`) at most ${WORKER_TARGET_KIB} KiB gzipped: ${verdict}
(${kib(workerGz)} KiB).

Zipped extensions (what the stores receive)

| package | bytes | KiB |
|---|---:|---:|
${zips.join('\n')}`;
  console.log(`${md}\n`);
  return `Produced by \`${envPrefix}node scripts/bench.mjs --only size\` on ${today}, from the files
\`node scripts/build.mjs\` writes (the extension in \`${show(extDist)}\`, the web component in
\`${show(wwwDist)}\`).

${md}`;
}

async function browserPart() {
  ensureBuilt();
  const { runBrowserBench, LATENCY_MS } = await import('./bench-browser.mjs');
  console.log(`$ ${envPrefix}node scripts/bench-browser.mjs --runs ${runs}`);
  const { markdown } = await runBrowserBench({ runs, log: (l) => console.log(l) });
  console.log(`\n${markdown}\n`);
  return `Produced by \`${envPrefix}node scripts/bench.mjs --only browser\` (the code is
\`scripts/bench-browser.mjs\`) on ${today}, ${machine}, Debian Chromium headless with the
extension from \`${show(join(extDist, 'chrome'))}\`, against the sandbox started with
\`--latency-ms ${LATENCY_MS}\`, on a page served as \`http://acme.test:PORT/\` (Acme Corporation,
20 people).

The clock starts just before \`page.goto\` and stops when the overlay frame shows
\`lens-entity-name\` with "Acme Corporation" (or a visible \`lens-pill\`, if the card is
collapsed; the table says which was seen). **Cold**: each run launches a fresh browser
profile, so nothing is cached (no HTTP cache, empty background cache, no compiled wasm), and
visits acme.test for the first time; the background worker is already running, as it started
with the browser and the options were saved before the visit. **Warm**: the same profile then
opens acme.test again in a new tab and the background answers from its cache (the overlay
frame still loads and instantiates its wasm). "API requests" is what the sandbox
counted for the visit (1.5 s after the card appeared), so a warm visit with 0 came from the cache.

${markdown}`;
}

// ---- run, print, write ----
const TITLES = {
  lookup: 'Lookup and gateway (native)',
  size: 'Download size',
  browser: 'Time to the card in Chromium',
  gateway: 'The gateway under load',
  index: 'The index of the firm\'s companies (native)',
};

function indexPart() {
  const args = ['run', '--profile', 'native', '-q', '-p', 'lens-cli', '--example', 'index_bench', '--', '--latency-ms', '100'];
  console.log(`$ cargo ${args.join(' ')}`);
  const out = execFileSync('cargo', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  console.log(out);
  return `Produced by \`cargo ${args.join(' ')}\` on ${today}, ${machine}. The sandbox
(\`--orgs N --lists 10\`: the seeded world, then generated companies) runs in the same process
and adds 100 ms to every answer of the full syncs (none in the day of use, where only calls
count). Calls are the sandbox's count (plus the one v2 request it refuses a v1-only key without
counting it); targets are issue #21's, with every list of the firm counted in "one call a list".

${out.trim()}`;
}

async function gatewayPart() {
  ensureBuilt();
  const { runGatewayBench } = await import('./bench-gateway.mjs');
  const { markdown } = await runGatewayBench({ log: (l) => console.log(l) });
  console.log(`\n${markdown}\n`);
  return `Produced by \`node scripts/bench.mjs --only gateway\` (the code is \`scripts/bench-gateway.mjs\`)
on ${today}, ${machine}: the native \`affinity-lens gateway\` with a client token file, in front of
the sandbox, both on loopback; the load comes from Node's fetch in one process on the same
machine (so the figures are a floor). Warm: 8 known companies already in the card cache;
cold: a new unknown domain for every request, the sandbox answering after 100 ms. Memory:
the gateway's RSS from /proc before and after 10,000 distinct unknown domains (24 clients,
no latency).

${markdown}`;
}
const sections = {};
for (const part of PARTS) {
  if (!only.includes(part)) continue;
  if (part === 'lookup') sections.lookup = lookupPart();
  if (part === 'size') sections.size = sizePart();
  if (part === 'browser') sections.browser = await browserPart();
  if (part === 'gateway') sections.gateway = await gatewayPart();
  if (part === 'index') sections.index = indexPart();
}

if (write) {
  const file = join(root, 'docs', 'benchmarks.md');
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const kept = (part) => {
    const m = old.match(new RegExp(`<!-- bench:${part} -->\\n([\\s\\S]*?)\\n<!-- /bench:${part} -->`));
    if (m) return m[1];
    // The page as written before it had sections: its lookup tables are still good.
    if (part === 'lookup' && old.includes('\nLookup: time to')) {
      const i = old.indexOf('Produced by');
      return old.slice(i >= 0 ? i : 0).trim();
    }
    return `Not run yet: \`node scripts/bench.mjs --only ${part}\`.`;
  };
  const body = PARTS.map((part) => `## ${TITLES[part]}

<!-- bench:${part} -->
${sections[part] ?? kept(part)}
<!-- /bench:${part} -->`).join('\n\n');
  writeFileSync(file, `# Benchmarks

Produced by \`npm run bench\` (\`node scripts/bench.mjs\`); \`node scripts/bench.mjs --only PART\`
reruns one section (\`lookup\`, \`size\`, \`browser\`, \`gateway\` or \`index\`) and keeps the others. Each section says
the command that reproduces it and when it last ran.

${body}
`);
  console.log(`written to ${show(file)} (${only.join(', ')}${only.length < PARTS.length ? '; other sections kept' : ''})`);
}
