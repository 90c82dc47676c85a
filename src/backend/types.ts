// The Backend interface: the sequence-level kernels every engine implements with the same arguments,
// the same order and the same memory layout (native C++, AssemblyScript/WASM, plain TypeScript).
//
// Size letters used in shape comments:
//   T = time steps in a chunk      B = parallel streams (batch)   H = hidden size
//   G = gates of a cell (rnn 1, gru 3, lstm 4)                    I = input size of a layer
//   V = vocabulary size            E = embedding size             N, M, K = generic row/column counts
// Every matrix is row-major and contiguous. Sequences are time-major: [T][B][·].

export type FloatArray = Float32Array | Float64Array;
export type Dtype = 'f32' | 'f64';
export type BackendName = 'native' | 'wasm' | 'reference';

/** Must match the enum in native/kernels.h and assembly/cells.ts. */
export const CELL_KINDS = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'] as const;
export type CellKind = (typeof CELL_KINDS)[number];

/** Must match the enum in native/kernels.h and assembly/pool.ts. */
export const POOL_MODES = ['mean', 'max'] as const;
export type PoolMode = (typeof POOL_MODES)[number];

/** Number of gate blocks G in W_ih [G·H, I] and W_hh [G·H, H] (PyTorch's layout). */
export function gatesOf(kind: CellKind): number {
  switch (kind) {
    case 'rnn_tanh':
    case 'rnn_relu':
      return 1;
    case 'gru':
      return 3;
    case 'lstm':
      return 4;
  }
}

/**
 * Floats per time step and stream that cellForward keeps for cellBackward, in units of H:
 * rnn keeps nothing (h_t is in `hs`), lstm keeps the activated gates i,f,g,o, gru keeps r, z, n and
 * the reset-side product W_hn·h + b_hn (needed for the gradient of r).
 */
export function cacheWidth(kind: CellKind): number {
  return kind === 'lstm' || kind === 'gru' ? 4 : 0;
}

/** Floats of the ctcLoss workspace for B sequences of at most T steps and S target symbols: per sequence,
 *  α and β over T × (2S+1) extended-label states and the log-softmax normaliser of each of its T rows. */
export function ctcWorkspaceSize(T: number, B: number, S: number): number {
  return B * T * (2 * (2 * S + 1) + 1);
}

/** murmur3's 32-bit finaliser: a bijective mix of a 32-bit word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The seed as every dropout kernel mixes it once per call. Must match native/ops.cc and assembly/ops.ts. */
export const dropoutSeedMix = (seed: number): number => fmix32((seed ^ 0x9e3779b9) >>> 0);

/** 32 random bits for element i of a dropout mask: a counter-based hash, so every backend draws the same
 *  mask for the same seed without sharing generator state. */
export const dropoutBits = (mixedSeed: number, i: number): number => fmix32((fmix32(i >>> 0) ^ mixedSeed) >>> 0);

/** Element i is kept when its bits are at least this threshold (probability 1 − p). */
export const dropoutThreshold = (p: number): number => Math.floor(p * 4294967296);

/** Memory owned by a backend. `data` is always a live view: never keep it across an allocation
 *  (growing WASM memory detaches old views; the getter re-creates them). */
export interface Buf<A extends FloatArray | Int32Array> {
  readonly length: number;
  readonly data: A;
}

/** A contiguous range of a backend buffer. Every kernel argument is a Span. Frozen: `readonly` holds at
 *  run time too, so a backend that has checked a span's range can trust it (see Span.isSpan). */
export class Span<A extends FloatArray | Int32Array> {
  /** Only the constructor sets it: tells a real (checked, frozen) Span from an object shaped like one. */
  readonly #made = true;

  constructor(
    readonly buf: Buf<A>,
    readonly offset: number,
    readonly length: number,
  ) {
    if (
      !Number.isInteger(offset) ||
      !Number.isInteger(length) ||
      offset < 0 ||
      length < 0 ||
      offset + length > buf.length
    ) {
      throw new RangeError(`Span [${offset}, ${offset + length}) does not fit in a buffer of ${buf.length} elements`);
    }
    Object.freeze(this);
  }

