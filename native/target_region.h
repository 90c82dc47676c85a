// RNNKIT_TARGET_BEGIN("avx2,fma") … RNNKIT_TARGET_END: every function defined between them is compiled for
// that instruction set (clang: an attribute region; GCC: a target pragma), so that one file holds one ISA's
// kernels while the rest of the binary stays baseline x86-64. Nothing in such a region may run before the
// CPU has been checked (engine.cc does, before it hands out an ISA's table).
#pragma once

#define RNNKIT_PRAGMA(text) _Pragma(#text)
#if defined(__clang__)
#define RNNKIT_TARGET_BEGIN(isa) RNNKIT_PRAGMA(clang attribute push(__attribute__((target(isa))), apply_to = function))
#define RNNKIT_TARGET_END RNNKIT_PRAGMA(clang attribute pop)
#else
#define RNNKIT_TARGET_BEGIN(isa) RNNKIT_PRAGMA(GCC push_options) RNNKIT_PRAGMA(GCC target(isa))
#define RNNKIT_TARGET_END RNNKIT_PRAGMA(GCC pop_options)
#endif
