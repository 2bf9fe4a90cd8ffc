#!/usr/bin/env bash
# Installs Alibaba Cloud's official SDKs for tests/official_sdk.rs, pinned:
#   <target>/sdk-venv  Python SDKs from tests/sdk/requirements.txt (needs python3 with venv)
#   <target>/sdk-node  TypeScript SDKs from tests/sdk/package-lock.json (when node and npm exist)
# <target> is $CARGO_TARGET_DIR or ./target; SDK_VENV and SDK_NODE override the two paths.
# A finished installation leaves a copy of its pin file as .installed; the test runs
# only against finished ones, and this script skips those already up to date.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
venv="${SDK_VENV:-$target/sdk-venv}"
node_dir="${SDK_NODE:-$target/sdk-node}"
python="${PYTHON:-python3}"
pins="$repo/tests/sdk"

if [[ -f "$venv/.installed" ]] && cmp -s "$pins/requirements.txt" "$venv/.installed"; then
    echo "Python SDKs up to date: $venv"
else
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-virtualenv \
        -r "$pins/requirements.txt"
    cp "$pins/requirements.txt" "$venv/.installed"
    echo "Python SDKs ready: $venv"
fi

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "no node/npm: the TypeScript SDK check will be skipped"
elif [[ -f "$node_dir/.installed" ]] && cmp -s "$pins/package-lock.json" "$node_dir/.installed"; then
    echo "TypeScript SDKs up to date: $node_dir"
else
    rm -rf "$node_dir"
    mkdir -p "$node_dir"
    cp "$pins/package.json" "$pins/package-lock.json" "$node_dir/"
    (cd "$node_dir" && npm ci --silent --no-audit --no-fund --ignore-scripts)
    cp "$pins/package-lock.json" "$node_dir/.installed"
    echo "TypeScript SDKs ready: $node_dir"
fi
