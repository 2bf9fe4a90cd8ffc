#!/usr/bin/env bash
# Creates the virtualenv tests/official_sdk.rs runs Alibaba Cloud's Python SDKs from:
# <target dir>/sdk-venv, with the pinned versions of tests/sdk/requirements.txt.
# Needs python3 (3.8 or later) with the venv module, and access to the Python package index.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${SDK_VENV:-${CARGO_TARGET_DIR:-$repo/target}/sdk-venv}"
python="${PYTHON:-python3}"

if [[ -f "$venv/.installed" ]] && cmp -s "$repo/tests/sdk/requirements.txt" "$venv/.installed"; then
    echo "SDK virtualenv up to date: $venv"
    exit 0
fi
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-virtualenv \
    -r "$repo/tests/sdk/requirements.txt"
# Written last: the Rust test only uses a virtualenv whose installation finished.
cp "$repo/tests/sdk/requirements.txt" "$venv/.installed"
echo "SDK virtualenv ready: $venv"
