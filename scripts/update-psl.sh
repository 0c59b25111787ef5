#!/usr/bin/env bash
# Refreshes crates/lens-core/data/public_suffix_list.dat, the Public Suffix List the Lens
# carries, with the official file as the PyPI package publicsuffixlist ships it (this
# machine reaches PyPI, not publicsuffix.org). Review the diff, run the tests (the list's
# own test vectors in ../shared/real-world/psl), and commit.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary :all: publicsuffixlist -d "$tmp"
python3 - "$tmp" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/publicsuffixlist-*.whl")[0]
data = zipfile.ZipFile(wheel).read("publicsuffixlist/public_suffix_list.dat")
assert b"===BEGIN ICANN DOMAINS===" in data and b"===BEGIN PRIVATE DOMAINS===" in data, "not the list"
open("crates/lens-core/data/public_suffix_list.dat", "wb").write(data)
PY
grep -m2 -E '^// (VERSION|COMMIT):' crates/lens-core/data/public_suffix_list.dat
