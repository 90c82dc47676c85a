// bf16 mixed precision: the matrix products round their operands to bfloat16 and accumulate in fp32
// with the semantics of the AVX-512 BF16 instruction VDPBF16PS. Everything else (master weights,
// optimizer, nonlinearities, loss) stays fp32: the rounding happens while the GEMM packs its operands.
//
// What one bf16 GEMM computes (the contract every implementation here matches bit for bit):
//   K is cut into pairs (k = 2p, 2p+1), padded with a zero when odd. For each C[i, j]:
//     acc = beta == 0 ? 0 : beta·C[i, j]                        (one fp32 multiply; exact for beta 1)
//     for p in order:  acc = step(acc, a0, a1, b0, b1)
//       with a0, a1 = bf16(alpha·op(A)[i, 2p]), bf16(alpha·op(A)[i, 2p+1])  (alpha·x exact for alpha 1)
//            b0, b1 = bf16(op(B)[2p, j]), bf16(op(B)[2p+1, j])
//     C[i, j] = acc
//   bf16(x): round to nearest even; NaN → quiet NaN; a subnormal x → ±0 (as VCVTNE2PS2BF16 does).
//   step (Intel's pseudo-code for VDPBF16PS, checked on Zen 5: the other order differs in 2.5M of 32M
//   random cases, this one in none): the odd products first, each added with one rounding (an FMA:
//   the product of two bf16 is exact in fp32), nearest even, subnormal inputs read as zero and
//   subnormal results flushed to zero (MXCSR is not consulted):
//     acc = ftz(fma(a1, b1, daz(acc)));  acc = ftz(fma(a0, b0, acc))
// The accumulator starts from beta·C (not alpha·acc + beta·C as in fp32) so that a K block can store
// its fp32 accumulator in C and the next block continue from it: blocking never changes the bits.
#ifndef RNNKIT_BF16_H
#define RNNKIT_BF16_H

#include <cstdint>
#include <vector>

