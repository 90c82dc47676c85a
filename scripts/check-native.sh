#!/usr/bin/env bash
# npm run check:native: builds the engine's stand-alone drivers with the sanitizers and runs them, with the
# flags of the commands in each driver's first comment: native/race_check.cc under ThreadSanitizer (2- and
# 3-thread kernels against 1 thread, bit for bit), native/simd_check.cc and native/bf16_check.cc under
# AddressSanitizer + UBSan (every SIMD table against a float64 reference; the bf16 kernels against their
# emulation). The engine is compiled once per sanitizer, a file per core. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
out="$(mktemp -d "${TMPDIR:-/tmp}/rnnkit-check-native.XXXXXX")"
trap 'rm -rf "$out"' EXIT
export CXX="${CXX:-g++}"
ENGINE=(engine threadpool gemm cells ops optim gemm_bf16 bf16 simd_avx512_bf16 simd_avx2 simd_avx512 decoder search)

# build NAME FLAGS FILE...: native/FILE.cc → $out/NAME/FILE.o, in parallel
build() {
  local dir="$out/$1" flags=$2
  shift 2
  mkdir -p "$dir"
  printf '%s\n' "$@" | xargs -P "$(nproc)" -I{} sh -c "\$CXX -std=c++17 -O1 -g $flags -pthread -c native/{}.cc -o $dir/{}.o"
}

# check NAME FLAGS DRIVER: links the driver with the engine built for NAME and runs it
check() {
  local dir="$out/$1" flags=$2 driver=$3 start=$SECONDS
  # shellcheck disable=SC2086 # flags is a word list
  $CXX $flags -pthread "$dir/$driver.o" "${ENGINE[@]/#/$dir/}" -o "$dir/$driver"
  "$dir/$driver"
  echo "check:native: $driver passed ($((SECONDS - start)) s)"
}

TSAN="-fsanitize=thread"
ASAN="-fsanitize=address,undefined -fno-sanitize-recover=all"
start=$SECONDS
build tsan "$TSAN" race_check "${ENGINE[@]}"
build asan "$ASAN" simd_check bf16_check "${ENGINE[@]}"
echo "check:native: built in $((SECONDS - start)) s"
# the .o names of the engine
ENGINE=("${ENGINE[@]/%/.o}")
check tsan "$TSAN" race_check
check asan "$ASAN" simd_check
check asan "$ASAN" bf16_check
echo "check:native: all passed in $((SECONDS - start)) s"