  /** Whether `value` was made by this class (so its offset and length are integers >= 0 that cannot change). */
  static isSpan(value: unknown): value is Span<FloatArray | Int32Array> {
    return typeof value === 'object' && value !== null && #made in value;
  }

  static of<A extends FloatArray | Int32Array>(buf: Buf<A>): Span<A> {
    return new Span(buf, 0, buf.length);
  }

  /** A sub-range, `offset` relative to this span. */
  sub(offset: number, length: number): Span<A> {
    if (offset < 0 || length < 0 || offset + length > this.length) {
      throw new RangeError(`sub(${offset}, ${length}) does not fit in a span of ${this.length} elements`);
    }
    return new Span(this.buf, this.offset + offset, length);
  }

  /** A live view of exactly this range (re-derive after any allocation). */
  get data(): A {
    return this.buf.data.subarray(this.offset, this.offset + this.length) as A;
  }
}

export type FloatSpan = Span<FloatArray>;
export type IntSpan = Span<Int32Array>;

export interface BackendInfo {
  name: BackendName;
  dtype: Dtype;
  /** e.g. 'avx512', 'avx2', 'scalar', 'wasm-simd128'. */
  simd: string;
  threads: number;
  /** The matrix products' precision where the backend has a choice (native: 'fp32' or 'bf16'). */
  precision?: string;
}

/** Sizes of the attention decoder loop (decoderForward): T target steps, B rows (pairs, or pairs × beams),
 *  S source steps, E embedding width, H hidden size, M memory width (D·H of the encoder). */
export interface DecoderShape {
  kind: CellKind;
  T: number;
  B: number;
  S: number;
  E: number;
  H: number;
  M: number;
}

/** One decoder layer: PyTorch's weights, and the states the loop keeps (as cellForward does). */
export interface DecoderLayer {
  /** [G·H, E + H] for layer 0 (its input is [embedding of y_{t-1}; h~_{t-1}]), [G·H, H] above. */
  wIh: FloatSpan;
  wHh: FloatSpan;
  bIh: FloatSpan;
  bHh: FloatSpan;
  /** [T+1,B,H]: slot 0 holds the initial state h0 (read: the bridge's output, or the state carried from
   *  the previous call), slots 1..T receive h_1..h_T (slot T is the final state to carry on). */
  hs: FloatSpan;
  /** The same for the LSTM's cell state; length 0 for other cells. */
  cs: FloatSpan;
  /** [T,B,cacheWidth·H]. */
  cache: FloatSpan;
}

/** The memory the decoder attends to (the encoder's outputs). */
export interface DecoderMemory {
  /** [S,B,H] = memory·W_aᵀ (the "general" score of source position s is h_tᵀ·keys[s]). */
  keys: FloatSpan;
  /** [S,B,M] encoder outputs. */
  memory: FloatSpan;
  /** [B], each in [1, S]: source positions at or past a row's length get exactly zero attention. */
  sourceLengths: IntSpan;
}

/** What decoderForward records (decoderBackward and the caller's weight-gradient GEMMs read it). */
export interface DecoderRecord {
  /** [T,B,E+H]: layer 0's input [embedding; h~_{t-1}] at every step (dW_ih of layer 0 += dGxᵀ·input0). */
  input0: FloatSpan;
  /** [T,B,S] attention weights (exactly zero past a source length). */
  attention: FloatSpan;
  /** [T,B,M+H]: [c_t; h_t], what W_c multiplies (dW_c += dCombineᵀ·combined). */
  combined: FloatSpan;
  /** [T+1,B,H]: slot 0 holds h~_0 (read; zeros for a fresh decoder, or the attentional state carried from
   *  the previous call), slots 1..T receive h~_1..h~_T (the head's input). */
  feeds: FloatSpan;
}

