// A stand-alone driver for race checking the engine (not part of the addon): 2- and 3-thread GEMMs of
// every transpose and path, every cell forward/backward (split by units and by streams), the split
// row sums, one-hot gather/scatter, optimizer update and norm, the attention decoder loop (forward and
// backward, its attention split by rows), topK and log_softmax, at every SIMD level this CPU has — and,
// where the CPU has AVX-512 BF16, the GEMMs and cells again in bf16 precision, with and without a bf16
// weight snapshot in use (sampling's few-row products), and the 1-row fp32 GEMM over a packed snapshot — each
// compared with a 1-thread run (the results must be bit-identical) — built with ThreadSanitizer, so
// every access of the pool, the barrier and the kernels is instrumented (Node itself is not):
//
//   g++ -std=c++17 -O1 -g -fsanitize=thread -pthread native/race_check.cc native/engine.cc \
//       native/threadpool.cc native/gemm.cc native/cells.cc native/ops.cc native/optim.cc native/simd_avx2.cc \
//       native/simd_avx512.cc native/gemm_bf16.cc native/bf16.cc native/simd_avx512_bf16.cc \
//       native/decoder.cc native/search.cc \
//       -o /tmp/rnnkit-race-check && /tmp/rnnkit-race-check
//
// Exit status 0 and "race check: N runs, all identical" when clean; TSan prints any race it sees and
// exits with status 66.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bf16.h"
#include "check_random.h"
#include "engine.h"
#include "kernels.h"

using namespace rnnkit;
using namespace rnnkit_check;

namespace {

int runs = 0, mismatches = 0;

void expect_same(const char* what, const std::vector<float>& a, const std::vector<float>& b) {
  runs++;
  if (a.size() != b.size() || std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) != 0) {
    mismatches++;
    std::printf("MISMATCH: %s\n", what);
  }
}

// How the products run: fp32, bf16, bf16 with a snapshot of the weights (B, W_hh) in use, or fp32 with a
// packed snapshot of B (sampling's 1-row products).
enum class Mode { Fp32, Bf16, Bf16Snapshot, Fp32Snapshot };
const char* const kModeNames[] = {"", " bf16", " bf16 snapshot", " fp32 snapshot"};

void configure(SimdLevel level, int threads, Mode mode) {
  configure_engine(level, threads);
  configure_precision(mode == Mode::Fp32 || mode == Mode::Fp32Snapshot ? Precision::Fp32 : Precision::Bf16);
}

std::vector<float> run_gemm(SimdLevel level, int threads, bool tA, bool tB, int64_t M, int64_t N, int64_t K,
                            Mode mode = Mode::Fp32) {
  configure(level, threads, mode);
  state = static_cast<uint32_t>(M * 31 + N * 7 + K);
  const std::vector<float> A = random_vector(size_t(M * K)), B = random_vector(size_t(K * N));
  std::vector<float> C = random_vector(size_t(M * N));
  if (mode == Mode::Bf16Snapshot) {  // B as W [N, K] (the product A·Wᵀ)
    const Bf16Snapshot snapshot(*bf16_ops(), {{B.data(), 1, N, K}});
    bf16_use_snapshot(&snapshot);
    gemm(false, true, M, N, K, 0.5f, A.data(), B.data(), 1.0f, C.data());
    bf16_use_snapshot(nullptr);
  } else if (mode == Mode::Fp32Snapshot) {  // B as W [N, K], packed for the level
    const Fp32Snapshot snapshot(*simd_ops(level), {{B.data(), N, K}});
    fp32_use_snapshot(&snapshot);
    gemm(false, true, M, N, K, 0.5f, A.data(), B.data(), 1.0f, C.data());
    fp32_use_snapshot(nullptr);
  } else {
    gemm(tA, tB, M, N, K, 0.5f, A.data(), B.data(), 1.0f, C.data());
  }
  return C;
}

