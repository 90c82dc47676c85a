// The N-API binding: one function per Backend kernel, with the Backend's argument order
// (src/backend/types.ts), except that spans arrive as typed arrays (the span's exact range) and the
// cell kind as its name. What users see of validation is src/backend/checks.ts, which the TypeScript
// wrapper (src/backend/native.ts) runs first, as the other backends do. Here each function checks again
// only what protects memory when the addon is called directly: argument types, sizes (integers in
// [min, 2^31 - 1], so that no product of sizes overflows), typed-array lengths, ids and lengths that
// index memory, and outputs that overlap anything; then it takes pointers from the typed arrays and calls
// a plain kernel from kernels.h. No JS code runs between validation and the kernel, so nothing can
// change under it (except a SharedArrayBuffer written by another thread; the indexed kernels guard their
// ids for that case).
#include <napi.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <iterator>
#include <string>
#include <vector>

#include "engine.h"
#include "engine_addon.h"
#include "kernels.h"

namespace {

using rnnkit::CellKind;

constexpr double kMaxElements = 2147483647.0;  // MAX_ELEMENTS in src/backend/checks.ts

// A typed-array argument: a pointer to its first element and its element count.
template <typename T>
struct View {
  T* data;
  size_t length;
};
using Floats = View<float>;
using Ints = View<int32_t>;

// A named byte range for the aliasing check.
struct Region {
  const char* name;
  const void* ptr;
  size_t bytes;
};

template <typename T>
Region region(const char* name, View<T> view) {
  return {name, view.data, view.length * sizeof(T)};
}

bool overlaps(const Region& a, const Region& b) {
  if (a.bytes == 0 || b.bytes == 0) return false;
  const auto pa = reinterpret_cast<uintptr_t>(a.ptr), pb = reinterpret_cast<uintptr_t>(b.ptr);
  return pa < pb + b.bytes && pb < pa + a.bytes;
}

// The arguments of one kernel call, with checks that throw a JS RangeError/TypeError whose message
// starts with the kernel's name ("gemm: A has 5 elements, expected 6").
class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* kernel) : info_(info), env_(info.Env()), kernel_(kernel) {}

  Napi::Env env() const { return env_; }

  [[noreturn]] void range_error(const std::string& message) const {
    throw Napi::RangeError::New(env_, std::string(kernel_) + ": " + message);
  }
  [[noreturn]] void type_error(const std::string& message) const {
    throw Napi::TypeError::New(env_, std::string(kernel_) + ": " + message);
  }

  // An integer in [min, MAX_ELEMENTS]: a product of three such sizes fits in a double's exact range.
  int64_t size(size_t index, const char* name, int64_t min = 0) const {
    const Napi::Value value = info_[index];
    if (value.IsNumber()) {
      const double d = value.As<Napi::Number>().DoubleValue();
      if (std::isfinite(d) && std::trunc(d) == d && d >= static_cast<double>(min) && d <= kMaxElements) {
        return static_cast<int64_t>(d);
      }
    }
    range_error("expected an integer >= " + std::to_string(min) + " for " + name);
  }

  double number(size_t index, const char* name) const {
    if (!info_[index].IsNumber()) type_error(std::string("expected a number for ") + name);
    return info_[index].As<Napi::Number>().DoubleValue();
  }

  bool flag(size_t index, const char* name) const {
    if (!info_[index].IsBoolean()) type_error(std::string("expected a boolean for ") + name);
    return info_[index].As<Napi::Boolean>().Value();
  }

  // The index of a name in names[0..count) (an enum's value), e.g. the cell kind.
  int named(size_t index, const char* what, const char* const* names, int count) const {
    if (info_[index].IsString()) {
      const std::string name = info_[index].As<Napi::String>().Utf8Value();
      for (int k = 0; k < count; k++) {
        if (name == names[k]) return k;
      }
    }
    type_error(std::string("unknown ") + what);
  }
  CellKind cell_kind(size_t index) const {
    return static_cast<CellKind>(named(index, "cell kind", rnnkit::kCellKindNames, rnnkit::kCellKindCount));
  }
  rnnkit::PoolMode pool_mode(size_t index) const {
    return static_cast<rnnkit::PoolMode>(named(index, "pooling", rnnkit::kPoolModeNames, rnnkit::kPoolModeCount));
  }

  // A Float32Array of any length / of exactly `expected` elements.
  Floats floats(size_t index, const char* name) const {
    return typed<float>(index, name, napi_float32_array, "a Float32Array");
  }
  Floats floats(size_t index, const char* name, double expected) const {
    Floats view = floats(index, name);
    check_length(name, view.length, expected);
    return view;
  }
  // An Int32Array of exactly `expected` elements.
  Ints ints(size_t index, const char* name, double expected) const {
    Ints view = typed<int32_t>(index, name, napi_int32_array, "an Int32Array");
    check_length(name, view.length, expected);
    return view;
  }
  bool is_absent(size_t index) const { return info_[index].IsNull() || info_[index].IsUndefined(); }

  // A non-empty table of whole `width`-float rows (or columns): returns how many (the id limit).
  int64_t table_rows(Floats table, int64_t width, const char* name) const {
    if (table.length == 0 || static_cast<int64_t>(table.length) % width != 0) {
      range_error(std::string(name) + " is not a whole number of rows");
    }
    return static_cast<int64_t>(table.length) / width;
  }

  void check_length(const char* name, size_t actual, double expected) const {
    if (static_cast<double>(actual) != expected) {
      range_error(std::string(name) + " has " + std::to_string(actual) + " elements, expected " + js_number(expected));
    }
  }

  // ids[0..n) in [low, limit), low = -1 when padding is allowed.
  void check_ids(Ints ids, int64_t n, int64_t limit, bool allowMinusOne) const {
    const int64_t low = allowMinusOne ? -1 : 0;
    for (int64_t i = 0; i < n; i++) {
      if (ids.data[i] < low || ids.data[i] >= limit)
        range_error("id at position " + std::to_string(i) + " out of range");
    }
  }

  // Per-stream lengths [B], each in [min, T].
  Ints lengths(size_t index, int64_t T, int64_t B, int64_t min) const {
    const Ints view = ints(index, "lengths", double(B));
    for (int64_t b = 0; b < B; b++) {
      if (view.data[b] < min || view.data[b] > T)
        range_error("length of stream " + std::to_string(b) + " out of range");
    }
    return view;
  }

  // Outputs must not overlap each other nor any input (by address, so two views of one ArrayBuffer are
  // caught too).
  void no_alias(std::initializer_list<Region> outputs, std::initializer_list<Region> inputs) const {
    no_alias(outputs.begin(), outputs.end(), inputs.begin(), inputs.end());
  }
  void no_alias(const std::vector<Region>& outputs, const std::vector<Region>& inputs) const {
    no_alias(outputs.data(), outputs.data() + outputs.size(), inputs.data(), inputs.data() + inputs.size());
  }
  void no_alias(const Region* out0, const Region* out1, const Region* in0, const Region* in1) const {
    for (const Region* out = out0; out != out1; ++out) {
      for (const Region* other = out + 1; other != out1; ++other) {
        if (overlaps(*out, *other)) range_error(std::string("output ") + out->name + " overlaps " + other->name);
      }
      for (const Region* other = in0; other != in1; ++other) {
        if (overlaps(*out, *other)) range_error(std::string("output ") + out->name + " overlaps " + other->name);
      }
    }
  }

 private:
  template <typename T>
  View<T> typed(size_t index, const char* name, napi_typedarray_type wanted, const char* wantedName) const {
    const Napi::Value value = info_[index];
    if (value.IsTypedArray()) {
      napi_typedarray_type type;
      size_t length = 0;
      void* data = nullptr;
      if (napi_get_typedarray_info(env_, value, &type, &length, &data, nullptr, nullptr) == napi_ok && type == wanted) {
        return {static_cast<T*>(data), length};  // data already includes the byte offset; detached: length 0
      }
    }
    type_error(std::string("expected ") + wantedName + " for " + name + " but received " + type_name(value));
  }

  // What was passed instead of a typed array ("Float64Array", "Array", "null", ...): a user who hands the
  // native backend a span of another backend reads it.
  static std::string type_name(const Napi::Value& value) {
    static const char* const arrays[] = {"Int8Array",    "Uint8Array",    "Uint8ClampedArray", "Int16Array",
                                         "Uint16Array",  "Int32Array",    "Uint32Array",       "Float32Array",
                                         "Float64Array", "BigInt64Array", "BigUint64Array"};
    static const char* const types[] = {"undefined", "null",   "boolean",  "number",   "string",
                                        "symbol",    "object", "function", "external", "bigint"};
    if (value.IsTypedArray()) {
      const auto type = static_cast<size_t>(value.As<Napi::TypedArray>().TypedArrayType());
      return type < std::size(arrays) ? arrays[type] : "TypedArray";
    }
    if (value.IsArray()) return "Array";
    if (value.IsArrayBuffer()) return "ArrayBuffer";
    if (value.IsDataView()) return "DataView";
    const auto type = static_cast<size_t>(value.Type());
    return type < std::size(types) ? types[type] : "object";
  }

  // Number formatting as JavaScript's String(number) (sizes beyond 2^53 in messages).
  std::string js_number(double value) const { return Napi::Number::New(env_, value).ToString().Utf8Value(); }

  const Napi::CallbackInfo& info_;
  Napi::Env env_;
  const char* kernel_;
};

