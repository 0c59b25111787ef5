#!/usr/bin/env bash
# Every test suite, in the order that fails fastest. Called by `npm test` after bootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER=/usr/bin/chromedriver   # the wasm test runner prefers geckodriver otherwise
export CARGO_TERM_COLOR=never

step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "clippy (native)"
cargo clippy --workspace --all-targets -q -- -D warnings
step "clippy (wasm32)"
cargo clippy --target wasm32-unknown-unknown -p affinity-core -p affinity-ui -p affinity-web --all-targets -q -- -D warnings

step "native tests"
cargo test --workspace -q

step "wasm tests in headless Chromium (wasm-bindgen-test)"
cargo test --target wasm32-unknown-unknown -p affinity-core --test wasm
cargo test --target wasm32-unknown-unknown -p affinity-ui --test card_dom

step "release build: wasm, extension for Chrome and Firefox"
node scripts/build.mjs --quiet

step "type check of the extension's JS against the wasm modules' TypeScript definitions"
tsc -p extension

step "web-ext lint (Firefox build)"
web-ext lint --source-dir extension/dist/firefox --self-hosted --no-input --output text

step "end-to-end tests (Playwright on Chromium; geckodriver on Firefox)"
node --test --test-concurrency=1 tests/e2e/
