// N-API exports of the engine (configuration, peak measurement, activation accuracy hook), registered
// by addon.cc's module init. Same conventions as addon.cc: validate everything first, throw a
// RangeError/TypeError whose message starts with the function's name, then call plain C++.
#include <napi.h>

#include <cmath>
#include <string>

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
  throw Napi::TypeError::New(env, std::string(fn) + ": expected one of scalar, avx2, avx512, neon for simd but received " +
                                      describe(value));
}

Napi::Object current(const Napi::Env& env) {
  const EngineConfig& config = engine_config();
  Napi::Object result = Napi::Object::New(env);
  result.Set("threads", config.threads);
  result.Set("simd", simd_name(config.level));
  return result;
}

// configure({ threads?, simd? }) → { threads, simd }: sets the calling thread's configuration; an
// absent field takes its default (hardware concurrency; the best level this CPU supports).
Napi::Value Configure(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  SimdLevel level = best_simd_level();
  int threads = default_thread_count();
  if (info.Length() > 0 && !info[0].IsUndefined()) {
    if (!info[0].IsObject() || info[0].IsArray() || info[0].IsFunction()) {
      throw Napi::TypeError::New(env, "configure: expected an object { threads?, simd? } but received " + describe(info[0]));
    }
    const Napi::Object options = info[0].As<Napi::Object>();
    const Napi::Value t = options.Get("threads"), s = options.Get("simd");
    if (!t.IsUndefined()) threads = static_cast<int>(integer_in(env, "configure", "threads", t, 1, kMaxThreads));
    if (!s.IsUndefined()) level = level_named(env, "configure", s);
  }
  if (!configure_engine(level, threads)) throw Napi::Error::New(env, "configure: could not apply the configuration");
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
      throw Napi::TypeError::New(env, std::string("activation: expected a Float32Array for ") + what + " but received " +
                                          describe(info[i]));
    }
    return info[i].As<Napi::Float32Array>();
  };
  Napi::Float32Array x = floats(1, "x"), out = floats(2, "out");
  if (x.ElementLength() != out.ElementLength()) {
    throw Napi::RangeError::New(env, "activation: out has " + std::to_string(out.ElementLength()) + " elements, expected " +
                                         std::to_string(x.ElementLength()));
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
Napi::Value ScratchBytes(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(scratch_bytes())); }

}  // namespace

void register_engine_exports(Napi::Env env, Napi::Object exports) {
  exports.Set("configure", Napi::Function::New(env, Configure, "configure"));
  exports.Set("simdLevels", Napi::Function::New(env, SimdLevels, "simdLevels"));
  exports.Set("measurePeak", Napi::Function::New(env, MeasurePeak, "measurePeak"));
  exports.Set("activation", Napi::Function::New(env, ActivationFn, "activation"));
  exports.Set("scratchBytes", Napi::Function::New(env, ScratchBytes, "scratchBytes"));
}

}  // namespace rnnkit