// One cell forward + backward; `masked`: with mixed_lengths (packed sequences).
std::vector<float> run_cell(SimdLevel level, int threads, CellKind kind, int64_t T, int64_t B, int64_t H, bool masked,
                            Mode mode = Mode::Fp32) {
  configure(level, threads, mode);
  const std::vector<int32_t> lengths = mixed_lengths(T, B);
  const int32_t* lens = masked ? lengths.data() : nullptr;
  state = static_cast<uint32_t>(T * 7 + B * 13 + H);
  const int64_t GH = gates_of(kind) * H, CW = cache_width(kind) * H;
  const bool lstm = kind == CellKind::Lstm;
  const std::vector<float> x = random_vector(size_t(T * B * GH)),
                           w = random_vector(size_t(GH * H), 1.5f / std::sqrt(float(H)));
  const std::vector<float> bi = random_vector(size_t(GH), 0.2f), bh = random_vector(size_t(GH), 0.2f);
  std::vector<float> hs(size_t((T + 1) * B * H)), cs(lstm ? hs.size() : 0), cache(size_t(T * B * CW));
  for (int64_t i = 0; i < B * H; i++) hs[size_t(i)] = next_value();
  for (int64_t i = 0; lstm && i < B * H; i++) cs[size_t(i)] = next_value();
  if (mode == Mode::Bf16Snapshot) {
    const Bf16Snapshot snapshot(*bf16_ops(), {{w.data(), gates_of(kind), H, H}});
    bf16_use_snapshot(&snapshot);
    cell_forward(kind, T, B, H, x.data(), nullptr, T * B, w.data(), bi.data(), bh.data(), hs.data(), cs.data(),
                 cache.data(), lens);
    bf16_use_snapshot(nullptr);
  } else {
    cell_forward(kind, T, B, H, x.data(), nullptr, T * B, w.data(), bi.data(), bh.data(), hs.data(), cs.data(),
                 cache.data(), lens);
  }
  const std::vector<float> dhs = random_vector(size_t(T * B * H)), dhN = random_vector(size_t(B * H));
  const std::vector<float> dcN = lstm ? random_vector(size_t(B * H)) : std::vector<float>();
  std::vector<float> dGx(size_t(T * B * GH)), dGh(dGx.size()), dh0(size_t(B * H)), dc0(lstm ? dh0.size() : 0);
  std::vector<float> dbIh(static_cast<size_t>(GH)), dbHh(static_cast<size_t>(GH));
  cell_backward(kind, T, B, H, w.data(), hs.data(), cs.data(), cache.data(), dhs.data(), dhN.data(), dcN.data(),
                dGx.data(), dGh.data(), dh0.data(), dc0.data(), dbIh.data(), dbHh.data(), lens);
  std::vector<float> all;
  for (const auto* v : {&hs, &cs, &cache, &dGx, &dGh, &dh0, &dc0, &dbIh, &dbHh}) {
    all.insert(all.end(), v->begin(), v->end());
  }
  return all;
}

