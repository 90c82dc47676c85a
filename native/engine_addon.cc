// N-API exports of the engine (configuration, peak measurement, activation accuracy hook), registered
// by addon.cc's module init. Same conventions as addon.cc: validate everything first, throw a
// RangeError/TypeError whose message starts with the function's name, then call plain C++.
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bf16.h"
#include "engine.h"

namespace rnnkit {
namespace {

std::string describe(const Napi::Value& value) {
  if (value.IsUndefined()) return "undefined";
  if (value.IsNull()) return "null";
  if (value.IsSymbol()) return "Symbol()";
  if (value.IsObject() && !value.IsFunction()) return value.IsArray() ? "Array" : "object";
  try {
    return value.ToString().Utf8Value();
  } catch (const Napi::Error&) {
    return "value";
  }
}

// An integer in [low, high], or a RangeError naming fn and name.
int64_t integer_in(const Napi::Env& env, const char* fn, const char* name, const Napi::Value& value, int64_t low,
                   int64_t high) {
  if (value.IsNumber()) {
    const double d = value.As<Napi::Number>().DoubleValue();
    if (std::isfinite(d) && std::trunc(d) == d && d >= double(low) && d <= double(high)) return static_cast<int64_t>(d);
  }
  throw Napi::RangeError::New(env, std::string(fn) + ": expected an integer from " + std::to_string(low) + " to " +
                                       std::to_string(high) + " for " + name + " but received " + describe(value));
}

std::string supported_levels() {
  std::string list;
  for (int l = 0; l < kSimdLevelCount; l++) {
    if (!simd_supported(static_cast<SimdLevel>(l))) continue;
    if (!list.empty()) list += ", ";
    list += simd_name(static_cast<SimdLevel>(l));
  }
  return list;
}

// A supported level by name, or an error naming fn.
SimdLevel level_named(const Napi::Env& env, const char* fn, const Napi::Value& value) {
  if (value.IsString()) {
    const std::string name = value.As<Napi::String>().Utf8Value();
    for (int l = 0; l < kSimdLevelCount; l++) {
      const auto level = static_cast<SimdLevel>(l);
      if (name != simd_name(level)) continue;
      if (simd_supported(level)) return level;
      throw Napi::RangeError::New(env, std::string(fn) + ": SIMD level " + name +
                                           " is not supported on this CPU (supported: " + supported_levels() + ")");
    }
  }
  throw Napi::TypeError::New(
      env, std::string(fn) + ": expected one of scalar, avx2, avx512, neon for simd but received " + describe(value));
}

const char* const kPrecisionNames[] = {"fp32", "bf16"};  // indexed by Precision

// A precision this CPU runs, by name, or an error naming fn (and why bf16 is missing).
Precision precision_named(const Napi::Env& env, const char* fn, const Napi::Value& value) {
  const std::string name = value.IsString() ? value.As<Napi::String>().Utf8Value() : "";
  if (name == "fp32") return Precision::Fp32;
  if (name != "bf16") {
    throw Napi::TypeError::New(
        env, std::string(fn) + ": expected fp32 or bf16 for precision but received " + describe(value));
  }
  if (!bf16_ops()) {
    throw Napi::RangeError::New(env,
                                std::string(fn) + ": precision bf16 is not available: " + bf16_unavailable_reason());
  }
  return Precision::Bf16;
}

Napi::Object current(const Napi::Env& env) {
  const EngineConfig& config = engine_config();
  Napi::Object result = Napi::Object::New(env);
  result.Set("threads", config.threads);
  result.Set("simd", simd_name(config.level));
  result.Set("precision", kPrecisionNames[static_cast<int>(config.precision)]);
  return result;
}

// configure({ threads?, simd?, precision? }) → { threads, simd, precision }: sets the calling thread's
// configuration; an absent field takes its default (hardware concurrency; the best level this CPU
// supports; fp32).
Napi::Value Configure(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  SimdLevel level = best_simd_level();
  int threads = default_thread_count();
  Precision precision = Precision::Fp32;
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsObject() || info[0].IsArray() || info[0].IsFunction()) {
      throw Napi::TypeError::New(
          env, "configure: expected an object { threads?, simd?, precision? } but received " + describe(info[0]));
    }
    const Napi::Object options = info[0].As<Napi::Object>();
    const Napi::Value t = options.Get("threads"), s = options.Get("simd");
    if (!t.IsUndefined()) threads = static_cast<int>(integer_in(env, "configure", "threads", t, 1, kMaxThreads));
    if (!s.IsUndefined()) level = level_named(env, "configure", s);
    const Napi::Value p = options.Get("precision");
    if (!p.IsUndefined()) precision = precision_named(env, "configure", p);
  }
  if (!configure_engine(level, threads) || !configure_precision(precision))
    throw Napi::Error::New(env, "configure: could not apply the configuration");
  return current(env);
}