/** What decoderBackward writes for one layer (dbIh, dbHh are accumulated, as cellBackward does). */
export interface DecoderLayerGrads {
  /** [T,B,G·H] gradient w.r.t. the input-side pre-activation; dW_ih += dGxᵀ·(the layer's input). */
  dGx: FloatSpan;
  /** [T,B,G·H] the hidden side; dW_hh += dGhᵀ·hs[0..T). */
  dGh: FloatSpan;
  /** [B,H] gradient w.r.t. the initial state h0 (the bridge's gradient); dc0 the same for the LSTM's
   *  cell state (length 0 for other cells). */
  dh0: FloatSpan;
  dc0: FloatSpan;
  /** [G·H] accumulated (+=). */
  dbIh: FloatSpan;
  dbHh: FloatSpan;
}

/** What decoderBackward writes besides the layers' gradients (all overwritten). */
export interface DecoderGrads {
  /** [T,B,E] gradient w.r.t. `embedded`. */
  dEmbedded: FloatSpan;
  /** [S,B,H] gradient w.r.t. keys; dW_a += dKeysᵀ·memory and dMemory += dKeys·W_a follow. */
  dKeys: FloatSpan;
  /** [S,B,M] gradient w.r.t. memory through the contexts. */
  dMemory: FloatSpan;
  /** [T,B,H] gradient w.r.t. W_c·[c;h] (before tanh); dW_c += dCombineᵀ·combined. */
  dCombine: FloatSpan;
  /** [B,H] gradient w.r.t. h~_0. */
  dFeed0: FloatSpan;
}

/** A weight matrix W [groups·rows, cols] (row-major) used as Wᵀ in products; groups: the gate blocks of a
 *  recurrent W_hh (G), so that a range of hidden units of every gate is one piece of the copy. */
export interface InferenceMatrix {
  weight: FloatSpan;
  groups: number;
  rows: number;
  cols: number;
  /** A W_hh, multiplied inside cellForward's loop rather than by gemm (default false). */
  recurrent?: boolean;
}

/** Weight copies for inference (Backend.inferenceWeights). */
export interface InferenceWeights {
  /** Runs fn with the copies in use (synchronously) and returns its result. */
  run<R>(fn: () => R): R;
  /** Frees the copies (run refuses afterwards). */
  dispose(): void;
}

/**
 * The kernels. Conventions:
 * - sizes first, then inputs, then outputs; the wasm kernels never allocate (their scratch is allocated once,
 *   at load), the native ones only to grow their scratch the first time they meet larger shapes (kept and
 *   reused after, so a warm training loop allocates nothing); the reference backend, written for clarity,
 *   allocates temporaries;
 * - "+=" kernels accumulate into their output (gradients are zeroed once per step by the caller);
 * - every backend validates sizes, span lengths, ids and aliasing of outputs with inputs before touching
 *   memory, with the kernel's one check in src/backend/checks.ts, and throws a RangeError/TypeError whose
 *   message names the kernel and the argument.
 */
export interface Backend {
  readonly name: BackendName;
  readonly dtype: Dtype;
  info(): BackendInfo;

  allocFloat(length: number): Buf<FloatArray>;
  allocInt(length: number): Buf<Int32Array>;
  /** Gives a buffer's memory back (wasm: for reuse; backends on the JavaScript heap leave it to the GC). */
  free?(buf: Buf<FloatArray | Int32Array>): void;
  /** Releases everything the backend holds; it is unusable afterwards. */
  dispose?(): void;
  /**
   * Optional: copies of weight matrices prepared once for inference, or null where the backend has none
   * (wasm, reference, native fp32 at the scalar level). Native bf16: the matrices rounded to bfloat16, half
   * the bytes; native fp32: the matrices that gemm multiplies (not the recurrent ones) packed in the GEMM's
   * panel layout, so that a 1-row product does not pack them again. While `run` executes, products with
   * exactly these matrices (A·Wᵀ with few rows: sampling) read the copies; results are those of the
   * precision's contract (fp32: the same bits as without the copies). The copies do not follow later
   * changes to the weights.
   */
  inferenceWeights?(matrices: readonly InferenceMatrix[]): InferenceWeights | null;