// ---- kernels ---------------------------------------------------------------------------------------

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C)
void Gemm(const Napi::CallbackInfo& info) {
  Args args(info, "gemm");
  const int64_t M = args.size(2, "M"), N = args.size(3, "N"), K = args.size(4, "K");
  const double alpha = args.number(5, "alpha"), beta = args.number(8, "beta");
  const bool transA = args.flag(0, "transA"), transB = args.flag(1, "transB");
  const Floats A = args.floats(6, "A", double(M) * double(K));
  const Floats B = args.floats(7, "B", double(K) * double(N));
  const Floats C = args.floats(9, "C", double(M) * double(N));
  args.no_alias({region("C", C)}, {region("A", A), region("B", B)});
  rnnkit::gemm(transA, transB, M, N, K, float(alpha), A.data, B.data, float(beta), C.data);
}

// addBias(M, N, bias, C)
void AddBias(const Napi::CallbackInfo& info) {
  Args args(info, "addBias");
  const int64_t M = args.size(0, "M"), N = args.size(1, "N");
  const Floats bias = args.floats(2, "bias", double(N));
  const Floats C = args.floats(3, "C", double(M) * double(N));
  args.no_alias({region("C", C)}, {region("bias", bias)});
  rnnkit::add_bias(M, N, bias.data, C.data);
}

// sumRows(M, N, A, out)
void SumRows(const Napi::CallbackInfo& info) {
  Args args(info, "sumRows");
  const int64_t M = args.size(0, "M"), N = args.size(1, "N");
  const Floats A = args.floats(2, "A", double(M) * double(N));
  const Floats out = args.floats(3, "out", double(N));
  args.no_alias({region("out", out)}, {region("A", A)});
  rnnkit::sum_rows(M, N, A.data, out.data);
}