// simdLevels() → the levels this CPU supports, slowest first ('scalar' always).
Napi::Value SimdLevels(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Array levels = Napi::Array::New(env);
  uint32_t n = 0;
  for (int l = 0; l < kSimdLevelCount; l++) {
    if (simd_supported(static_cast<SimdLevel>(l))) levels.Set(n++, simd_name(static_cast<SimdLevel>(l)));
  }
  return levels;
}

// measurePeak(threads, milliseconds) → GFLOP/s of a register-blocked FMA loop at the configured SIMD
// level, run on `threads` threads at once.
Napi::Value MeasurePeak(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const int64_t threads = integer_in(env, "measurePeak", "threads", info[0], 1, kMaxThreads);
  const int64_t ms = integer_in(env, "measurePeak", "milliseconds", info[1], 1, 10000);
  return Napi::Number::New(env, measure_peak_gflops(engine_config().level, static_cast<int>(threads), double(ms)));
}

// precisions() → [{ name, available, reason }] for fp32 and bf16 (reason: why not, '' when available).
Napi::Value Precisions(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Array list = Napi::Array::New(env);
  for (uint32_t i = 0; i < 2; i++) {
    Napi::Object entry = Napi::Object::New(env);
    const bool bf16 = i == 1;
    entry.Set("name", kPrecisionNames[i]);
    entry.Set("available", !bf16 || bf16_ops() != nullptr);
    entry.Set("reason", bf16 ? bf16_unavailable_reason() : "");
    list.Set(i, entry);
  }
  return list;
}

// measureBf16Peak(threads, milliseconds) → GFLOP/s of a register-blocked VDPBF16PS loop on `threads`
// threads at once (a RangeError where bf16 is not available).
Napi::Value MeasureBf16Peak(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const int64_t threads = integer_in(env, "measureBf16Peak", "threads", info[0], 1, kMaxThreads);
  const int64_t ms = integer_in(env, "measureBf16Peak", "milliseconds", info[1], 1, 10000);
  const Bf16Ops* ops = bf16_ops();
  if (!ops)
    throw Napi::RangeError::New(env,
                                std::string("measureBf16Peak: bf16 is not available: ") + bf16_unavailable_reason());
  return Napi::Number::New(env, measure_peak_with(ops->peak_flops, static_cast<int>(threads), double(ms)));
}

// bf16Gemm(impl, transA, transB, M, N, K, alpha, A, B, beta, C): the bf16 GEMM on contiguous matrices
// (as the Backend's gemm) with impl 'emulated' (the portable oracle, bf16.cc) or 'kernel' (the SIMD
// kernels on the configured threads; a RangeError where bf16 is not available). For the bit-exactness tests.
void Bf16Gemm(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const std::string impl = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (impl != "emulated" && impl != "kernel" && impl != "weights") {
    throw Napi::TypeError::New(
        env, "bf16Gemm: expected emulated, kernel or weights for impl but received " + describe(info[0]));
  }
  for (size_t i : {1, 2}) {
    if (!info[i].IsBoolean()) {
      throw Napi::TypeError::New(env, std::string("bf16Gemm: expected a boolean for ") +
                                          (i == 1 ? "transA" : "transB") + " but received " + describe(info[i]));
    }
  }
  const bool tA = info[1].As<Napi::Boolean>().Value(), tB = info[2].As<Napi::Boolean>().Value();
  const int64_t M = integer_in(env, "bf16Gemm", "M", info[3], 0, 1 << 20);
  const int64_t N = integer_in(env, "bf16Gemm", "N", info[4], 0, 1 << 20);
  const int64_t K = integer_in(env, "bf16Gemm", "K", info[5], 0, 1 << 20);
  auto scalar = [&](size_t i, const char* name) {
    if (!info[i].IsNumber() || !std::isfinite(info[i].As<Napi::Number>().DoubleValue())) {
      throw Napi::TypeError::New(
          env, std::string("bf16Gemm: expected a finite number for ") + name + " but received " + describe(info[i]));
    }
    return info[i].As<Napi::Number>().FloatValue();
  };
  const float alpha = scalar(6, "alpha"), beta = scalar(9, "beta");
  auto floats = [&](size_t i, const char* name, int64_t length) {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(
          env, std::string("bf16Gemm: expected a Float32Array for ") + name + " but received " + describe(info[i]));
    }
    Napi::Float32Array a = info[i].As<Napi::Float32Array>();
    if (static_cast<int64_t>(a.ElementLength()) != length) {
      throw Napi::RangeError::New(env, std::string("bf16Gemm: ") + name + " has " + std::to_string(a.ElementLength()) +
                                           " elements, expected " + std::to_string(length));
    }
    return a;
  };
  Napi::Float32Array A = floats(7, "A", M * K), B = floats(8, "B", K * N), C = floats(10, "C", M * N);
  const auto bytes = [](const Napi::Float32Array& a) {
    return std::make_pair(reinterpret_cast<uintptr_t>(a.Data()),
                          reinterpret_cast<uintptr_t>(a.Data() + a.ElementLength()));
  };
  for (const Napi::Float32Array* in : {&A, &B}) {
    const auto c = bytes(C), x = bytes(*in);
    if (c.first < x.second && x.first < c.second) {
      throw Napi::RangeError::New(env, std::string("bf16Gemm: C overlaps ") + (in == &A ? "A" : "B"));
    }
  }
  const int64_t lda = tA ? M : K, ldb = tB ? K : N;
  if (impl == "emulated") {
    bf16_gemm_emulated(tA, tB, M, N, K, alpha, A.Data(), lda, B.Data(), ldb, beta, C.Data(), N);
    return;
  }
  const Bf16Ops* ops = bf16_ops();
  if (!ops)
    throw Napi::RangeError::New(env, std::string("bf16Gemm: bf16 is not available: ") + bf16_unavailable_reason());
  if (impl == "kernel") {
    sgemm_bf16(*ops, tA, tB, M, N, K, alpha, A.Data(), lda, B.Data(), ldb, beta, C.Data(), N);
    return;
  }
  if (tA || !tB || K == 0)
    throw Napi::RangeError::New(env, "bf16Gemm: weights needs transA false, transB true and K > 0 (C = A·Bᵀ)");
  const Bf16Snapshot snapshot(*ops, {{B.Data(), 1, N, K}});
  sgemm_bf16_weights(*ops, *snapshot.find(B.Data(), N, K, K), M, alpha, A.Data(), lda, beta, C.Data(), N);
}

