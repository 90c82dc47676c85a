# The native engine: build/Release/rnnkit.node, built by scripts/build-native.mjs (npm install).
# No global -march: the AVX2 and AVX-512 kernels (native/simd_avx2.cc, native/simd_avx512.cc) carry
# per-function target attributes and are chosen at run time (__builtin_cpu_supports), so one binary
# runs on any x86-64 machine.
{
  "targets": [
    {
      "target_name": "rnnkit",
      "sources": [
        "native/addon.cc",
        "native/gemm.cc",
        "native/gemm_bf16.cc",
        "native/bf16.cc",
        "native/cells.cc",
        "native/pool.cc",
        "native/ctc.cc",
        "native/decoder.cc",
        "native/search.cc",
        "native/ops.cc",
        "native/optim.cc",
        "native/engine.cc",
        "native/engine_addon.cc",
        "native/threadpool.cc",
        "native/simd_avx2.cc",
        "native/simd_avx512.cc",
        "native/simd_avx512_bf16.cc",
        "native/simd_neon.cc"
      ],
      "dependencies": [
        "<!(node -p \"require('node-addon-api').targets\"):node_addon_api_except"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-O2"],
      "cflags_cc!": ["-std=gnu++17", "-O2"],
      "cflags": ["-O3"],
      "cflags_cc": ["-std=c++17", "-O3", "-fopenmp-simd", "-fno-math-errno"],
      "xcode_settings": {
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "GCC_OPTIMIZATION_LEVEL": "3",
        "OTHER_CPLUSPLUSFLAGS": ["-fopenmp-simd", "-fno-math-errno"]
      },
      "msvs_settings": {
        "VCCLCompilerTool": { "AdditionalOptions": ["/std:c++17", "/O2"] }
      }
    }
  ]
}
