#!/usr/bin/env bash
# Installs what the build and the tests need, and nothing that is already there.
# Idempotent: a second run with everything present takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130
WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1

log() { printf '[bootstrap] %s\n' "$*" >&2; }
export PATH="$HOME/.cargo/bin:$PATH"

# 1. Rust target (rust-toolchain.toml names it; make sure it is there).
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# 2. Debian packages: browsers and drivers.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v firefox-esr >/dev/null 2>&1 || command -v firefox >/dev/null 2>&1 || missing+=(firefox-esr)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)   # the LinkedIn e2e test makes a throwaway certificate
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)   # the gateway replicas share state through it
if [ ${#missing[@]} -gt 0 ]; then
  log "apt-get install ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null
fi

# 3. Cargo-installed tools, at exact versions.
have_version() { # cmd expected
  # The output is read whole first: `cmd | grep -q` under pipefail fails when grep stops
  # reading early and cmd gets SIGPIPE (geckodriver prints several lines).
  local out
  command -v "$1" >/dev/null 2>&1 && out=$("$1" --version 2>/dev/null) && grep -q "$2" <<<"$out"
}
if ! have_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Not --locked: its lockfile names a crate version the registry here lacks.
  cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi
if ! have_version wasm-pack "$WASM_PACK_VERSION"; then
  log "cargo install wasm-pack $WASM_PACK_VERSION (a few minutes, once)"
  cargo install -q wasm-pack --version "$WASM_PACK_VERSION" --locked --force
fi
if ! have_version geckodriver "$GECKODRIVER_VERSION"; then
  log "cargo install geckodriver $GECKODRIVER_VERSION (a few minutes, once)"
  cargo install -q geckodriver --version "$GECKODRIVER_VERSION" --locked --force
fi

# 4. npm dev packages (playwright-core, binaryen for wasm-opt, web-ext).
if [ -f package.json ]; then
  stamp=node_modules/.bootstrap-stamp
  if [ ! -f "$stamp" ] || [ package.json -nt "$stamp" ] || { [ -f package-lock.json ] && [ package-lock.json -nt "$stamp" ]; }; then
    log "npm install"
    if [ -f package-lock.json ]; then npm ci --no-audit --no-fund --loglevel=error; else npm install --no-audit --no-fund --loglevel=error; fi
    touch "$stamp"
  fi
fi
log "ready"