// The decoder loop forward + backward (L layers, uneven source lengths) and the beam-search kernels, on
// `threads`: B·S·(H+M) large enough for the attention to split its rows over 3 parts.
std::vector<float> run_decoder(SimdLevel level, int threads, CellKind kind) {
  configure(level, threads, Mode::Fp32);
  const int64_t L = 2, T = 3, B = 40, S = 12, E = 9, H = 130, M = 300;
  state = static_cast<uint32_t>(17 + int(kind));
  const int64_t GH = gates_of(kind) * H, CW = cache_width(kind) * H, BH = B * H;
  const bool lstm = kind == CellKind::Lstm;
  std::vector<std::vector<float>> weights, states;
  std::vector<DecoderLayerPtrs> layers;
  for (int64_t l = 0; l < L; l++) {
    const float w = 1.0f / std::sqrt(float(H));
    weights.push_back(random_vector(size_t(GH * (l == 0 ? E + H : H)), w));
    weights.push_back(random_vector(size_t(GH * H), w));
    weights.push_back(random_vector(size_t(GH), 0.2f));
    weights.push_back(random_vector(size_t(GH), 0.2f));
    states.push_back(random_vector(size_t((T + 1) * BH), 0.5f));  // slot 0: h0; the rest is overwritten
    states.push_back(lstm ? random_vector(size_t((T + 1) * BH), 0.5f) : std::vector<float>());
    states.push_back(std::vector<float>(size_t(T * B * CW)));
  }
  for (int64_t l = 0; l < L; l++) {
    const size_t w = size_t(4 * l), st = size_t(3 * l);
    layers.push_back({weights[w].data(), weights[w + 1].data(), weights[w + 2].data(), weights[w + 3].data(),
                      states[st].data(), states[st + 1].data(), states[st + 2].data()});
  }
  std::vector<int32_t> lengths(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; b++) lengths[size_t(b)] = static_cast<int32_t>(1 + (b * 7) % S);
  const std::vector<float> embedded = random_vector(size_t(T * B * E)), keys = random_vector(size_t(S * BH)),
                           memory = random_vector(size_t(S * B * M)),
                           wCombine = random_vector(size_t(H * (M + H)), 0.05f);
  std::vector<float> input0(size_t(T * B * (E + H))), attention(size_t(T * B * S)), combined(size_t(T * B * (M + H)));
  std::vector<float> feeds = random_vector(size_t((T + 1) * BH), 0.5f);
  decoder_forward(kind, T, B, S, E, H, M, L, layers.data(), embedded.data(), keys.data(), memory.data(), lengths.data(),
                  wCombine.data(), input0.data(), attention.data(), combined.data(), feeds.data());
  const std::vector<float> dFeeds = random_vector(size_t(T * BH));
  std::vector<std::vector<float>> g;
  std::vector<DecoderLayerGradPtrs> grads;
  for (int64_t l = 0; l < L; l++) {
    g.push_back(random_vector(size_t(BH)));
    g.push_back(lstm ? random_vector(size_t(BH)) : std::vector<float>());
    for (int64_t n : {T * B * GH, T * B * GH, BH, lstm ? BH : 0, GH, GH}) g.push_back(std::vector<float>(size_t(n)));
  }
  for (int64_t l = 0; l < L; l++) {
    std::vector<float>* v = &g[size_t(8 * l)];
    grads.push_back(
        {v[0].data(), v[1].data(), v[2].data(), v[3].data(), v[4].data(), v[5].data(), v[6].data(), v[7].data()});
  }
  std::vector<float> dEmbedded(size_t(T * B * E)), dKeys(keys.size()), dMemory(memory.size()), dCombine(size_t(T * BH)),
      dFeed0(static_cast<size_t>(BH));
  decoder_backward(kind, T, B, S, E, H, M, L, layers.data(), keys.data(), memory.data(), lengths.data(),
                   wCombine.data(), attention.data(), combined.data(), feeds.data(), dFeeds.data(), grads.data(),
                   dEmbedded.data(), dKeys.data(), dMemory.data(), dCombine.data(), dFeed0.data());
  // the beam-search kernels over N·V large enough for 3 parts
  const int64_t N = 48, V = 5000, K = 5;
  std::vector<float> scores = random_vector(size_t(N * V)), logp(scores.size()), values(size_t(N * K));
  for (size_t i = 0; i < scores.size(); i += 3) scores[i] = std::round(scores[i] * 4.0f);  // ties
  std::vector<int32_t> indices(size_t(N * K));
  top_k(N, V, K, scores.data(), values.data(), indices.data());
  log_softmax(N, V, scores.data(), logp.data());
  std::vector<float> all;
  for (const auto& v : {states, g})
    for (const auto& x : v) all.insert(all.end(), x.begin(), x.end());
  for (const auto* v :
       {&input0, &attention, &combined, &feeds, &dEmbedded, &dKeys, &dMemory, &dCombine, &dFeed0, &values, &logp})
    all.insert(all.end(), v->begin(), v->end());
  for (int32_t i : indices) all.push_back(float(i));
  return all;
}

