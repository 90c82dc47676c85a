// The N-API binding: one function per Backend kernel, with the Backend's argument order
// (src/backend/types.ts), except that spans arrive as typed arrays (the span's exact range) and the
// cell kind as its name. Each function validates everything the TypeScript backends check in
// src/backend/checks.ts, in the same order and with the same messages, plus the argument types, then
// takes pointers from the typed arrays and calls a plain kernel from kernels.h. No JS code runs
// between validation and the kernel, so nothing can change under it (except a SharedArrayBuffer
// written by another thread; the indexed kernels guard their ids for that case).
#include <napi.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <initializer_list>
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

const char* typed_array_name(napi_typedarray_type type) {
  switch (type) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
    default: return "TypedArray";
  }
}

// The arguments of one kernel call, with validation helpers that throw a JS RangeError/TypeError
// whose message starts with the kernel's name ("gemm: A has 5 elements, expected 6").
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

  // checkSize: an integer in [min, MAX_ELEMENTS].
  int64_t size(size_t index, const char* name, int64_t min = 0) const {
    const Napi::Value value = info_[index];
    if (value.IsNumber()) {
      const double d = value.As<Napi::Number>().DoubleValue();
      if (std::isfinite(d) && std::trunc(d) == d && d >= static_cast<double>(min) && d <= kMaxElements) {
        return static_cast<int64_t>(d);
      }
    }
    range_error("expected an integer >= " + std::to_string(min) + " for " + name + " but received " + js_string(value));
  }

  // checkNumber: a finite number.
  double number(size_t index, const char* name) const {
    const Napi::Value value = info_[index];
    if (value.IsNumber()) {
      const double d = value.As<Napi::Number>().DoubleValue();
      if (std::isfinite(d)) return d;
    }
    range_error(std::string("expected a finite number for ") + name + " but received " + js_string(value));
  }

  bool is_boolean(size_t index) const { return info_[index].IsBoolean(); }
  bool boolean(size_t index) const { return info_[index].As<Napi::Boolean>().Value(); }

  // checkBooleans: a boolean flag.
  bool flag(size_t index, const char* name) const {
    const Napi::Value value = info_[index];
    if (value.IsBoolean()) return value.As<Napi::Boolean>().Value();
    type_error(std::string("expected a boolean for ") + name + " but received " + js_string(value));
  }

  // checkCell: one of the names in kCellKindNames (CELL_KINDS).
  CellKind cell_kind(size_t index) const {
    const Napi::Value value = info_[index];
    if (value.IsString()) {
      const std::string name = value.As<Napi::String>().Utf8Value();
      for (int k = 0; k < rnnkit::kCellKindCount; k++) {
        if (name == rnnkit::kCellKindNames[k]) return static_cast<CellKind>(k);
      }
    }
    std::string expected;
    for (int k = 0; k < rnnkit::kCellKindCount; k++) {
      expected += (k ? ", " : "") + std::string(rnnkit::kCellKindNames[k]);
    }
    type_error("unknown cell kind " + js_string(value) + " (expected one of " + expected + ")");
  }

  // checkPool's mode: one of the names in kPoolModeNames (POOL_MODES).
  rnnkit::PoolMode pool_mode(size_t index) const {
    const Napi::Value value = info_[index];
    if (value.IsString()) {
      const std::string name = value.As<Napi::String>().Utf8Value();
      for (int m = 0; m < rnnkit::kPoolModeCount; m++) {
        if (name == rnnkit::kPoolModeNames[m]) return static_cast<rnnkit::PoolMode>(m);
      }
    }
    std::string expected;
    for (int m = 0; m < rnnkit::kPoolModeCount; m++) {
      expected += (m ? ", " : "") + std::string(rnnkit::kPoolModeNames[m]);
    }
    type_error("unknown pooling " + js_string(value) + " (expected one of " + expected + ")");
  }

  // A Float32Array of any length / of exactly `expected` elements (checkSpan).
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
  int64_t table_rows(Floats table, int64_t width, const std::string& label, const char* unit) const {
    if (table.length == 0 || static_cast<int64_t>(table.length) % width != 0) {
      range_error(label + " of " + std::to_string(table.length) + " elements is not a whole number of " +
                  std::to_string(width) + "-element " + unit);
    }
    return static_cast<int64_t>(table.length) / width;
  }

  void check_length(const char* name, size_t actual, double expected) const {
    if (static_cast<double>(actual) != expected) {
      range_error(std::string(name) + " has " + std::to_string(actual) + " elements, expected " + js_number(expected));
    }
  }

  // checkIds: ids[0..n) in [low, limit), low = -1 when padding is allowed.
  void check_ids(Ints ids, int64_t n, int64_t limit, bool allowMinusOne) const {
    const int64_t low = allowMinusOne ? -1 : 0;
    for (int64_t i = 0; i < n; i++) {
      const int64_t id = ids.data[i];
      if (id < low || id >= limit) {
        range_error("id " + std::to_string(id) + " at position " + std::to_string(i) + " is outside [" +
                    std::to_string(low) + ", " + std::to_string(limit) + ")");
      }
    }
  }

  // checkLengths: per-stream lengths [B], each in [min, T].
  Ints lengths(size_t index, int64_t T, int64_t B, int64_t min) const {
    const Ints view = ints(index, "lengths", double(B));
    for (int64_t b = 0; b < B; b++) {
      const int64_t length = view.data[b];
      if (length < min || length > T) {
        range_error("length " + std::to_string(length) + " of stream " + std::to_string(b) + " is outside [" +
                    std::to_string(min) + ", " + std::to_string(T) + "]");
      }
    }
    return view;
  }

  // checkNoAlias: outputs must not overlap each other nor any input (by address, so two views of one
  // ArrayBuffer are caught too).
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

  // Number formatting exactly as JavaScript's String(number) (used for sizes beyond 2^53).
  std::string js_number(double value) const { return Napi::Number::New(env_, value).ToString().Utf8Value(); }

 private:
  template <typename T>
  View<T> typed(size_t index, const char* name, napi_typedarray_type wanted, const char* wantedName) const {
    const Napi::Value value = info_[index];
    if (value.IsTypedArray()) {
      napi_typedarray_type type;
      size_t length = 0;
      void* data = nullptr;
      napi_value buffer;
      size_t byteOffset = 0;
      const napi_status status = napi_get_typedarray_info(env_, value, &type, &length, &data, &buffer, &byteOffset);
      if (status != napi_ok) type_error(std::string("could not read ") + name);
      if (type == wanted) {
        if (length == 0) {  // a detached buffer shows as length 0: say so rather than "0 elements"
          bool detached = false;
          if (napi_is_detached_arraybuffer(env_, buffer, &detached) == napi_ok && detached) {
            type_error(std::string(name) + " is backed by a detached ArrayBuffer");
          }
        }
        return {static_cast<T*>(data), length};  // data already includes the byte offset
      }
    }
    type_error(std::string("expected ") + wantedName + " for " + name + " but received " + type_name(value));
  }

  // String(value), as the TypeScript checks print it.
  std::string js_string(const Napi::Value& value) const {
    if (value.IsSymbol()) return "Symbol()";
    try {
      return value.ToString().Utf8Value();
    } catch (const Napi::Error&) {  // a toString that throws: fall back to the type
      return type_name(value);
    }
  }

  // What was passed instead of a typed array: "Float64Array", "Array", "number", "null", ...
  static std::string type_name(const Napi::Value& value) {
    if (value.IsTypedArray()) return typed_array_name(value.As<Napi::TypedArray>().TypedArrayType());
    if (value.IsArray()) return "Array";
    if (value.IsArrayBuffer()) return "ArrayBuffer";
    if (value.IsDataView()) return "DataView";
    switch (value.Type()) {
      case napi_undefined: return "undefined";
      case napi_null: return "null";
      case napi_boolean: return "boolean";
      case napi_number: return "number";
      case napi_string: return "string";
      case napi_symbol: return "symbol";
      case napi_function: return "function";
      case napi_bigint: return "bigint";
      default: return "object";
    }
  }

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
  if (!args.is_boolean(0) || !args.is_boolean(1)) args.type_error("transA and transB must be booleans");
  const bool transA = args.boolean(0), transB = args.boolean(1);
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