// The row and column gather/scatter: (n, width, ids, ...) with width D (rows of a table [R, D]) or R (columns
// of W [R, C]), a dense [n, width] and the table at the positions each kernel gives them. They differ only
// in which of the two they read and which they write, so one function checks and runs all four: the ids
// must name a row (column) of the table, and the output must not overlap the inputs.
using IndexedKernel = void (*)(int64_t n, int64_t width, const int32_t* ids, const float* from, int64_t limit,
                               float* to);
void indexed(const Napi::CallbackInfo& info, const char* kernel, bool byColumns, bool scatter, const char* tableName,
             IndexedKernel run) {
  Args args(info, kernel);
  const int64_t n = args.size(0, "n"), width = args.size(1, byColumns ? "R" : "D", 1);
  const Ints ids = args.ints(2, "ids", double(n));
  const char* denseName = scatter ? "dOut" : "out";
  const Floats dense = args.floats(scatter ? 3 : 4, denseName, double(n) * double(width));
  const Floats table = args.floats(scatter ? 4 : 3, tableName);
  const int64_t limit = args.table_rows(table, width, tableName);
  args.check_ids(ids, n, limit, false);
  const Region out = scatter ? region(tableName, table) : region(denseName, dense);
  const Region in = scatter ? region(denseName, dense) : region(tableName, table);
  args.no_alias({out}, {region("ids", ids), in});
  if (scatter) {
    run(n, width, ids.data, dense.data, limit, table.data);
  } else {
    run(n, width, ids.data, table.data, limit, dense.data);
  }
}

void GatherRows(const Napi::CallbackInfo& info) {
  indexed(info, "gatherRows", false, false, "table", rnnkit::gather_rows);  // (n, D, ids, table, out)
}
void ScatterAddRows(const Napi::CallbackInfo& info) {
  indexed(info, "scatterAddRows", false, true, "dTable", rnnkit::scatter_add_rows);  // (n, D, ids, dOut, dTable)
}
void GatherColumns(const Napi::CallbackInfo& info) {
  indexed(info, "gatherColumns", true, false, "W", rnnkit::gather_columns);  // (n, R, ids, W, out)
}
void ScatterAddColumns(const Napi::CallbackInfo& info) {
  indexed(info, "scatterAddColumns", true, true, "dW", rnnkit::scatter_add_columns);  // (n, R, ids, dOut, dW)
}

// What both cell kernels start with: (kind, T, B, H) at positions 0-3, each size >= 1; the sizes also as
// doubles (products of three stay exact), G·H, and whether the cell has a cell state (lstm).
struct CellShape {
  CellKind kind;
  int64_t T, B, H;
  double t, b, h, GH;
  bool hasC;
};
CellShape cell_shape(const Args& args) {
  const CellKind kind = args.cell_kind(0);
  const int64_t T = args.size(1, "T", 1), B = args.size(2, "B", 1), H = args.size(3, "H", 1);
  return {kind,
          T,
          B,
          H,
          double(T),
          double(B),
          double(H),
          double(rnnkit::gates_of(kind)) * double(H),
          kind == CellKind::Lstm};
}

// cellForward(kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache, xIds?, lengths?): with xIds [T·B], xProj
// is a table of rows of G·H floats and every id must name one of its rows; lengths [B] each in [0, T].
void CellForward(const Napi::CallbackInfo& info) {
  Args args(info, "cellForward");
  const auto [kind, T, B, H, t, b, h, GH, hasC] = cell_shape(args);
  const bool byIds = !args.is_absent(11);
  const Ints xIds = byIds ? args.ints(11, "xIds", t * b) : Ints{};
  const Floats xProj = byIds ? args.floats(4, "xProj") : args.floats(4, "xProj", t * b * GH);
  int64_t xRows = T * B;
  if (byIds) {
    xRows = args.table_rows(xProj, rnnkit::gates_of(kind) * H, "xProj");
    args.check_ids(xIds, T * B, xRows, false);
  }
  const Floats wHh = args.floats(5, "wHh", GH * h);
  const Floats bIh = args.floats(6, "bIh", GH);
  const Floats bHh = args.floats(7, "bHh", GH);
  const Floats hs = args.floats(8, "hs", (t + 1) * b * h);
  const Floats cs = args.floats(9, "cs", hasC ? (t + 1) * b * h : 0);
  const Floats cache = args.floats(10, "cache", t * b * double(rnnkit::cache_width(kind)) * h);
  const Ints lengths = args.is_absent(12) ? Ints{} : args.lengths(12, T, B, 0);
  args.no_alias({region("hs", hs), region("cs", cs), region("cache", cache)},
                {region("xProj", xProj), region("wHh", wHh), region("bIh", bIh), region("bHh", bHh),
                 region("xIds", xIds), region("lengths", lengths)});
  rnnkit::cell_forward(kind, T, B, H, xProj.data, byIds ? xIds.data : nullptr, xRows, wHh.data, bIh.data, bHh.data,
                       hs.data, cs.data, cache.data, lengths.data);
}