  /** C[M,N] = alpha·op(A)·op(B) + beta·C. op(A) is [M,K]: A is [M,K], or [K,M] when transA.
   *  op(B) is [K,N]: B is [K,N], or [N,K] when transB. beta = 0 overwrites C (old NaNs do not leak). */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: FloatSpan,
    B: FloatSpan,
    beta: number,
    C: FloatSpan,
  ): void;

  /** C[M,N] += bias[N] broadcast over rows. */
  addBias(M: number, N: number, bias: FloatSpan, C: FloatSpan): void;

  /** out[N] += Σ_i A[i, :] for A [M,N] (bias gradients). */
  sumRows(M: number, N: number, A: FloatSpan, out: FloatSpan): void;

  /** out[i,:] = table[ids[i], :] for table [R,D], out [n,D] (embedding lookup). */
  gatherRows(n: number, D: number, ids: IntSpan, table: FloatSpan, out: FloatSpan): void;
  /** dTable[ids[i], :] += dOut[i, :] (embedding gradient). */
  scatterAddRows(n: number, D: number, ids: IntSpan, dOut: FloatSpan, dTable: FloatSpan): void;
  /** out[i,r] = W[r, ids[i]] for W [R,C], out [n,R]: the one-hot input projection W·onehot(id). */
  gatherColumns(n: number, R: number, ids: IntSpan, W: FloatSpan, out: FloatSpan): void;
  /** dW[r, ids[i]] += dOut[i, r] (gradient of the one-hot input projection). */
  scatterAddColumns(n: number, R: number, ids: IntSpan, dOut: FloatSpan, dW: FloatSpan): void;

  /**
   * The recurrent loop of one layer over T steps for B streams (PyTorch's equations and gate order).
   * xProj [T,B,G·H]: W_ih·x_t for every step (no bias; one GEMM or gather before the loop).
   * wHh [G·H,H], bIh [G·H], bHh [G·H].
   * hs [T+1,B,H]: slot 0 holds h0 (read), slots 1..T receive h_1..h_T.
   * cs [T+1,B,H]: the same for the LSTM cell state; length 0 for other cells.
   * cache [T,B,cacheWidth·H]: what cellBackward needs (see cacheWidth).
   * xIds [T,B] (optional, one-hot input): xProj is then a table [R,G·H] (W_ihᵀ) and the input projection
   * of step t, stream b is its row xIds[t·B+b], in [0, R): the loop reads the small table instead of a
   * [T,B,G·H] sequence gathered beforehand.
   * lengths [B] (optional, each in [0, T]): PyTorch's packed sequences. Stream b runs steps 0 … L_b − 1
   * only; for t ≥ L_b its slots hs[t+1,b], cs[t+1,b] and cache rows are written as zeros (the output past
   * the end is zero) and xProj/xIds rows are not read. Its final state is hs[L_b,b] (cs[L_b,b]).
   * Without lengths every stream runs all T steps.
   */
  cellForward(
    kind: CellKind,
    T: number,
    B: number,
    H: number,
    xProj: FloatSpan,
    wHh: FloatSpan,
    bIh: FloatSpan,
    bHh: FloatSpan,
    hs: FloatSpan,
    cs: FloatSpan,
    cache: FloatSpan,
    xIds?: IntSpan | null,
    lengths?: IntSpan | null,
  ): void;

  /**
   * The reverse loop. Reads what cellForward wrote (hs, cs, cache) and
   * dhs [T,B,H]: gradient of the loss w.r.t. h_1..h_T from above (the head or the next layer);
   * dhN, dcN [B,H]: gradient flowing into the final state from later use (zeros in truncated BPTT;
   * dcN has length 0 for cells without a cell state).
   * Writes (overwrites) dGx [T,B,G·H]: gradient w.r.t. the input-side pre-activation (W_ih·x + b_ih),
   * dGh [T,B,G·H]: gradient w.r.t. the hidden-side pre-activation (W_hh·h + b_hh) — equal to dGx except
   * for the GRU's n gate, dh0 [B,H] and dc0 [B,H] (length 0 for cells without a cell state).
   * dbIh, dbHh [G·H] (optional): the bias gradients are accumulated, db_ih += Σ dGx and db_hh += Σ dGh
   * over all T·B rows, while the rows are fresh.
   * Weight gradients are whole-sequence GEMMs done by the caller afterwards: dW_hh += dGhᵀ·hs[0..T),
   * dW_ih += dGxᵀ·X.
   * lengths [B] (optional, as given to cellForward): steps t ≥ L_b of stream b pass the carried gradient
   * through unchanged and write zero rows of dGx and dGh; their dhs rows are not read. So dhN, dcN enter
   * stream b's final state hs[L_b,b], and a stream of length 0 has dh0 = dhN, dc0 = dcN.
   * dhSteps [T,B,H] (optional): receives the loss gradient w.r.t. each state, row t = ∂L/∂h_{t+1} (from
   * above plus through every later step: what the loop carries anyway), zero rows past a stream's end.
   * The gradient-flow view (‖∂L/∂h_t‖ over t) reads it.
   */
  cellBackward(
    kind: CellKind,
    T: number,
    B: number,
    H: number,
    wHh: FloatSpan,
    hs: FloatSpan,
    cs: FloatSpan,
    cache: FloatSpan,
    dhs: FloatSpan,
    dhN: FloatSpan,
    dcN: FloatSpan,
    dGx: FloatSpan,
    dGh: FloatSpan,
    dh0: FloatSpan,
    dc0: FloatSpan,
    dbIh?: FloatSpan | null,
    dbHh?: FloatSpan | null,
    lengths?: IntSpan | null,
    dhSteps?: FloatSpan | null,
  ): void;

  /**
   * Pooling over each stream's valid steps: x [T,B,D] time-major, lengths [B] each in [1, T].
   * mean: out[b] = (1/L_b)·Σ_{t<L_b} x[t,b]; max: out[b,d] = max_{t<L_b} x[t,b,d], and argmax [B,D]
   * receives that t (the first one on ties). argmax has length B·D for max, 0 for mean. out is [B,D].
   */
  poolForward(
    mode: PoolMode,
    T: number,
    B: number,
    D: number,
    x: FloatSpan,
    lengths: IntSpan,
    out: FloatSpan,
    argmax: IntSpan,
  ): void;
  /** The gradient of poolForward: dx [T,B,D] is overwritten (zero at steps that did not contribute). */
  poolBackward(
    mode: PoolMode,
    T: number,
    B: number,
    D: number,
    dOut: FloatSpan,
    lengths: IntSpan,
    argmax: IntSpan,
    dx: FloatSpan,
  ): void;

  /**
   * Σ_i −log softmax(logits[i])[targets[i]] over N rows of V logits; rows whose target is −1 are skipped
   * (padding). When dLogits is given it is overwritten with scale·(softmax − onehot(target)) (zero rows
   * for skipped targets). Targets outside [−1, V) are an error.
   * labelSmoothing ε in [0, 1] (default 0): PyTorch's nn.CrossEntropyLoss(label_smoothing=ε) summed over the
   * rows that are not skipped: the target distribution is (1 − ε)·onehot(target) + ε/V over all V classes,
   * so a row's loss is (1 − ε)·(−log p_target) + (ε/V)·Σ_v (−log p_v) and its gradient
   * scale·(softmax − (1 − ε)·onehot(target) − ε/V). (PyTorch's mean over non-ignored rows: scale = 1/count.)
   */
  softmaxCrossEntropy(
    N: number,
    V: number,
    logits: FloatSpan,
    targets: IntSpan,
    scale: number,
    dLogits: FloatSpan | null,
    labelSmoothing?: number,
  ): number;

  /**
   * PyTorch's nn.CTCLoss(blank=0, reduction='mean', zero_infinity) of log_softmax(logits), with the softmax
   * fused in: logits [T,B,C] time-major pre-softmax scores over C symbols (0 is the blank);
   * targets [B,S] (sequence b's labels are targets[b, 0 … U_b), each in [1, C); the rest is padding and not
   * read); inputLengths [B] each in [1, T] (rows t >= L_b are not read); targetLengths [B] each in [0, S].
   * losses [B] receives each sequence's negative log-likelihood (reduction 'none'): +Infinity when no
   * alignment of U_b labels fits in L_b steps, or 0 for those with zeroInfinity. Returns the mean over the
   * batch of losses[b] / max(U_b, 1) (+Infinity if any is infinite). dLogits [T,B,C] (optional) is
   * overwritten with the gradient of that mean w.r.t. logits; its rows t >= L_b are zero, and so are the
   * rows of an infinite sequence (where PyTorch gives NaN without zero_infinity). work holds
   * ctcWorkspaceSize(T, B, S) floats of scratch (α, β in log space; overwritten).
   */
  ctcLoss(
    T: number,
    B: number,
    C: number,
    S: number,
    logits: FloatSpan,
    targets: IntSpan,
    inputLengths: IntSpan,
    targetLengths: IntSpan,
    zeroInfinity: boolean,
    work: FloatSpan,
    losses: FloatSpan,
    dLogits: FloatSpan | null,
  ): number;

  /**
   * The attention decoder of the sequence-to-sequence model (Luong et al. 2015: "general" score, attentional
   * state h~_t = tanh(W_c [c_t; h_t]) without bias, input feeding of h~_{t-1}), the whole T-step loop over
   * the L = layers.length stacked layers in one call (test/fixtures/seq2seq_model.py's Seq2Seq.decode).
   * embedded [T,B,E]: the embeddings of <s>, y_1 … y_{T−1}. wCombine [H, M+H]. Per step t and row b:
   * layer 0 runs its cell on W_ih·[embedded_t; h~_{t-1}], layer l > 0 on W_ih·h^{l-1}_t; the top layer's
   * h_t attends over source positions s < sourceLengths[b] (softmax of keys[s]·h_t; the others get weight
   * 0), c_t = Σ_s α_s memory[s], h~_t = tanh(W_c [c_t; h_t]).
   * Initial states are read from slot 0 of every layer's hs/cs and of rec.feeds; final states are left in
   * slot T. Inference runs T = 1 per call over B·K beam rows and carries slot 1 into slot 0 of the next call
   * (reordered by parent with gatherRows); results equal one T-step call.
   */
  decoderForward(
    shape: DecoderShape,
    layers: readonly DecoderLayer[],
    embedded: FloatSpan,
    mem: DecoderMemory,
    wCombine: FloatSpan,
    rec: DecoderRecord,
  ): void;

  /**
   * The reverse loop of decoderForward (reads what it recorded). dFeeds [T,B,H]: the gradient of the loss
   * w.r.t. h~_1..h~_T (from the head); dhN, dcN: per layer [B,H] gradients into the final states (zeros when
   * unused; dcN length 0 unless LSTM). Writes grads (per layer) and out; the weight gradients are
   * whole-sequence GEMMs by the caller afterwards: dW_ih(l=0) += dGxᵀ·input0, dW_ih(l>0) += dGxᵀ·hs^{l-1}[1..T],
   * dW_hh += dGhᵀ·hs[0..T), dW_c += dCombineᵀ·combined, and keys' gradient dKeys goes to W_a and memory.
   */
  decoderBackward(
    shape: DecoderShape,
    layers: readonly DecoderLayer[],
    mem: DecoderMemory,
    wCombine: FloatSpan,
    rec: DecoderRecord,
    dFeeds: FloatSpan,
    dhN: readonly FloatSpan[],
    dcN: readonly FloatSpan[],
    grads: readonly DecoderLayerGrads[],
    out: DecoderGrads,
  ): void;

  /**
   * The K largest of each of N rows of V scores, in descending order: values [N,K] and their column
   * indices [N,K] (torch.topk(scores, K, dim=1, sorted=True) with ties broken by the lower index; NaN
   * ranks above every number, as in PyTorch). 1 <= K <= V. Beam search: rows are inputs, V = K·vocabulary.
   */
  topK(N: number, V: number, K: number, scores: FloatSpan, values: FloatSpan, indices: IntSpan): void;

  /** out[N,V] = log_softmax(x[N,V]) per row (beam search's log-probabilities). out may not overlap x. */
  logSoftmax(N: number, V: number, x: FloatSpan, out: FloatSpan): void;

  /** x = clamp(x, −limit, limit). */
  clipValue(x: FloatSpan, limit: number): void;
  /** Σ x² accumulated in float64. */
  sumSquares(x: FloatSpan): number;
  /** x *= s. */
  scale(x: FloatSpan, s: number): void;

  /**
   * Inverted dropout: element i is kept when dropoutBits(dropoutSeedMix(seed), i) >= dropoutThreshold(p);
   * mask[i] = kept ? 1/(1−p) : 0 and out = x ⊙ mask. 0 <= p < 1; seed is a 32-bit unsigned integer.
   */
  dropout(x: FloatSpan, p: number, seed: number, mask: FloatSpan, out: FloatSpan): void;
  /** out = a ⊙ b (the backward of dropout: dX = dOut ⊙ mask). */
  multiply(a: FloatSpan, b: FloatSpan, out: FloatSpan): void;

  /** PyTorch's Adagrad (lr_decay 0): g' = g + wd·p; sum += g'²; p −= lr·g' / (sqrt(sum) + eps). */
  adagradUpdate(param: FloatSpan, grad: FloatSpan, sum: FloatSpan, lr: number, eps: number, weightDecay: number): void;
  /** PyTorch's plain SGD: p −= lr·(g + wd·p). */
  sgdUpdate(param: FloatSpan, grad: FloatSpan, lr: number, weightDecay: number): void;
  /**
   * PyTorch's SGD with momentum μ: g' = g + wd·p; buf = first ? g' : μ·buf + (1 − dampening)·g';
   * p −= lr·(nesterov ? g' + μ·buf : buf). `first` is true on the optimizer's first step.
   */
  momentumUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    buf: FloatSpan,
    lr: number,
    momentum: number,
    dampening: number,
    nesterov: boolean,
    weightDecay: number,
    first: boolean,
  ): void;
  /** PyTorch's RMSprop (not centred, no momentum): g' = g + wd·p; sq = α·sq + (1 − α)·g'²; p −= lr·g' / (sqrt(sq) + eps). */
  rmspropUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    sq: FloatSpan,
    lr: number,
    alpha: number,
    eps: number,
    weightDecay: number,
  ): void;
  /**
   * PyTorch's Adam (decoupled false: g' = g + wd·p) and AdamW (decoupled true: p *= 1 − lr·wd first, g' = g):
   * m = β1·m + (1 − β1)·g'; v = β2·v + (1 − β2)·g'²;
   * p −= (lr / (1 − β1^t))·m / (sqrt(v) / sqrt(1 − β2^t) + eps), with t = step >= 1 (bias corrections in float64).
   */
  adamUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    m: FloatSpan,
    v: FloatSpan,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void;
}

/** The Backend methods that are kernels (everything but identity, allocation and disposal). Each has a
 *  check in src/backend/checks.ts (kernelChecks) that every backend calls before touching memory. */
export type KernelName = Exclude<
  keyof Backend,
  'name' | 'dtype' | 'info' | 'allocFloat' | 'allocInt' | 'free' | 'dispose' | 'inferenceWeights'
>;