// The shared checks of the row and column gather/scatter (checkIndexed): n at 0, width (D or R) at 1,
// ids at 2, `dense` [n, width] and the table (rows of D, or columns of R) at the given indices.
// The id limit is the table's row count (rows) or column count (columns).
struct Indexed {
  int64_t n, width, limit;
  Ints ids;
  Floats dense, table;
};
Indexed indexed(const Args& args, bool byColumns, const char* denseName, size_t denseIndex, const char* tableName,
                size_t tableIndex) {
  Indexed x{};
  x.n = args.size(0, "n");
  x.width = args.size(1, byColumns ? "R" : "D", 1);
  x.ids = args.ints(2, "ids", double(x.n));
  x.dense = args.floats(denseIndex, denseName, double(x.n) * double(x.width));
  x.table = args.floats(tableIndex, tableName);
  x.limit = args.table_rows(x.table, x.width, "table", byColumns ? "columns" : "rows");
  args.check_ids(x.ids, x.n, x.limit, false);
  return x;
}

// gatherRows(n, D, ids, table, out)
void GatherRows(const Napi::CallbackInfo& info) {
  Args args(info, "gatherRows");
  const Indexed x = indexed(args, false, "out", 4, "table", 3);
  args.no_alias({region("out", x.dense)}, {region("ids", x.ids), region("table", x.table)});
  rnnkit::gather_rows(x.n, x.width, x.ids.data, x.table.data, x.limit, x.dense.data);
}

