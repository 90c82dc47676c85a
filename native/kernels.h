// The plain C++ kernels of the native engine. They know nothing of N-API: addon.cc checks every argument
// that could make them touch memory out of bounds (sizes, exact lengths, ids, aliasing) and then calls
// these with raw pointers. A kernel trusts its arguments and never throws; it allocates only to grow its
// scratch (FloatScratch, engine.h) the first time it meets larger shapes.
//
// Size letters used in shape comments (the same as src/backend/types.ts):
//   T = time steps in a chunk      B = parallel streams (batch)   H = hidden size
//   G = gates of a cell (rnn 1, gru 3, lstm 4)                    I = input size of a layer
//   V = vocabulary size            D = row width of a table       R = rows of a matrix
//   N, M, K = generic row/column counts
// Every matrix is row-major and contiguous unless a leading dimension (ld*) says otherwise.
// Sequences are time-major: [T][B][·].
#ifndef RNNKIT_KERNELS_H
#define RNNKIT_KERNELS_H

#include <cstdint>

namespace rnnkit {

// Must match CELL_KINDS in src/backend/types.ts
enum class CellKind : int { RnnTanh = 0, RnnRelu = 1, Lstm = 2, Gru = 3 };

constexpr int kCellKindCount = 4;
// The names of the cell kinds, indexed by CellKind (the same strings as CELL_KINDS).
extern const char* const kCellKindNames[kCellKindCount];

// Gate blocks G in W_ih [G·H, I] and W_hh [G·H, H] (PyTorch's layout: lstm i,f,g,o; gru r,z,n).
constexpr int64_t gates_of(CellKind kind) { return kind == CellKind::Lstm ? 4 : kind == CellKind::Gru ? 3 : 1; }
// Floats per step and stream kept in `cache`, in units of H (lstm: i,f,g,o; gru: r,z,n,W_hn·h+b_hn).
constexpr int64_t cache_width(CellKind kind) { return kind == CellKind::Lstm || kind == CellKind::Gru ? 4 : 0; }

// ---- gemm.cc -------------------------------------------------------------------------------------

// C[M,N] = alpha·op(A)·op(B) + beta·C with leading dimensions (row strides) lda, ldb, ldc.
// op(A) is [M,K]: A is [M,K] (lda >= K), or [K,M] when transA (lda >= M).
// op(B) is [K,N]: B is [K,N] (ldb >= N), or [N,K] when transB (ldb >= K).
// beta == 0 overwrites C (old NaNs do not leak). C must not overlap A or B.
void sgemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
           const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The Backend's gemm: sgemm on contiguous matrices.
void gemm(bool transA, bool transB, int64_t M, int64_t N, int64_t K, float alpha, const float* A, const float* B,
          float beta, float* C);

// ---- ops.cc --------------------------------------------------------------------------------------

// C[M,N] += bias[N] broadcast over rows.
void add_bias(int64_t M, int64_t N, const float* bias, float* C);
// out[N] += Σ_i A[i,:] for A [M,N].
void sum_rows(int64_t M, int64_t N, const float* A, float* out);

// The indexed kernels receive the row (column) count of the table so that they can skip an id that
// changed after validation (a SharedArrayBuffer written by another thread) instead of running off
// the end of the table.
// out[n,D][i,:] = table[R,D][ids[i],:]   (ids[n])
void gather_rows(int64_t n, int64_t D, const int32_t* ids, const float* table, int64_t R, float* out);
// dTable[R,D][ids[i],:] += dOut[n,D][i,:]
void scatter_add_rows(int64_t n, int64_t D, const int32_t* ids, const float* dOut, int64_t R, float* dTable);
// out[n,R][i,r] = W[R,C][r, ids[i]]
void gather_columns(int64_t n, int64_t R, const int32_t* ids, const float* W, int64_t C, float* out);
// dW[R,C][r, ids[i]] += dOut[n,R][i,r]
void scatter_add_columns(int64_t n, int64_t R, const int32_t* ids, const float* dOut, int64_t C, float* dW);

// Σ_i −log softmax(logits[i])[targets[i]] over N rows of V logits; rows whose target is −1 (or any
// value outside [0, V)) are skipped. When dLogits [N,V] is not null it is overwritten with
// scale·(softmax − onehot(target)), zero rows for skipped targets. smoothing ε in [0, 1] (validated by the
// caller): PyTorch's label smoothing, the target distribution (1 − ε)·onehot + ε/V (Backend.softmaxCrossEntropy).
double softmax_cross_entropy(int64_t N, int64_t V, const float* logits, const int32_t* targets, float scale,
                             float* dLogits, float smoothing = 0.0f);

// x[n] = clamp(x, −limit, limit); NaN stays NaN.
void clip_value(int64_t n, float* x, float limit);
// Σ x[n]² accumulated in double.
double sum_squares(int64_t n, const float* x);
// x[n] *= s
void scale(int64_t n, float* x, float s);
// Inverted dropout with a counter-based mask (the same bits as src/backend/types.ts dropoutBits):
// mask[i] = bits(seed, i) >= threshold ? keep : 0, out[i] = x[i]·mask[i]. All [n].
void dropout(int64_t n, const float* x, uint32_t threshold, float keep, uint32_t seed, float* mask, float* out);
// out[n] = a ⊙ b
void multiply(int64_t n, const float* a, const float* b, float* out);
// PyTorch's Adagrad (lr_decay 0): g' = g + wd·p; sum += g'²; p −= lr·g' / (sqrt(sum) + eps). All [n].
void adagrad_update(int64_t n, float* param, const float* grad, float* sum, float lr, float eps, float weightDecay);
// PyTorch's plain SGD: p −= lr·(g + wd·p). All [n].
void sgd_update(int64_t n, float* param, const float* grad, float lr, float weightDecay);

// ---- optim.cc ------------------------------------------------------------------------------------

// The stateful optimizer updates (PyTorch's equations, see src/backend/types.ts). All arrays [n]. The
// scalars are the caller's doubles: derived constants (1 − dampening, 1 − α, Adam's bias corrections,
// AdamW's 1 − lr·wd) are computed in double once per call, the elementwise loop runs in float.
// SGD with momentum μ: g' = g + wd·p; buf = first ? g' : μ·buf + (1 − dampening)·g';
// p −= lr·(nesterov ? g' + μ·buf : buf).
void momentum_update(int64_t n, float* param, const float* grad, float* buf, double lr, double momentum,
                     double dampening, bool nesterov, double weightDecay, bool first);
// RMSprop (not centred, no momentum): g' = g + wd·p; sq = α·sq + (1 − α)·g'²; p −= lr·g' / (sqrt(sq) + eps).
void rmsprop_update(int64_t n, float* param, const float* grad, float* sq, double lr, double alpha, double eps,
                    double weightDecay);
// Adam (decoupled false: g' = g + wd·p) and AdamW (decoupled true: p *= 1 − lr·wd, g' = g):
// m = β1·m + (1 − β1)·g'; v = β2·v + (1 − β2)·g'²; p −= (lr/(1 − β1^t))·m / (sqrt(v)/sqrt(1 − β2^t) + eps),
// t = step >= 1.
void adam_update(int64_t n, float* param, const float* grad, float* m, float* v, double lr, double beta1, double beta2,
                 double eps, double weightDecay, bool decoupled, int64_t step);

// ---- cells.cc ------------------------------------------------------------------------------------

// The recurrent loop of one layer over T steps for B streams (PyTorch's equations and gate order).
//   xProj [T,B,G·H]  W_ih·x_t (no bias)        wHh [G·H,H]    bIh, bHh [G·H]
//   xIds [T,B] or null: xProj is then a table [xRows, G·H] and step t, stream b reads its row
//                    xIds[t·B+b] (one-hot input: the table is W_ihᵀ). Ids outside [0, xRows) — possible
//                    only if another thread wrote them after validation — read row 0.
//   hs [T+1,B,H]     slot 0 holds h0 (read); slots 1..T receive h_1..h_T
//   cs [T+1,B,H]     the same for the LSTM cell state (unused by other cells)
//   cache [T,B,cache_width·H]  what cell_backward needs
//   lengths [B] or null: packed sequences, each length in [0, T] (validated by the caller). Stream b runs
//                    steps 0 .. lengths[b]−1; at later steps its hs, cs and cache rows are written as
//                    zeros and its xProj/xIds rows are not read. Null: every stream runs all T steps.
// Scratch: W_hh·h (its bias is added by the gate functions) is computed in place in the cache row
// (lstm, gru) or the h_t row (rnn). Threads, SIMD level: see engine.h (results do not depend on threads).
void cell_forward(CellKind kind, int64_t T, int64_t B, int64_t H, const float* xProj, const int32_t* xIds,
                  int64_t xRows, const float* wHh, const float* bIh, const float* bHh, float* hs, float* cs,
                  float* cache, const int32_t* lengths);

// The reverse loop. Reads wHh, hs, cs, cache (as written by cell_forward) and
//   dhs [T,B,H]  gradient w.r.t. h_1..h_T from above    dhN, dcN [B,H]  gradient into the final state
// Overwrites dGx, dGh [T,B,G·H] (input-side and hidden-side pre-activation gradients), dh0 and
// dc0 [B,H] (dcN/dc0 are used by the LSTM only). dh0/dc0 carry dh_t/dc_t during the loop.
// dbIh, dbHh [G·H] (each may be null): += Σ over all rows of dGx, of dGh (the bias gradients), summed
// per stream over t (from T−1 down) and then over the streams in order, whatever the thread split.
// lengths [B] or null (as given to cell_forward): at steps t >= lengths[b] stream b's dGx and dGh rows are
// zeros, its dhs rows are not read and the carried dh_t (dc_t) passes through unchanged, so dhN, dcN
// enter at its final state h_{lengths[b]}.
// dhSteps [T,B,H] or null: receives dh_t = dhs_t + the carried gradient, the loss gradient w.r.t. each
// state (zero rows past a stream's end): the gradient-flow view.
void cell_backward(CellKind kind, int64_t T, int64_t B, int64_t H, const float* wHh, const float* hs, const float* cs,
                   const float* cache, const float* dhs, const float* dhN, const float* dcN, float* dGx, float* dGh,
                   float* dh0, float* dc0, float* dbIh, float* dbHh, const int32_t* lengths, float* dhSteps = nullptr);

// ---- pool.cc -------------------------------------------------------------------------------------

// Must match POOL_MODES in src/backend/types.ts
enum class PoolMode : int { Mean = 0, Max = 1 };
constexpr int kPoolModeCount = 2;
extern const char* const kPoolModeNames[kPoolModeCount];

// Pooling over each stream's valid steps: x [T,B,D], lengths [B] each in [1, T] (validated by the caller).
// Mean: out[b] = (1/L_b)·Σ_{t<L_b} x[t,b]. Max: out[b,d] = max_{t<L_b} x[t,b,d] and argmax[b,d] = that t,
// the first one on ties (argmax is unused for mean). out [B,D].
void pool_forward(PoolMode mode, int64_t T, int64_t B, int64_t D, const float* x, const int32_t* lengths, float* out,
                  int32_t* argmax);
// The gradient: dx [T,B,D] is overwritten, zero at steps that did not contribute. For max, argmax [B,D]
// holds steps in [0, T) (validated by the caller).
void pool_backward(PoolMode mode, int64_t T, int64_t B, int64_t D, const float* dOut, const int32_t* lengths,
                   const int32_t* argmax, float* dx);

// ---- ctc.cc --------------------------------------------------------------------------------------

// PyTorch's nn.CTCLoss(blank=0, reduction='mean', zero_infinity) of log_softmax(logits) (Backend.ctcLoss in
// src/backend/types.ts), validated by the caller: logits [T,B,C]; targets [B,S], sequence b's labels are
// targets[b, 0 .. U_b) in [1, C); inputLengths [B] in [1, T]; targetLengths [B] in [0, S].
// losses [B] ← each negative log-likelihood (+∞ without an alignment, 0 then with zeroInfinity).
// Returns Σ_b losses[b] / max(U_b, 1) / B. dLogits [T,B,C] or null ← the gradient of that mean (zero rows
// past a length and for infinite sequences). work [B, T·(2(2S+1)+1)] ← α, β and the row normalisers.
// Threads take fixed ranges of sequences; results do not depend on the thread count.
double ctc_loss(int64_t T, int64_t B, int64_t C, int64_t S, const float* logits, const int32_t* targets,
                const int32_t* inputLengths, const int32_t* targetLengths, bool zeroInfinity, float* work,
                float* losses, float* dLogits);

// ---- decoder.cc ----------------------------------------------------------------------------------

// One decoder layer's weights and states (Backend.decoderForward in src/backend/types.ts):
// wIh [G·H, E+H] for layer 0, [G·H, H] above; wHh [G·H,H]; bIh, bHh [G·H]; hs [T+1,B,H] (slot 0 read);
// cs [T+1,B,H] (lstm only, else unused); cache [T,B,cache_width·H].
struct DecoderLayerPtrs {
  const float *wIh, *wHh, *bIh, *bHh;
  float *hs, *cs, *cache;
};
// One layer's gradients: dhN, dcN [B,H] in (dcN lstm only); dGx, dGh [T,B,G·H], dh0, dc0 [B,H] overwritten;
// dbIh, dbHh [G·H] accumulated.
struct DecoderLayerGradPtrs {
  const float *dhN, *dcN;
  float *dGx, *dGh, *dh0, *dc0, *dbIh, *dbHh;
};

// The attention decoder loop over T steps and L layers (validated by the caller): embedded [T,B,E],
// keys [S,B,H], memory [S,B,M], sourceLengths [B] in [1,S], wCombine [H,M+H]; writes input0 [T,B,E+H],
// attention [T,B,S], combined [T,B,M+H], feeds [T+1,B,H] (slot 0 read) and the layers' states.
// Returns false (nothing reliable written) only when its scratch cannot be allocated.
bool decoder_forward(CellKind kind, int64_t T, int64_t B, int64_t S, int64_t E, int64_t H, int64_t M, int64_t L,
                     const DecoderLayerPtrs* layers, const float* embedded, const float* keys, const float* memory,
                     const int32_t* sourceLengths, const float* wCombine, float* input0, float* attention,
                     float* combined, float* feeds);
// The reverse loop: dFeeds [T,B,H] in; writes grads, dEmbedded [T,B,E], dKeys [S,B,H], dMemory [S,B,M],
// dCombine [T,B,H], dFeed0 [B,H]. False only when its scratch cannot be allocated.
bool decoder_backward(CellKind kind, int64_t T, int64_t B, int64_t S, int64_t E, int64_t H, int64_t M, int64_t L,
                      const DecoderLayerPtrs* layers, const float* keys, const float* memory,
                      const int32_t* sourceLengths, const float* wCombine, const float* attention,
                      const float* combined, const float* feeds, const float* dFeeds, const DecoderLayerGradPtrs* grads,
                      float* dEmbedded, float* dKeys, float* dMemory, float* dCombine, float* dFeed0);

// ---- search.cc -----------------------------------------------------------------------------------

// Per row of scores [N,V]: the K (1 <= K <= V) largest, descending, into values [N,K] and their columns
// into indices [N,K]; ties go to the lower column, NaN ranks above every number (torch.topk).
void top_k(int64_t N, int64_t V, int64_t K, const float* scores, float* values, int32_t* indices);
// out[N,V] = log_softmax(x) per row (the normaliser in double).
void log_softmax(int64_t N, int64_t V, const float* x, float* out);

}  // namespace rnnkit

#endif  // RNNKIT_KERNELS_H