// A weight snapshot held by JavaScript (snapshotWeights), of the precision configured when it was made;
// freed by freeWeights or the GC.
struct SnapshotHandle {
  std::unique_ptr<Bf16Snapshot> bf16;
  std::unique_ptr<Fp32Snapshot> fp32;
  bool freed() const { return !bf16 && !fp32; }
  // Stops the calling thread using it, then frees its memory.
  void free() {
    if (bf16_snapshot_in_use() == bf16.get()) bf16_use_snapshot(nullptr);
    if (fp32_snapshot_in_use() == fp32.get()) fp32_use_snapshot(nullptr);
    bf16.reset();
    fp32.reset();
  }
};

SnapshotHandle& handle_of(const Napi::Env& env, const char* fn, const Napi::Value& value) {
  if (!value.IsExternal())
    throw Napi::TypeError::New(env, std::string(fn) + ": expected a weight snapshot but received " + describe(value));
  return *value.As<Napi::External<SnapshotHandle>>().Data();
}

// snapshotWeights([{ W: Float32Array, groups, rows, cols }]) → a snapshot of the matrices W [groups·rows, cols]
// for the configured precision and level: in bf16 rounded to bf16 (bf16.h's Bf16Snapshot), in fp32 packed
// for the level's 1-row GEMM (engine.h's Fp32Snapshot); null at the scalar level in fp32 (nothing to pack).
// A RangeError in bf16 precision where bf16 is not available.
Napi::Value SnapshotWeights(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  const bool bf16 = engine_config().precision == Precision::Bf16;
  const Bf16Ops* bf16Ops = bf16 ? bf16_ops() : nullptr;
  if (bf16 && !bf16Ops)
    throw Napi::RangeError::New(env,
                                std::string("snapshotWeights: bf16 is not available: ") + bf16_unavailable_reason());
  if (!info[0].IsArray())
    throw Napi::TypeError::New(env, "snapshotWeights: expected an Array of matrices but received " + describe(info[0]));
  const Napi::Array list = info[0].As<Napi::Array>();
  std::vector<Bf16Snapshot::Matrix> matrices;
  for (uint32_t i = 0; i < list.Length(); i++) {
    const Napi::Value item = list.Get(i);
    if (!item.IsObject())
      throw Napi::TypeError::New(env,
                                 "snapshotWeights: expected an object for a matrix but received " + describe(item));
    const Napi::Object m = item.As<Napi::Object>();
    const Napi::Value W = m.Get("W");
    if (!W.IsTypedArray() || W.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
      throw Napi::TypeError::New(env, "snapshotWeights: expected a Float32Array for W but received " + describe(W));
    const int64_t groups = integer_in(env, "snapshotWeights", "groups", m.Get("groups"), 1, 1 << 20);
    const int64_t rows = integer_in(env, "snapshotWeights", "rows", m.Get("rows"), 1, 1 << 30);
    const int64_t cols = integer_in(env, "snapshotWeights", "cols", m.Get("cols"), 1, 1 << 30);
    const Napi::Float32Array a = W.As<Napi::Float32Array>();
    if (static_cast<int64_t>(a.ElementLength()) != groups * rows * cols)
      throw Napi::RangeError::New(env,
                                  "snapshotWeights: W has " + std::to_string(a.ElementLength()) +
                                      " elements, expected groups·rows·cols = " + std::to_string(groups * rows * cols));
    matrices.push_back({a.Data(), groups, rows, cols});
  }
  const SimdOps* ops = simd_ops(engine_config().level);
  if (!bf16 && !ops) return env.Null();
  auto handle = std::make_unique<SnapshotHandle>();
  try {
    if (bf16) {
      handle->bf16 = std::make_unique<Bf16Snapshot>(*bf16Ops, matrices);
    } else {
      std::vector<Fp32Snapshot::Matrix> dense;
      for (const Bf16Snapshot::Matrix& m : matrices) dense.push_back({m.W, m.groups * m.rows, m.K});
      handle->fp32 = std::make_unique<Fp32Snapshot>(*ops, dense);
    }
  } catch (const std::bad_alloc&) {
    throw Napi::RangeError::New(env, "snapshotWeights: not enough memory for the copy of the weights");
  }
  return Napi::External<SnapshotHandle>::New(env, handle.release(), [](Napi::Env, SnapshotHandle* h) {
    h->free();
    delete h;
  });
}

// useWeights(snapshot | null): the calling thread's products use this snapshot (null: none).
void UseWeights(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  if (info[0].IsNull() || info[0].IsUndefined()) {
    bf16_use_snapshot(nullptr);
    fp32_use_snapshot(nullptr);
    return;
  }
  SnapshotHandle& h = handle_of(env, "useWeights", info[0]);
  if (h.freed()) throw Napi::RangeError::New(env, "useWeights: the snapshot has been freed");
  bf16_use_snapshot(h.bf16.get());
  fp32_use_snapshot(h.fp32.get());
}

// freeWeights(snapshot): frees its memory now (no longer in use afterwards).
void FreeWeights(const Napi::CallbackInfo& info) { handle_of(info.Env(), "freeWeights", info[0]).free(); }

// activation(name, x, out): out = f(x) with the configured level's vectorised exp, tanh or sigmoid
// (for the accuracy tests).
void ActivationFn(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Activation f;
  const std::string name = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (name == "exp") {
    f = Activation::Exp;
  } else if (name == "tanh") {
    f = Activation::Tanh;
  } else if (name == "sigmoid") {
    f = Activation::Sigmoid;
  } else {
    throw Napi::TypeError::New(env, "activation: expected exp, tanh or sigmoid but received " + describe(info[0]));
  }
  auto floats = [&](size_t i, const char* what) {
    if (!info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(
          env, std::string("activation: expected a Float32Array for ") + what + " but received " + describe(info[i]));
    }
    return info[i].As<Napi::Float32Array>();
  };
  Napi::Float32Array x = floats(1, "x"), out = floats(2, "out");
  if (x.ElementLength() != out.ElementLength()) {
    throw Napi::RangeError::New(env, "activation: out has " + std::to_string(out.ElementLength()) +
                                         " elements, expected " + std::to_string(x.ElementLength()));
  }
  const auto n = static_cast<int64_t>(x.ElementLength());
  const SimdOps* ops = simd_ops(engine_config().level);
  if (ops) {
    ops->activation(f, n, x.Data(), out.Data());
  } else {
    scalar_activation(f, n, x.Data(), out.Data());
  }
}

// scratchBytes() → bytes held by the kernels' packing and scratch buffers (all threads; see scratch_bytes).
Napi::Value ScratchBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(scratch_bytes()));
}

}  // namespace

void register_engine_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("configure", Napi::Function::New(env, Configure, "configure"));
  exports.Set("simdLevels", Napi::Function::New(env, SimdLevels, "simdLevels"));
  exports.Set("measurePeak", Napi::Function::New(env, MeasurePeak, "measurePeak"));
  exports.Set("activation", Napi::Function::New(env, ActivationFn, "activation"));
  exports.Set("precisions", Napi::Function::New(env, Precisions, "precisions"));
  exports.Set("measureBf16Peak", Napi::Function::New(env, MeasureBf16Peak, "measureBf16Peak"));
  exports.Set("bf16Gemm", Napi::Function::New(env, Bf16Gemm, "bf16Gemm"));
  exports.Set("snapshotWeights", Napi::Function::New(env, SnapshotWeights, "snapshotWeights"));
  exports.Set("useWeights", Napi::Function::New(env, UseWeights, "useWeights"));
  exports.Set("freeWeights", Napi::Function::New(env, FreeWeights, "freeWeights"));
  exports.Set("scratchBytes", Napi::Function::New(env, ScratchBytes, "scratchBytes"));
}

}  // namespace rnnkit
