#!/usr/bin/env bash
# Checks the arm64 (NEON) build from an x86-64 Debian machine, by hand (not part of npm test): needs root
# for apt, Debian's package mirrors, and a built dist/ (npm run build:ts). Three steps:
#  1. native/simd_check.cc cross-built with g++-aarch64-linux-gnu (UBSan) and run under qemu-aarch64:
#     the NEON kernel table against float64 GEMMs, the portable cells and libm;
#  2. the addon shipped in the npm package, cross-built by scripts/prebuild.mjs into
#     prebuilds/linux-arm64/rnnkit.glibc.node (removed again at the end);
#  3. Debian's arm64 Node (18) under qemu loads it and trains 2-layer LSTM/GRU/RNN models one step on the
#     neon and scalar levels, compared with the reference backend (scripts/check-arm64.mjs).
set -euo pipefail
cd "$(dirname "$0")/.."
root=/tmp/rnnkit-arm64-root
out=build/arm64
mkdir -p "$out"

apt-get install -y -q g++-aarch64-linux-gnu qemu-user >/dev/null
CXX=aarch64-linux-gnu-g++

echo "1. simd_check (NEON table) under qemu"
$CXX -std=c++17 -O1 -g -fsanitize=undefined -fno-sanitize-recover=all -pthread native/simd_check.cc native/engine.cc \
  native/threadpool.cc native/gemm.cc native/gemm_bf16.cc native/bf16.cc native/cells.cc native/ops.cc native/simd_neon.cc \
  -o "$out/simd-check"
qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/simd-check"

echo "2. the addon, cross-built as the npm package ships it"
node scripts/prebuild.mjs --arch=arm64
addon=prebuilds/linux-arm64/rnnkit.glibc.node

echo "3. Debian's arm64 Node under qemu, the addon against the reference"
if [ ! -x "$root/usr/bin/node" ]; then
  dpkg --add-architecture arm64
  apt-get update -q >/dev/null
  debs="$(mktemp -d)"
  pkgs="$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances nodejs:arm64 | grep '^[a-z].*:arm64$' | sort -u)"
  (cd "$debs" && apt-get download -q $pkgs node-acorn node-cjs-module-lexer node-undici node-busboy >/dev/null)
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$root"; done
fi
qemu-aarch64 -L "$root" "$root/usr/bin/node" scripts/check-arm64.mjs "$addon"
node scripts/prebuild.mjs --clean