// scatterAddRows(n, D, ids, dOut, dTable)
void ScatterAddRows(const Napi::CallbackInfo& info) {
  Args args(info, "scatterAddRows");
  const Indexed x = indexed(args, false, "dOut", 3, "dTable", 4);
  args.no_alias({region("dTable", x.table)}, {region("ids", x.ids), region("dOut", x.dense)});
  rnnkit::scatter_add_rows(x.n, x.width, x.ids.data, x.dense.data, x.limit, x.table.data);
}

// gatherColumns(n, R, ids, W, out)
void GatherColumns(const Napi::CallbackInfo& info) {
  Args args(info, "gatherColumns");
  const Indexed x = indexed(args, true, "out", 4, "W", 3);
  args.no_alias({region("out", x.dense)}, {region("ids", x.ids), region("W", x.table)});
  rnnkit::gather_columns(x.n, x.width, x.ids.data, x.table.data, x.limit, x.dense.data);
}

// scatterAddColumns(n, R, ids, dOut, dW)
void ScatterAddColumns(const Napi::CallbackInfo& info) {
  Args args(info, "scatterAddColumns");
  const Indexed x = indexed(args, true, "dOut", 3, "dW", 4);
  args.no_alias({region("dW", x.table)}, {region("ids", x.ids), region("dOut", x.dense)});
  rnnkit::scatter_add_columns(x.n, x.width, x.ids.data, x.dense.data, x.limit, x.table.data);
}

// cellForward(kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache, xIds?, lengths?): with xIds [T·B], xProj
// is a table of rows of G·H floats and every id must name one of its rows; lengths [B] each in [0, T].
void CellForward(const Napi::CallbackInfo& info) {
  Args args(info, "cellForward");
  const CellKind kind = args.cell_kind(0);
  const int64_t T = args.size(1, "T", 1), B = args.size(2, "B", 1), H = args.size(3, "H", 1);
  const double t = double(T), b = double(B), h = double(H);
  const double GH = double(rnnkit::gates_of(kind)) * h;
  const bool hasC = kind == CellKind::Lstm;
  const bool byIds = !args.is_absent(11);
  const Ints xIds = byIds ? args.ints(11, "xIds", t * b) : Ints{};
  const Floats xProj = byIds ? args.floats(4, "xProj") : args.floats(4, "xProj", t * b * GH);
  int64_t xRows = T * B;
  if (byIds) {
    xRows = args.table_rows(xProj, rnnkit::gates_of(kind) * H, "table xProj", "rows");
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
  const CellKind kind = args.cell_kind(0);
  const int64_t T = args.size(1, "T", 1), B = args.size(2, "B", 1), H = args.size(3, "H", 1);
  const double t = double(T), b = double(B), h = double(H);
  const double GH = double(rnnkit::gates_of(kind)) * h;
  const bool hasC = kind == CellKind::Lstm;
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
    const std::string of = " of sequence " + std::to_string(b) + " is outside [";
    if (L < 1 || L > T) args.range_error("input length " + std::to_string(L) + of + "1, " + std::to_string(T) + "]");
    if (U < 0 || U > S) args.range_error("target length " + std::to_string(U) + of + "0, " + std::to_string(S) + "]");
    for (int64_t s = 0; s < U; s++) {
      const int64_t label = targets.data[b * S + s];
      if (label < 1 || label >= C) {
        args.range_error("label " + std::to_string(label) + " at position " + std::to_string(s) + of + "1, " +
                         std::to_string(C) + ") (0 is the blank)");
      }
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
  const Napi::Value p = info[1], seed = info[2];
  if (!p.IsNumber() || !(p.As<Napi::Number>().DoubleValue() >= 0 && p.As<Napi::Number>().DoubleValue() < 1)) {
    args.range_error("expected a probability in [0, 1) for p but received " + p.ToString().Utf8Value());
  }
  const double s = seed.IsNumber() ? seed.As<Napi::Number>().DoubleValue() : -1;
  if (!(s >= 0 && s <= 4294967295.0 && std::trunc(s) == s)) {
    args.range_error("expected an integer from 0 to 4294967295 for seed but received " + seed.ToString().Utf8Value());
  }
  const Floats x = args.floats(0, "x");
  const Floats mask = args.floats(3, "mask", double(x.length)), out = args.floats(4, "out", double(x.length));
  args.no_alias({region("mask", mask), region("out", out)}, {region("x", x)});
  const double prob = p.As<Napi::Number>().DoubleValue();
  // dropoutThreshold(p) = floor(p·2³²) < 2³² because p < 1.
  const auto threshold = static_cast<uint32_t>(std::floor(prob * 4294967296.0));
  rnnkit::dropout(static_cast<int64_t>(x.length), x.data, threshold, static_cast<float>(1.0 / (1.0 - prob)),
                  static_cast<uint32_t>(s), mask.data, out.data);
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

// checkUpdate: every tensor as long as the first one.
void check_same_length(const Args& args, const char* firstName, Floats first, const char* name, Floats other) {
  if (other.length != first.length) {
    args.range_error(std::string(name) + " has " + std::to_string(other.length) + " elements, expected " +
                     std::to_string(first.length) + " like " + firstName);
  }
}

// adagradUpdate(param, grad, sum, lr, eps, weightDecay)
void AdagradUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "adagradUpdate");
  const Floats param = args.floats(0, "param"), grad = args.floats(1, "grad"), sum = args.floats(2, "sum");
  check_same_length(args, "param", param, "grad", grad);
  check_same_length(args, "param", param, "sum", sum);
  const double lr = args.number(3, "lr"), eps = args.number(4, "eps"), weightDecay = args.number(5, "weightDecay");
  args.no_alias({region("param", param), region("grad", grad), region("sum", sum)}, {});
  rnnkit::adagrad_update(static_cast<int64_t>(param.length), param.data, grad.data, sum.data, float(lr), float(eps),
                         float(weightDecay));
}

// sgdUpdate(param, grad, lr, weightDecay)
void SgdUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "sgdUpdate");
  const Floats param = args.floats(0, "param"), grad = args.floats(1, "grad");
  check_same_length(args, "param", param, "grad", grad);
  const double lr = args.number(2, "lr"), weightDecay = args.number(3, "weightDecay");
  args.no_alias({region("param", param), region("grad", grad)}, {});
  rnnkit::sgd_update(static_cast<int64_t>(param.length), param.data, grad.data, float(lr), float(weightDecay));
}