// cellBackward(kind, T, B, H, wHh, hs, cs, cache, dhs, dhN, dcN, dGx, dGh, dh0, dc0, dbIh?, dbHh?, lengths?, dhSteps?)
void CellBackward(const Napi::CallbackInfo& info) {
  Args args(info, "cellBackward");
  const auto [kind, T, B, H, t, b, h, GH, hasC] = cell_shape(args);
  const Floats wHh = args.floats(4, "wHh", GH * h);
  const Floats hs = args.floats(5, "hs", (t + 1) * b * h);
  const Floats cs = args.floats(6, "cs", hasC ? (t + 1) * b * h : 0);
  const Floats cache = args.floats(7, "cache", t * b * double(rnnkit::cache_width(kind)) * h);
  const Floats dhs = args.floats(8, "dhs", t * b * h);
  const Floats dhN = args.floats(9, "dhN", b * h);
  const Floats dcN = args.floats(10, "dcN", hasC ? b * h : 0);
  const Floats dGx = args.floats(11, "dGx", t * b * GH);
  const Floats dGh = args.floats(12, "dGh", t * b * GH);
  const Floats dh0 = args.floats(13, "dh0", b * h);
  const Floats dc0 = args.floats(14, "dc0", hasC ? b * h : 0);
  const Floats dbIh = args.is_absent(15) ? Floats{} : args.floats(15, "dbIh", GH);
  const Floats dbHh = args.is_absent(16) ? Floats{} : args.floats(16, "dbHh", GH);
  const Ints lengths = args.is_absent(17) ? Ints{} : args.lengths(17, T, B, 0);
  const Floats dhSteps = args.is_absent(18) ? Floats{} : args.floats(18, "dhSteps", t * b * h);
  args.no_alias({region("dGx", dGx), region("dGh", dGh), region("dh0", dh0), region("dc0", dc0), region("dbIh", dbIh),
                 region("dbHh", dbHh), region("dhSteps", dhSteps)},
                {region("wHh", wHh), region("hs", hs), region("cs", cs), region("cache", cache), region("dhs", dhs),
                 region("dhN", dhN), region("dcN", dcN), region("lengths", lengths)});
  rnnkit::cell_backward(kind, T, B, H, wHh.data, hs.data, cs.data, cache.data, dhs.data, dhN.data, dcN.data, dGx.data,
                        dGh.data, dh0.data, dc0.data, dbIh.data, dbHh.data, lengths.data, dhSteps.data);
}

// The shared checks of poolForward and poolBackward (checkPool): mode, T, B, D, lengths [B] each in
// [1, T] and argmax [B·D] (max) or empty (mean), at the positions both kernels give them.
struct Pool {
  rnnkit::PoolMode mode;
  int64_t T, B, D;
  Ints lengths, argmax;
};
Pool pool(const Args& args, size_t lengthsIndex, size_t argmaxIndex) {
  Pool p{};
  p.mode = args.pool_mode(0);
  p.T = args.size(1, "T", 1);
  p.B = args.size(2, "B", 1);
  p.D = args.size(3, "D", 1);
  p.lengths = args.lengths(lengthsIndex, p.T, p.B, 1);
  p.argmax = args.ints(argmaxIndex, "argmax", p.mode == rnnkit::PoolMode::Max ? double(p.B) * double(p.D) : 0);
  return p;
}

// poolForward(mode, T, B, D, x, lengths, out, argmax)
void PoolForward(const Napi::CallbackInfo& info) {
  Args args(info, "poolForward");
  const Pool p = pool(args, 5, 7);
  const Floats x = args.floats(4, "x", double(p.T) * double(p.B) * double(p.D));
  const Floats out = args.floats(6, "out", double(p.B) * double(p.D));
  args.no_alias({region("out", out), region("argmax", p.argmax)}, {region("x", x), region("lengths", p.lengths)});
  rnnkit::pool_forward(p.mode, p.T, p.B, p.D, x.data, p.lengths.data, out.data, p.argmax.data);
}

// poolBackward(mode, T, B, D, dOut, lengths, argmax, dx)
void PoolBackward(const Napi::CallbackInfo& info) {
  Args args(info, "poolBackward");
  const Pool p = pool(args, 5, 6);
  const Floats dOut = args.floats(4, "dOut", double(p.B) * double(p.D));
  const Floats dx = args.floats(7, "dx", double(p.T) * double(p.B) * double(p.D));
  if (p.mode == rnnkit::PoolMode::Max) args.check_ids(p.argmax, p.B * p.D, p.T, false);
  args.no_alias({region("dx", dx)}, {region("dOut", dOut), region("lengths", p.lengths), region("argmax", p.argmax)});
  rnnkit::pool_backward(p.mode, p.T, p.B, p.D, dOut.data, p.lengths.data, p.argmax.data, dx.data);
}

// softmaxCrossEntropy(N, V, logits, targets, scale, dLogits | null) → loss sum
Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Args args(info, "softmaxCrossEntropy");
  const int64_t N = args.size(0, "N"), V = args.size(1, "V", 1);
  const double scale = args.number(4, "scale");
  double smoothing = 0.0;
  if (!args.is_absent(6)) {
    const Napi::Value value = info[6];
    smoothing = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : NAN;
    if (!(smoothing >= 0.0 && smoothing <= 1.0))
      args.range_error("expected a number in [0, 1] for labelSmoothing but received " + value.ToString().Utf8Value());
  }
  const Floats logits = args.floats(2, "logits", double(N) * double(V));
  const Ints targets = args.ints(3, "targets", double(N));
  args.check_ids(targets, N, V, true);
  float* dLogits = nullptr;
  if (!args.is_absent(5)) {
    const Floats d = args.floats(5, "dLogits", double(N) * double(V));
    args.no_alias({region("dLogits", d)}, {region("logits", logits), region("targets", targets)});
    dLogits = d.data;
  }
  const double loss =
      rnnkit::softmax_cross_entropy(N, V, logits.data, targets.data, float(scale), dLogits, float(smoothing));
  return Napi::Number::New(args.env(), loss);
}