// sum_rows, gather_columns and scatter_add_columns of an [n, R] block (C columns of ids), adam_update
// and sum_squares, on `threads`.
std::vector<float> run_columns(int threads, int64_t n, int64_t R, int64_t C) {
  configure_engine(SimdLevel::Scalar, threads);
  std::vector<int32_t> ids(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; i++) ids[static_cast<size_t>(i)] = static_cast<int32_t>((i * 7 + i / 3) % C);
  const std::vector<float> W = random_vector(static_cast<size_t>(R * C)),
                           dOut = random_vector(static_cast<size_t>(n * R));
  std::vector<float> out(static_cast<size_t>(n * R)), dW(static_cast<size_t>(R * C)), sums(static_cast<size_t>(R));
  gather_columns(n, R, ids.data(), W.data(), C, out.data());
  scatter_add_columns(n, R, ids.data(), dOut.data(), C, dW.data());
  sum_rows(n, R, dOut.data(), sums.data());
  // the optimizer update and the norm, over enough parameters to be split (sum_squares: >= 32 blocks)
  const size_t count = 600000;
  std::vector<float> param = random_vector(count), m(count), v(count);
  const std::vector<float> grad = random_vector(count);
  adam_update(int64_t(count), param.data(), grad.data(), m.data(), v.data(), 1e-3, 0.9, 0.999, 1e-8, 0.0, false, 1);
  out.push_back(static_cast<float>(sum_squares(int64_t(count), param.data())));
  out.insert(out.end(), dW.begin(), dW.end());
  out.insert(out.end(), sums.begin(), sums.end());
  out.insert(out.end(), param.begin(), param.end());
  return out;
}

}  // namespace