namespace rnnkit {

class FloatScratch;

// Round to bf16 (the high half of the fp32 bit pattern) as described above.
uint16_t bf16_round(float x);
// The fp32 value of a bf16 (subnormals read as ±0, like the instruction's inputs).
float bf16_value(uint16_t h);
// One VDPBF16PS lane: acc with the pair (a0·b0, a1·b1) added, a pair word = low half even k, high odd.
float bf16_dot_step(float acc, uint32_t aPair, uint32_t bPair);
// The pair word of two floats (bf16(even) | bf16(odd) << 16).
inline uint32_t bf16_pair(float even, float odd) {
  return uint32_t(bf16_round(even)) | uint32_t(bf16_round(odd)) << 16;
}

// The contract above in plain loops, single-threaded: the oracle of the SIMD kernels.
void bf16_gemm_emulated(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                        int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The kernels of one bf16 SIMD level (AVX-512 BF16). Packed operands are pair words (uint32_t).
struct Bf16Ops {
  const char* name;
  int mr;  // most rows of a micro-tile
  int nr;  // columns of a packed B panel
  int kp;  // K block in pairs
  // One row tile of op(A) scaled by alpha: the words pair(alpha·op(A)[r, 2p], alpha·op(A)[r, 2p+1]) for
  // r < m <= mr, p < kp = ceil(kc/2) (a missing odd k is zero), m·kp words in the layout that suits the
  // source: [kp][m] when transA, row-major [m][kp] otherwise (contiguous in k either way in A).
  // op(A)[r,k] = A[r·lda + k], or A[k·lda + r] when transA.
  void (*pack_a)(bool transA, const float* A, int64_t lda, int64_t m, int64_t kc, float alpha, uint32_t* dst);
  // ceil(n/nr) panels of op(B)[0:kc, 0:n], each [ceil(kc/2)][nr] pair words, zero past n and past kc.
  // Panel q starts at dst + q·ceil(kc/2)·nr. op(B)[k,j] = B[k·ldb + j], or B[j·ldb + k] when transB.
  void (*pack_b)(bool transB, const float* B, int64_t ldb, int64_t kc, int64_t n, uint32_t* dst);
  // C[m, n] = chain over kp pairs from acc = (beta == 0 ? 0 : beta·C) for one micro-tile (m <= mr,
  // n <= nr): a is a row tile from pack_a (transA: its layout), b a packed panel block [kp][nr]. beta == 0
  // never reads C.
  void (*kernel)(int m, int n, int64_t kp, const uint32_t* a, bool transA, const uint32_t* b, float* C, int64_t ldc,
                 float beta);
  // ---- products of a few rows with a weight snapshot (sampling; see Bf16Weights below) ----
  int few_rows;    // most rows of A per kernel_few call
  int few_panels;  // most 16-column panels per kernel_few call
  // One panel of a weight snapshot: rows [0, n) (n <= 16) of W [n, K] (row stride ld) as [ceil(K/2)][16]
  // pair words, word p·16 + c = pair(W[c, 2p], W[c, 2p+1]); zero past n and past K.
  void (*pack_w)(const float* W, int64_t ld, int64_t K, int64_t n, uint32_t* dst);
  // C[m, cols] = chain over kp pairs from acc = (beta == 0 ? 0 : beta·C), m <= few_rows, cols <= 16·np,
  // np <= few_panels: a holds m rows of pair words [m][kp] (as pack_a with transA false), w np panels of
  // pack_w's layout, panelStride words apart; column c of C is column c % 16 of panel c / 16.
  void (*kernel_few)(int m, int np, int cols, int64_t kp, const uint32_t* a, const uint32_t* w, int64_t panelStride,
                     float* C, int64_t ldc, float beta);
  // FLOP/s of a register-blocked VDPBF16PS loop on the calling thread for about `seconds` (one
  // instruction = 16 lanes × 2 products × 2 FLOP).
  double (*peak_flops)(double seconds);
};

// The bf16 kernels, or nullptr when this CPU (or build) lacks AVX-512 BF16.
const Bf16Ops* bf16_ops();
// Why bf16 is unavailable ("" when it is available).
const char* bf16_unavailable_reason();

// In bf16 precision, sgemm (kernels.h) uses sgemm_bf16 for products with at least this many rows; fewer
// (sampling's single row) stay fp32, as do the cells' forward steps when W_hh is not packed (one stream
// or fewer than 4 steps): converting the weights per call would cost more than the product.
constexpr int64_t kMinBf16Rows = 8;

// The bf16 GEMM (contract above) with the packed kernels, split over the configured threads like sgemm
// (results do not depend on the thread count). ops must not be null.
void sgemm_bf16(const Bf16Ops& ops, bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha,
                const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// ---- the recurrent loops' products (cells.cc) ------------------------------------------------------

// A part's slice of W_hh packed as bf16 pair panels ONCE per call: `groups` column groups of n columns
// (group q from B + q·groupStride), each ceil(n/nr) panels of [ceil(K/2)][nr].
struct Bf16Slice {
  const Bf16Ops* ops = nullptr;  // null: not packed (no bf16, or no memory)
  uint32_t* data = nullptr;
  uint32_t* rows = nullptr;  // packing space for the m rows of A of one step
  int64_t K = 0, n = 0, panels = 0;
};
// Packs the slice into `weights` scratch and reserves row-tile space for up to m rows in `rows`.
// Leaves slice.ops null if memory runs out.
void bf16_pack_slice(const Bf16Ops* ops, bool transB, const float* B, int64_t ldb, int64_t groupStride, int64_t groups,
                     int64_t K, int64_t n, int64_t m, FloatScratch& weights, FloatScratch& rows, Bf16Slice& slice);
// C[m, group columns] = bf16 product of A [m, K] (row stride lda) and the slice, acc from beta·C, for
// every column group (group q's output at C + q·groupStride, row stride ldc). The same bits as
// bf16_gemm_emulated(A, slice's op(B)) with that beta.
void bf16_slice_gemm(const Bf16Slice& slice, const float* A, int64_t lda, int64_t m, float* C, int64_t ldc,
                     int64_t groupStride, int64_t groups, float beta);

// ---- weight snapshots (sampling) ---------------------------------------------------------------------

// A weight matrix W [groups·rows, K] (row-major, row stride K) rounded to bf16 ONCE, for the products of a
// few rows with Wᵀ that sampling runs every character (C[m, groups·rows] = A[m, K]·Wᵀ): each group's rows
// as ceil(rows/16) panels of pack_w's layout, so a range of rows [u0, u1) of a group with u0 a multiple
// of 16 (a cell part's hidden units) is a run of whole panels. Half the bytes of W per product, and no
// conversion per call. `source` identifies the fp32 matrix; the snapshot does not follow its later changes.
struct Bf16Weights {
  const float* source = nullptr;
  int64_t groups = 0, rows = 0, K = 0;
  int64_t panels = 0;              // per group: ceil(rows/16)
  const uint32_t* data = nullptr;  // groups·panels panels of ceil(K/2)·16 words
};

// The weight matrices of one model, rounded together (a sampling run's `inferenceWeights`).
class Bf16Snapshot {
 public:
  struct Matrix {
    const float* W;
    int64_t groups, rows, K;
  };
  // Packs every matrix (ops must not be null). Throws std::bad_alloc when memory runs out.
  Bf16Snapshot(const Bf16Ops& ops, const std::vector<Matrix>& matrices);
  // The snapshot of exactly this operand of a product with Wᵀ (W [N, K], row stride ldb), or nullptr.
  const Bf16Weights* find(const float* W, int64_t N, int64_t K, int64_t ldb) const;

 private:
  std::vector<uint32_t> words_;
  std::vector<Bf16Weights> weights_;
};

// The calling thread's snapshot in use (nullptr: none); the kernels look it up on the calling thread
// before they split the work, and use it for products of fewer than kMinBf16Rows rows.
void bf16_use_snapshot(const Bf16Snapshot* snapshot);
const Bf16Snapshot* bf16_snapshot_in_use();
inline const Bf16Weights* bf16_weights_for(const float* W, int64_t N, int64_t K, int64_t ldb) {
  const Bf16Snapshot* s = bf16_snapshot_in_use();
  return s ? s->find(W, N, K, ldb) : nullptr;
}

// C[m, u1 − u0] = bf16 product of the packed rows aPairs [m][ceil(K/2)] (pack_a with transA false) and
// rows [u0, u1) of group g of w, transposed (u0 a multiple of 16); acc from beta·C. Calling thread only.
void bf16_weights_product(const Bf16Ops& ops, const Bf16Weights& w, int64_t g, int64_t u0, int64_t u1,
                          const uint32_t* aPairs, int64_t m, float* C, int64_t ldc, float beta);
// sgemm's few-row path with a snapshot: C[M, N] = alpha·A[M, K]·Wᵀ + beta·C (the bf16 contract, the same
// bits as bf16_gemm_emulated(false, true, ...)), split over the configured threads by column panels.
void sgemm_bf16_weights(const Bf16Ops& ops, const Bf16Weights& w, int64_t M, float alpha, const float* A, int64_t lda,
                        float beta, float* C, int64_t ldc);

}  // namespace rnnkit

#endif  // RNNKIT_BF16_H