// ctcLoss(T, B, C, S, logits, targets, inputLengths, targetLengths, zeroInfinity, work, losses, dLogits | null)
// → the mean loss (checkCtcLoss)
Napi::Value CtcLoss(const Napi::CallbackInfo& info) {
  Args args(info, "ctcLoss");
  const int64_t T = args.size(0, "T", 1), B = args.size(1, "B", 1), C = args.size(2, "C", 2), S = args.size(3, "S");
  const Floats logits = args.floats(4, "logits", double(T) * double(B) * double(C));
  const Ints targets = args.ints(5, "targets", double(B) * double(S));
  const Ints inputLengths = args.ints(6, "inputLengths", double(B));
  const Ints targetLengths = args.ints(7, "targetLengths", double(B));
  for (int64_t b = 0; b < B; b++) {
    const int64_t L = inputLengths.data[b], U = targetLengths.data[b];
    if (L < 1 || L > T || U < 0 || U > S)
      args.range_error("a length of sequence " + std::to_string(b) + " out of range");
    for (int64_t s = 0; s < U; s++) {
      const int64_t label = targets.data[b * S + s];
      if (label < 1 || label >= C) args.range_error("a label of sequence " + std::to_string(b) + " out of range");
    }
  }
  const bool zeroInfinity = args.flag(8, "zeroInfinity");
  const Floats work = args.floats(9, "work", double(B) * double(T) * (2.0 * (2.0 * double(S) + 1.0) + 1.0));
  const Floats losses = args.floats(10, "losses", double(B));
  const Floats dLogits = args.is_absent(11) ? Floats{} : args.floats(11, "dLogits", double(T) * double(B) * double(C));
  args.no_alias({region("work", work), region("losses", losses), region("dLogits", dLogits)},
                {region("logits", logits), region("targets", targets), region("inputLengths", inputLengths),
                 region("targetLengths", targetLengths)});
  const double loss = rnnkit::ctc_loss(T, B, C, S, logits.data, targets.data, inputLengths.data, targetLengths.data,
                                       zeroInfinity, work.data, losses.data, dLogits.data);
  return Napi::Number::New(args.env(), loss);
}

// clipValue(x, limit)
void ClipValue(const Napi::CallbackInfo& info) {
  Args args(info, "clipValue");
  const double limit = args.number(1, "limit");
  const Floats x = args.floats(0, "x");
  rnnkit::clip_value(static_cast<int64_t>(x.length), x.data, float(limit));
}

// sumSquares(x) → Σ x² in double
Napi::Value SumSquares(const Napi::CallbackInfo& info) {
  Args args(info, "sumSquares");
  const Floats x = args.floats(0, "x");
  return Napi::Number::New(args.env(), rnnkit::sum_squares(static_cast<int64_t>(x.length), x.data));
}

// scale(x, s)
void Scale(const Napi::CallbackInfo& info) {
  Args args(info, "scale");
  const double s = args.number(1, "s");
  const Floats x = args.floats(0, "x");
  rnnkit::scale(static_cast<int64_t>(x.length), x.data, float(s));
}

// dropout(x, p, seed, mask, out)
void Dropout(const Napi::CallbackInfo& info) {
  Args args(info, "dropout");
  const double prob = args.number(1, "p");
  if (!(prob >= 0 && prob < 1)) args.range_error("p is not in [0, 1)");  // the threshold below must fit 32 bits
  args.number(2, "seed");  // a number: its conversion to 32 bits below is defined for every one
  const uint32_t seed = info[2].As<Napi::Number>().Uint32Value();
  const Floats x = args.floats(0, "x");
  const Floats mask = args.floats(3, "mask", double(x.length)), out = args.floats(4, "out", double(x.length));
  args.no_alias({region("mask", mask), region("out", out)}, {region("x", x)});
  // dropoutThreshold(p) = floor(p·2³²) < 2³² because p < 1.
  const auto threshold = static_cast<uint32_t>(std::floor(prob * 4294967296.0));
  rnnkit::dropout(static_cast<int64_t>(x.length), x.data, threshold, static_cast<float>(1.0 / (1.0 - prob)), seed,
                  mask.data, out.data);
}

// multiply(a, b, out)
void Multiply(const Napi::CallbackInfo& info) {
  Args args(info, "multiply");
  const Floats a = args.floats(0, "a");
  const Floats b = args.floats(1, "b", double(a.length)), out = args.floats(2, "out", double(a.length));
  args.no_alias({region("out", out)}, {region("a", a), region("b", b)});
  rnnkit::multiply(static_cast<int64_t>(a.length), a.data, b.data, out.data);
}

// ---- the attention decoder (decoderForward / decoderBackward) -------------------------------------
// Arguments: kind, T, B, S, E, H, M, L, then 7 typed arrays per layer (wIh, wHh, bIh, bHh, hs, cs, cache),
// then the kernel's own (see DecoderForward, DecoderBackward). src/backend/native.ts flattens the Backend's
// objects into this list after the TypeScript checks; everything is validated again here.
struct DecoderArgs {
  CellKind kind;
  int64_t T, B, S, E, H, M, L;
  std::vector<rnnkit::DecoderLayerPtrs> layers;
  std::deque<std::string> names;  // stable storage for the regions' names
  std::vector<Region> weights, states;
  size_t next;  // the index of the first argument after the layers

  const char* name(const std::string& text) { return names.emplace_back(text).c_str(); }
  Floats floats(const Args& args, size_t index, const std::string& text, double expected) {
    return args.floats(index, name(text), expected);
  }
  const char* last_name(size_t back) const { return names[names.size() - back].c_str(); }
};