int main() {
  state = 777;
  const std::vector<float> columns = run_columns(1, 300, 517, 89);
  for (int threads : {2, 3}) {
    state = 777;
    expect_same(
        threads == 2 ? "sum_rows, gather/scatter columns, 2 threads" : "sum_rows, gather/scatter columns, 3 threads",
        columns, run_columns(threads, 300, 517, 89));
  }
  const int64_t gemmShapes[][3] = {{32, 700, 300}, {32, 300, 600}, {300, 200, 100},
                                   {260, 130, 90}, {7, 1000, 100}, {1, 3000, 200}};
  const int64_t bf16FewShapes[][3] = {{1, 3000, 200}, {3, 700, 129}, {7, 130, 300}};  // M < 8: the snapshot
  const int64_t cellShapes[][3] = {{3, 7, 130}, {2, 13, 72}, {2, 3, 257}, {5, 7, 130},
                                   {4, 1, 300}, {3, 33, 64}, {5, 33, 64}};
  for (int l = 0; l < kSimdLevelCount; l++) {
    const auto level = static_cast<SimdLevel>(l);
    if (!simd_supported(level)) continue;
    for (const auto& s : gemmShapes) {
      for (int t = 0; t < 4; t++) {
        const bool tA = t & 1, tB = t & 2;
        const std::vector<float> one = run_gemm(level, 1, tA, tB, s[0], s[1], s[2]);
        for (int threads : {2, 3}) {
          char what[128];
          std::snprintf(what, sizeof what, "%s gemm %c%c %lld %lld %lld, %d threads", simd_name(level), tA ? 'T' : 'N',
                        tB ? 'T' : 'N', (long long)s[0], (long long)s[1], (long long)s[2], threads);
          expect_same(what, one, run_gemm(level, threads, tA, tB, s[0], s[1], s[2]));
        }
      }
    }
    for (const int64_t n : {3000, 145}) {  // sampling's 1-row products over a packed snapshot
      if (level == SimdLevel::Scalar) break;
      const std::vector<float> one = run_gemm(level, 1, false, true, 1, n, 513, Mode::Fp32Snapshot);
      for (int threads : {2, 3}) {
        char what[128];
        std::snprintf(what, sizeof what, "%s gemm fp32 snapshot 1 %lld 513, %d threads", simd_name(level), (long long)n,
                      threads);
        expect_same(what, one, run_gemm(level, threads, false, true, 1, n, 513, Mode::Fp32Snapshot));
      }
    }
    for (int k = 0; k < kCellKindCount; k++) {
      for (const auto& s : cellShapes) {
        for (bool masked : {false, true}) {
          const std::vector<float> one = run_cell(level, 1, static_cast<CellKind>(k), s[0], s[1], s[2], masked);
          for (int threads : {2, 3}) {
            char what[128];
            std::snprintf(what, sizeof what, "%s %s T=%lld B=%lld H=%lld%s, %d threads", simd_name(level),
                          kCellKindNames[k], (long long)s[0], (long long)s[1], (long long)s[2],
                          masked ? " with lengths" : "", threads);
            expect_same(what, one, run_cell(level, threads, static_cast<CellKind>(k), s[0], s[1], s[2], masked));
          }
        }
      }
    }
  }
  for (int l = 0; l < kSimdLevelCount; l++) {
    const auto level = static_cast<SimdLevel>(l);
    if (!simd_supported(level)) continue;
    for (int k = 0; k < kCellKindCount; k++) {
      const std::vector<float> one = run_decoder(level, 1, static_cast<CellKind>(k));
      for (int threads : {2, 3}) {
        char what[128];
        std::snprintf(what, sizeof what, "%s decoder %s, topK, log_softmax, %d threads", simd_name(level),
                      kCellKindNames[k], threads);
        expect_same(what, one, run_decoder(level, threads, static_cast<CellKind>(k)));
      }
    }
  }
  // bf16 (the best level's cells): the packed bf16 GEMM and cells, and the snapshot's few-row products.
  if (bf16_ops()) {
    const SimdLevel level = best_simd_level();
    for (const Mode mode : {Mode::Bf16, Mode::Bf16Snapshot}) {
      const int64_t(*shapes)[3] = mode == Mode::Bf16 ? gemmShapes : bf16FewShapes;
      const int count = mode == Mode::Bf16 ? 6 : 3;
      for (int i = 0; i < count; i++) {
        const auto& s = shapes[i];
        for (int t = 0; t < (mode == Mode::Bf16 ? 4 : 1); t++) {
          const bool tA = t & 1, tB = t & 2;
          const std::vector<float> one = run_gemm(level, 1, tA, tB, s[0], s[1], s[2], mode);
          for (int threads : {2, 3}) {
            char what[128];
            std::snprintf(what, sizeof what, "gemm%s %c%c %lld %lld %lld, %d threads", kModeNames[int(mode)],
                          tA ? 'T' : 'N', tB ? 'T' : 'N', (long long)s[0], (long long)s[1], (long long)s[2], threads);
            expect_same(what, one, run_gemm(level, threads, tA, tB, s[0], s[1], s[2], mode));
          }
        }
      }
      for (int k = 0; k < kCellKindCount; k++) {
        for (const auto& s : cellShapes) {
          const std::vector<float> one = run_cell(level, 1, static_cast<CellKind>(k), s[0], s[1], s[2], false, mode);
          for (int threads : {2, 3}) {
            char what[128];
            std::snprintf(what, sizeof what, "%s%s T=%lld B=%lld H=%lld, %d threads", kCellKindNames[k],
                          kModeNames[int(mode)], (long long)s[0], (long long)s[1], (long long)s[2], threads);
            expect_same(what, one, run_cell(level, threads, static_cast<CellKind>(k), s[0], s[1], s[2], false, mode));
          }
        }
      }
    }
  } else {
    std::printf("bf16 race checks skipped: %s\n", bf16_unavailable_reason());
  }
  std::printf("race check: %d runs, %s\n", runs, mismatches ? "MISMATCHES" : "all identical");
  return mismatches ? 1 : 0;
}
