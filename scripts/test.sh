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
cargo clippy --target wasm32-unknown-unknown -p affinity-api -p lens-core -p lens-ui -p lens-web --all-targets -q -- -D warnings

step "rustdoc of affinity-api (every public item documented, no broken link)"
RUSTDOCFLAGS="-D warnings" cargo doc -p affinity-api --no-deps -q

step "native tests"
cargo test --workspace -q

step "wasm tests in headless Chromium (wasm-bindgen-test)"
cargo test --target wasm32-unknown-unknown -p affinity-api --test wasm
cargo test --target wasm32-unknown-unknown -p lens-core --test wasm
cargo test --target wasm32-unknown-unknown -p lens-ui --test card_dom

step "release build: wasm, extension for Chrome and Firefox"
node scripts/build.mjs --quiet
cargo build --profile native -q -p affinity-api --examples   # run against the sandbox by tests/e2e/api-examples.test.mjs

step "type check of the extension's JS against the wasm modules' TypeScript definitions"
tsc -p extension

step "web-ext lint (Firefox build)"
web-ext lint --source-dir extension/dist/firefox --self-hosted --no-input --output text

step "end-to-end tests (Playwright on Chromium; geckodriver on Firefox)"
node --test --test-concurrency=1 tests/e2e/