// Fills d in place (the regions point into d.names).
void decoder_args(const Args& args, DecoderArgs& d) {
  d.kind = args.cell_kind(0);
  d.T = args.size(1, "T", 0), d.B = args.size(2, "B", 1), d.S = args.size(3, "S", 1), d.E = args.size(4, "E", 1);
  d.H = args.size(5, "H", 1), d.M = args.size(6, "M", 1), d.L = args.size(7, "L", 1);
  const double t = double(d.T), b = double(d.B), h = double(d.H), GH = double(rnnkit::gates_of(d.kind)) * h;
  const bool lstm = d.kind == CellKind::Lstm;
  for (int64_t l = 0; l < d.L; l++) {
    const size_t at = 8 + 7 * size_t(l);
    const std::string layer = "layers[" + std::to_string(l) + "].";
    static const char* const fields[7] = {"wIh", "wHh", "bIh", "bHh", "hs", "cs", "cache"};
    const double lengths[7] = {GH * (l == 0 ? double(d.E) + h : h),
                               GH * h,
                               GH,
                               GH,
                               (t + 1) * b * h,
                               lstm ? (t + 1) * b * h : 0,
                               t * b * double(rnnkit::cache_width(d.kind)) * h};
    Floats v[7];
    for (size_t j = 0; j < 7; j++) {
      const char* name = d.name(layer + fields[j]);
      v[j] = args.floats(at + j, name, lengths[j]);
      (j < 4 ? d.weights : d.states).push_back(region(name, v[j]));
    }
    d.layers.push_back({v[0].data, v[1].data, v[2].data, v[3].data, v[4].data, v[5].data, v[6].data});
  }
  d.next = 8 + 7 * size_t(d.L);
}

// The memory (keys, memory, sourceLengths), wCombine and the record (input0, attention, combined, feeds)
// at args[at ...], in the order of checks.ts; adds them to d's regions.
struct DecoderShared {
  Floats keys, memory, wCombine, input0, attention, combined, feeds;
  Ints sourceLengths;
};
DecoderShared decoder_shared(const Args& args, DecoderArgs& d, size_t at) {
  const double t = double(d.T), b = double(d.B), h = double(d.H), m = double(d.M);
  DecoderShared x;
  x.keys = args.floats(at, "keys", double(d.S) * b * h);
  x.memory = args.floats(at + 1, "memory", double(d.S) * b * m);
  x.sourceLengths = args.ints(at + 2, "sourceLengths", b);
  for (int64_t i = 0; i < d.B; i++) {
    const int64_t length = x.sourceLengths.data[i];
    if (length < 1 || length > d.S) {
      args.range_error("sourceLengths[" + std::to_string(i) + "] = " + std::to_string(length) + " is outside [1, " +
                       std::to_string(d.S) + "]");
    }
  }
  x.wCombine = args.floats(at + 3, "wCombine", h * (m + h));
  x.input0 = args.floats(at + 4, "input0", t * b * (double(d.E) + h));
  x.attention = args.floats(at + 5, "attention", t * b * double(d.S));
  x.combined = args.floats(at + 6, "combined", t * b * (m + h));
  x.feeds = args.floats(at + 7, "feeds", (t + 1) * b * h);
  d.weights.insert(d.weights.end(), {region("keys", x.keys), region("memory", x.memory),
                                     region("sourceLengths", x.sourceLengths), region("wCombine", x.wCombine)});
  d.states.insert(d.states.end(), {region("input0", x.input0), region("attention", x.attention),
                                   region("combined", x.combined), region("feeds", x.feeds)});
  return x;
}

[[noreturn]] void out_of_memory(const Args& args) { args.range_error("could not allocate the decoder's scratch"); }

// decoderForward(kind, T, B, S, E, H, M, L, ...layers, keys, memory, sourceLengths, wCombine, input0,
//                attention, combined, feeds, embedded)
void DecoderForward(const Napi::CallbackInfo& info) {
  Args args(info, "decoderForward");
  DecoderArgs d;
  decoder_args(args, d);
  const DecoderShared x = decoder_shared(args, d, d.next);
  const Floats embedded = args.floats(d.next + 8, "embedded", double(d.T) * double(d.B) * double(d.E));
  d.weights.push_back(region("embedded", embedded));
  args.no_alias(d.states, d.weights);
  if (!rnnkit::decoder_forward(d.kind, d.T, d.B, d.S, d.E, d.H, d.M, d.L, d.layers.data(), embedded.data, x.keys.data,
                               x.memory.data, x.sourceLengths.data, x.wCombine.data, x.input0.data, x.attention.data,
                               x.combined.data, x.feeds.data))
    out_of_memory(args);
}

