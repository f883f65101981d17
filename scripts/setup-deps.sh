#!/usr/bin/env bash
# Installs the system packages the build needs, only when they are missing.
#
#   scripts/setup-deps.sh [EXTRA_PACKAGE...]
#
# The Swift package links two C libraries through pkg-config (Package.swift's CXXHash and
# CLZ4 and CZstd system-library targets): their headers come from Debian's libxxhash-dev,
# liblz4-dev and libzstd-dev, found with pkg-config. A new Debian machine has the runtime .so files but
# not the headers. Extra package names given as arguments (CI passes `make`) are ensured
# too. Runs `apt-get update` at most once, then `apt-get install -y`; uses sudo only when
# not root. Idempotent and quiet when everything is present.
set -euo pipefail

packages=(libxxhash-dev liblz4-dev libzstd-dev pkg-config "$@")

if ! command -v dpkg >/dev/null 2>&1; then
    # Not Debian/Ubuntu (macOS with Homebrew, Fedora...): check with pkg-config only.
    if command -v pkg-config >/dev/null 2>&1 && pkg-config --exists libxxhash liblz4 libzstd; then
        exit 0
    fi
    echo "setup: libxxhash, liblz4 and libzstd (with headers and pkg-config files) are missing." >&2
    echo "setup: install them with your package manager, e.g. 'brew install xxhash lz4 zstd pkg-config'." >&2
    exit 1
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "setup: missing packages: ${missing[*]}; run as root or install sudo" >&2
        exit 1
    fi
    sudo=(sudo)
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"

if ! pkg-config --exists libxxhash liblz4 libzstd; then
    echo "setup: pkg-config still does not find libxxhash, liblz4 and libzstd" >&2
    exit 1
fi
