#!/usr/bin/env bash
# Checks the arm64 (NEON) build from an x86-64 Debian machine, by hand (not part of npm test): needs root
# for apt, Debian's package mirrors, and a built dist/ (npm run build:ts). Three steps:
#  1. native/simd_check.cc cross-built with g++-aarch64-linux-gnu (UBSan) and run under qemu-aarch64:
#     the NEON kernel table against float64 GEMMs, the portable cells and libm;
#  2. the whole addon cross-built into build/arm64/rnnkit.node;
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

echo "2. the addon, cross-built"
napi=node_modules/node-addon-api
nodeinc="$(dirname "$(dirname "$(command -v node)")")/include/node"
objects=()
for f in addon engine_addon engine gemm gemm_bf16 bf16 cells ops optim threadpool simd_avx2 simd_avx512 simd_avx512_bf16 simd_neon; do
  $CXX -std=c++17 -O3 -fPIC -fopenmp-simd -fno-math-errno -DNAPI_VERSION=8 -DNODE_ADDON_API_DISABLE_DEPRECATED \
    -DNAPI_CPP_EXCEPTIONS -I"$nodeinc" -I"$napi" -c "native/$f.cc" -o "$out/$f.o"
  objects+=("$out/$f.o")
done
$CXX -shared -pthread -o "$out/rnnkit.node" "${objects[@]}"

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
qemu-aarch64 -L "$root" "$root/usr/bin/node" scripts/check-arm64.mjs "$out/rnnkit.node"