// decoderBackward(kind, T, B, S, E, H, M, L, ...layers, keys, memory, sourceLengths, wCombine, input0,
//                 attention, combined, feeds, dFeeds, ...per layer (dhN, dcN, dGx, dGh, dh0, dc0, dbIh, dbHh),
//                 dEmbedded, dKeys, dMemory, dCombine, dFeed0)
void DecoderBackward(const Napi::CallbackInfo& info) {
  Args args(info, "decoderBackward");
  DecoderArgs d;
  decoder_args(args, d);
  const DecoderShared x = decoder_shared(args, d, d.next);
  const double t = double(d.T), b = double(d.B), h = double(d.H), GH = double(rnnkit::gates_of(d.kind)) * h;
  const double cells = d.kind == CellKind::Lstm ? b * h : 0;
  const Floats dFeeds = args.floats(d.next + 8, "dFeeds", t * b * h);
  std::vector<Region> inputs = d.weights, outputs;
  inputs.insert(inputs.end(), d.states.begin(), d.states.end());
  inputs.push_back(region("dFeeds", dFeeds));
  std::vector<rnnkit::DecoderLayerGradPtrs> grads;
  for (int64_t l = 0; l < d.L; l++) {
    const size_t at = d.next + 9 + 8 * size_t(l);
    const std::string n = "[" + std::to_string(l) + "]", g = "grads" + n + ".";
    const Floats dhN = d.floats(args, at, "dhN" + n, b * h);
    const Floats dcN = d.floats(args, at + 1, "dcN" + n, cells);
    const Floats dGx = d.floats(args, at + 2, g + "dGx", t * b * GH);
    const Floats dGh = d.floats(args, at + 3, g + "dGh", t * b * GH);
    const Floats dh0 = d.floats(args, at + 4, g + "dh0", b * h);
    const Floats dc0 = d.floats(args, at + 5, g + "dc0", cells);
    const Floats dbIh = d.floats(args, at + 6, g + "dbIh", GH);
    const Floats dbHh = d.floats(args, at + 7, g + "dbHh", GH);
    inputs.push_back(region(d.last_name(8), dhN));
    inputs.push_back(region(d.last_name(7), dcN));
    const Floats* outs[] = {&dGx, &dGh, &dh0, &dc0, &dbIh, &dbHh};
    for (size_t i = 0; i < 6; i++) outputs.push_back(region(d.last_name(6 - i), *outs[i]));
    grads.push_back({dhN.data, dcN.data, dGx.data, dGh.data, dh0.data, dc0.data, dbIh.data, dbHh.data});
  }
  const size_t at = d.next + 9 + 8 * size_t(d.L);
  const Floats dEmbedded = args.floats(at, "dEmbedded", t * b * double(d.E));
  const Floats dKeys = args.floats(at + 1, "dKeys", double(d.S) * b * h);
  const Floats dMemory = args.floats(at + 2, "dMemory", double(d.S) * b * double(d.M));
  const Floats dCombine = args.floats(at + 3, "dCombine", t * b * h);
  const Floats dFeed0 = args.floats(at + 4, "dFeed0", b * h);
  outputs.insert(outputs.end(), {region("dEmbedded", dEmbedded), region("dKeys", dKeys), region("dMemory", dMemory),
                                 region("dCombine", dCombine), region("dFeed0", dFeed0)});
  args.no_alias(outputs, inputs);
  if (!rnnkit::decoder_backward(d.kind, d.T, d.B, d.S, d.E, d.H, d.M, d.L, d.layers.data(), x.keys.data, x.memory.data,
                                x.sourceLengths.data, x.wCombine.data, x.attention.data, x.combined.data, x.feeds.data,
                                dFeeds.data, grads.data(), dEmbedded.data, dKeys.data, dMemory.data, dCombine.data,
                                dFeed0.data))
    out_of_memory(args);
}

// topK(N, V, K, scores, values, indices)
void TopK(const Napi::CallbackInfo& info) {
  Args args(info, "topK");
  const int64_t N = args.size(0, "N"), V = args.size(1, "V", 1), K = args.size(2, "K", 1);
  if (K > V) args.range_error("K = " + std::to_string(K) + " is larger than V = " + std::to_string(V));
  const Floats scores = args.floats(3, "scores", double(N) * double(V));
  const Floats values = args.floats(4, "values", double(N) * double(K));
  const Ints indices = args.ints(5, "indices", double(N) * double(K));
  args.no_alias({region("values", values), region("indices", indices)}, {region("scores", scores)});
  rnnkit::top_k(N, V, K, scores.data, values.data, indices.data);
}

// logSoftmax(N, V, x, out)
void LogSoftmax(const Napi::CallbackInfo& info) {
  Args args(info, "logSoftmax");
  const int64_t N = args.size(0, "N"), V = args.size(1, "V", 1);
  const Floats x = args.floats(2, "x", double(N) * double(V));
  const Floats out = args.floats(3, "out", double(N) * double(V));
  args.no_alias({region("out", out)}, {region("x", x)});
  rnnkit::log_softmax(N, V, x.data, out.data);
}

// The tensors an optimizer update starts with (param first, at positions 0 … N-1): Float32Arrays as long
// as param, no two of them overlapping (the update writes all but grad in place).
template <size_t N>
std::array<Floats, N> update_tensors(const Args& args, const char* const (&names)[N]) {
  std::array<Floats, N> t{};
  for (size_t i = 0; i < N; i++) {
    t[i] = args.floats(i, names[i]);
    if (t[i].length != t[0].length) {
      args.range_error(std::string(names[i]) + " has " + std::to_string(t[i].length) + " elements, expected " +
                       std::to_string(t[0].length) + " like " + names[0]);
    }
  }
  for (size_t i = 0; i < N; i++) {
    for (size_t j = i + 1; j < N; j++) {
      if (overlaps(region(names[i], t[i]), region(names[j], t[j]))) {
        args.range_error(std::string("output ") + names[i] + " overlaps " + names[j]);
      }
    }
  }
  return t;
}

// adagradUpdate(param, grad, sum, lr, eps, weightDecay)
void AdagradUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "adagradUpdate");
  const auto [param, grad, sum] = update_tensors(args, {"param", "grad", "sum"});
  const double lr = args.number(3, "lr"), eps = args.number(4, "eps"), weightDecay = args.number(5, "weightDecay");
  rnnkit::adagrad_update(static_cast<int64_t>(param.length), param.data, grad.data, sum.data, float(lr), float(eps),
                         float(weightDecay));
}