// momentumUpdate(param, grad, buf, lr, momentum, dampening, nesterov, weightDecay, first)
void MomentumUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "momentumUpdate");
  const Floats param = args.floats(0, "param"), grad = args.floats(1, "grad"), buf = args.floats(2, "buf");
  check_same_length(args, "param", param, "grad", grad);
  check_same_length(args, "param", param, "buf", buf);
  const double lr = args.number(3, "lr"), momentum = args.number(4, "momentum"),
               dampening = args.number(5, "dampening");
  const double weightDecay = args.number(7, "weightDecay");
  args.no_alias({region("param", param), region("grad", grad), region("buf", buf)}, {});
  const bool nesterov = args.flag(6, "nesterov");
  const bool first = args.flag(8, "first");
  rnnkit::momentum_update(static_cast<int64_t>(param.length), param.data, grad.data, buf.data, lr, momentum, dampening,
                          nesterov, weightDecay, first);
}

// rmspropUpdate(param, grad, sq, lr, alpha, eps, weightDecay)
void RmspropUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "rmspropUpdate");
  const Floats param = args.floats(0, "param"), grad = args.floats(1, "grad"), sq = args.floats(2, "sq");
  check_same_length(args, "param", param, "grad", grad);
  check_same_length(args, "param", param, "sq", sq);
  const double lr = args.number(3, "lr"), alpha = args.number(4, "alpha"), eps = args.number(5, "eps");
  const double weightDecay = args.number(6, "weightDecay");
  args.no_alias({region("param", param), region("grad", grad), region("sq", sq)}, {});
  rnnkit::rmsprop_update(static_cast<int64_t>(param.length), param.data, grad.data, sq.data, lr, alpha, eps,
                         weightDecay);
}

// adamUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step)
void AdamUpdate(const Napi::CallbackInfo& info) {
  Args args(info, "adamUpdate");
  const Floats param = args.floats(0, "param"), grad = args.floats(1, "grad");
  const Floats m = args.floats(2, "m"), v = args.floats(3, "v");
  check_same_length(args, "param", param, "grad", grad);
  check_same_length(args, "param", param, "m", m);
  check_same_length(args, "param", param, "v", v);
  const double lr = args.number(4, "lr"), beta1 = args.number(5, "beta1"), beta2 = args.number(6, "beta2");
  const double eps = args.number(7, "eps"), weightDecay = args.number(8, "weightDecay");
  args.no_alias({region("param", param), region("grad", grad), region("m", m), region("v", v)}, {});
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