// sgdUpdate(param, grad, lr, weightDecay)
void SgdUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "sgdUpdate");
  const auto [param, grad] = update_tensors(args, {"param", "grad"});
  const double lr = args.number(2, "lr"), weightDecay = args.number(3, "weightDecay");
  rnnkit::sgd_update(static_cast<int64_t>(param.length), param.data, grad.data, float(lr), float(weightDecay));
}

// momentumUpdate(param, grad, buf, lr, momentum, dampening, nesterov, weightDecay, first)
void MomentumUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "momentumUpdate");
  const auto [param, grad, buf] = update_tensors(args, {"param", "grad", "buf"});
  const double lr = args.number(3, "lr"), momentum = args.number(4, "momentum"),
               dampening = args.number(5, "dampening");
  const double weightDecay = args.number(7, "weightDecay");
  const bool nesterov = args.flag(6, "nesterov");
  const bool first = args.flag(8, "first");
  rnnkit::momentum_update(static_cast<int64_t>(param.length), param.data, grad.data, buf.data, lr, momentum, dampening,
                          nesterov, weightDecay, first);
}

// rmspropUpdate(param, grad, sq, lr, alpha, eps, weightDecay)
void RmspropUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "rmspropUpdate");
  const auto [param, grad, sq] = update_tensors(args, {"param", "grad", "sq"});
  const double lr = args.number(3, "lr"), alpha = args.number(4, "alpha"), eps = args.number(5, "eps");
  const double weightDecay = args.number(6, "weightDecay");
  rnnkit::rmsprop_update(static_cast<int64_t>(param.length), param.data, grad.data, sq.data, lr, alpha, eps,
                         weightDecay);
}

// adamUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step)
void AdamUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "adamUpdate");
  const auto [param, grad, m, v] = update_tensors(args, {"param", "grad", "m", "v"});
  const double lr = args.number(4, "lr"), beta1 = args.number(5, "beta1"), beta2 = args.number(6, "beta2");
  const double eps = args.number(7, "eps"), weightDecay = args.number(8, "weightDecay");
  const bool decoupled = args.flag(9, "decoupled");
  const int64_t step = args.size(10, "step", 1);
  rnnkit::adam_update(static_cast<int64_t>(param.length), param.data, grad.data, m.data, v.data, lr, beta1, beta2, eps,
                      weightDecay, decoupled, step);
}

// info() → { simd, threads, cellKinds }: the SIMD level and thread count the kernels use on this
// thread (see configure), and the cell kind names in enum order (the loader compares them with
// CELL_KINDS).
Napi::Value Info(const Napi::CallbackInfo& info) {
  const Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("simd", rnnkit::simd_name(rnnkit::engine_config().level));
  result.Set("threads", rnnkit::engine_config().threads);
  Napi::Array kinds = Napi::Array::New(env, rnnkit::kCellKindCount);
  for (int k = 0; k < rnnkit::kCellKindCount; k++) kinds.Set(static_cast<uint32_t>(k), rnnkit::kCellKindNames[k]);
  result.Set("cellKinds", kinds);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  rnnkit::register_engine_exports(env, exports);  // configure, simdLevels, measurePeak, activation
  exports.Set("gemm", Napi::Function::New(env, Gemm, "gemm"));
  exports.Set("addBias", Napi::Function::New(env, AddBias, "addBias"));
  exports.Set("sumRows", Napi::Function::New(env, SumRows, "sumRows"));
  exports.Set("gatherRows", Napi::Function::New(env, GatherRows, "gatherRows"));
  exports.Set("scatterAddRows", Napi::Function::New(env, ScatterAddRows, "scatterAddRows"));
  exports.Set("gatherColumns", Napi::Function::New(env, GatherColumns, "gatherColumns"));
  exports.Set("scatterAddColumns", Napi::Function::New(env, ScatterAddColumns, "scatterAddColumns"));
  exports.Set("cellForward", Napi::Function::New(env, CellForward, "cellForward"));
  exports.Set("cellBackward", Napi::Function::New(env, CellBackward, "cellBackward"));
  exports.Set("poolForward", Napi::Function::New(env, PoolForward, "poolForward"));
  exports.Set("poolBackward", Napi::Function::New(env, PoolBackward, "poolBackward"));
  exports.Set("decoderForward", Napi::Function::New(env, DecoderForward, "decoderForward"));
  exports.Set("decoderBackward", Napi::Function::New(env, DecoderBackward, "decoderBackward"));
  exports.Set("topK", Napi::Function::New(env, TopK, "topK"));
  exports.Set("logSoftmax", Napi::Function::New(env, LogSoftmax, "logSoftmax"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy, "softmaxCrossEntropy"));
  exports.Set("ctcLoss", Napi::Function::New(env, CtcLoss, "ctcLoss"));
  exports.Set("clipValue", Napi::Function::New(env, ClipValue, "clipValue"));
  exports.Set("sumSquares", Napi::Function::New(env, SumSquares, "sumSquares"));
  exports.Set("scale", Napi::Function::New(env, Scale, "scale"));
  exports.Set("dropout", Napi::Function::New(env, Dropout, "dropout"));
  exports.Set("multiply", Napi::Function::New(env, Multiply, "multiply"));
  exports.Set("adagradUpdate", Napi::Function::New(env, AdagradUpdate, "adagradUpdate"));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate, "sgdUpdate"));
  exports.Set("momentumUpdate", Napi::Function::New(env, MomentumUpdate, "momentumUpdate"));
  exports.Set("rmspropUpdate", Napi::Function::New(env, RmspropUpdate, "rmspropUpdate"));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate, "adamUpdate"));
  return exports;
}

}  // namespace

NODE_API_MODULE(rnnkit, Init)
