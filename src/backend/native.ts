// The native backend: the C++ addon built from native/ (a prebuild shipped in prebuilds/, else the local
// build/Release/rnnkit.node; src/backend/native-location.ts). Buffers are plain
// Float32Array/Int32Array; every kernel passes its spans' live views and its numbers to the addon, which
// validates them exactly as src/backend/checks.ts does (same order, same messages) before touching memory.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { checkSize } from './checks.js';
import { type AddonKind, addonCandidates, localBuildPath } from './native-location.js';
import {
  type Backend,
  type BackendInfo,
  type Buf,
  type CellKind,
  type F,
  type FloatArray,
  type I,
  type InferenceMatrix,
  type InferenceWeights,
  type PoolMode,
  CELL_KINDS,
  Span,
} from './types.js';

/** The SIMD levels of the native engine, slowest first. Must match SimdLevel in native/engine.h. */
export const SIMD_LEVELS = ['scalar', 'avx2', 'avx512', 'neon'] as const;
export type SimdLevel = (typeof SIMD_LEVELS)[number];

/** The precisions of the matrix products. Must match Precision in native/engine.h. 'bf16' rounds the
 *  operands of every GEMM and recurrent product to bfloat16 and accumulates in fp32 (native/bf16.h). */
export const PRECISIONS = ['fp32', 'bf16'] as const;
export type Precision = (typeof PRECISIONS)[number];
/** What loadNativeBackend accepts: 'auto' is bf16 where the CPU has it, else fp32. */
export type PrecisionChoice = Precision | 'auto';

/** An opaque bf16 weight snapshot owned by the addon. */
export type Bf16SnapshotHandle = { readonly __bf16Snapshot: unique symbol };

/** The addon's exports (native/addon.cc): the Backend kernels with spans replaced by typed arrays. */
export interface NativeAddon {
  /** The calling thread's SIMD level and thread count, and the cell kind names in enum order. */
  info(): { simd: string; threads: number; cellKinds: string[] };
  /** Sets the calling thread's SIMD level and thread count (absent: the best level, hardware concurrency). */
  configure(options?: { threads?: number | undefined; simd?: string | undefined; precision?: string | undefined }): {
    threads: number;
    simd: string;
    precision: Precision;
  };
  /** Each precision, whether this CPU (and build) runs it, and why not. */
  precisions(): { name: Precision; available: boolean; reason: string }[];
  /** GFLOP/s of a register-blocked VDPBF16PS loop on `threads` threads (throws where bf16 is unavailable). */
  measureBf16Peak(threads: number, milliseconds: number): number;
  /** The bf16 GEMM on contiguous matrices: the portable emulation ('emulated', the oracle) or the SIMD kernels. */
  bf16Gemm(
    impl: 'emulated' | 'kernel' | 'weights',
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Float32Array,
    beta: number,
    C: Float32Array,
  ): void;
  /** A snapshot of the matrices W [groups·rows, cols] rounded to bf16 (native/bf16.h's Bf16Snapshot). */
  bf16Weights(matrices: { W: Float32Array; groups: number; rows: number; cols: number }[]): Bf16SnapshotHandle;
  /** The calling thread's products use this snapshot (null: none). */
  bf16UseWeights(snapshot: Bf16SnapshotHandle | null): void;
  /** Frees a snapshot's memory now. */
  bf16FreeWeights(snapshot: Bf16SnapshotHandle): void;
  /** The SIMD levels this CPU supports, slowest first. */
  simdLevels(): string[];
  /** GFLOP/s of a register-blocked FMA loop at the configured level on `threads` threads for `milliseconds`. */
  measurePeak(threads: number, milliseconds: number): number;
  /** out = exp, tanh or sigmoid of x with the configured level's vectorised function (accuracy tests). */
  activation(name: 'exp' | 'tanh' | 'sigmoid', x: Float32Array, out: Float32Array): void;
  /** Bytes held by the kernels' packing and scratch buffers (process-wide; they only grow). */
  scratchBytes(): number;
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: Float32Array,
    B: Float32Array,
    beta: number,
    C: Float32Array,
  ): void;
  addBias(M: number, N: number, bias: Float32Array, C: Float32Array): void;
  sumRows(M: number, N: number, A: Float32Array, out: Float32Array): void;
  gatherRows(n: number, D: number, ids: Int32Array, table: Float32Array, out: Float32Array): void;
  scatterAddRows(n: number, D: number, ids: Int32Array, dOut: Float32Array, dTable: Float32Array): void;
  gatherColumns(n: number, R: number, ids: Int32Array, W: Float32Array, out: Float32Array): void;
  scatterAddColumns(n: number, R: number, ids: Int32Array, dOut: Float32Array, dW: Float32Array): void;
  cellForward(
    kind: string,
    T: number,
    B: number,
    H: number,
    xProj: Float32Array,
    wHh: Float32Array,
    bIh: Float32Array,
    bHh: Float32Array,
    hs: Float32Array,
    cs: Float32Array,
    cache: Float32Array,
    xIds?: Int32Array | null,
    lengths?: Int32Array | null,
  ): void;
  cellBackward(
    kind: string,
    T: number,
    B: number,
    H: number,
    wHh: Float32Array,
    hs: Float32Array,
    cs: Float32Array,
    cache: Float32Array,
    dhs: Float32Array,
    dhN: Float32Array,
    dcN: Float32Array,
    dGx: Float32Array,
    dGh: Float32Array,
    dh0: Float32Array,
    dc0: Float32Array,
    dbIh?: Float32Array | null,
    dbHh?: Float32Array | null,
    lengths?: Int32Array | null,
    dhSteps?: Float32Array | null,
  ): void;
  poolForward(
    mode: string,
    T: number,
    B: number,
    D: number,
    x: Float32Array,
    lengths: Int32Array,
    out: Float32Array,
    argmax: Int32Array,
  ): void;
  poolBackward(
    mode: string,
    T: number,
    B: number,
    D: number,
    dOut: Float32Array,
    lengths: Int32Array,
    argmax: Int32Array,
    dx: Float32Array,
  ): void;
  softmaxCrossEntropy(
    N: number,
    V: number,
    logits: Float32Array,
    targets: Int32Array,
    scale: number,
    dLogits: Float32Array | null,
  ): number;
  ctcLoss(
    T: number,
    B: number,
    C: number,
    S: number,
    logits: Float32Array,
    targets: Int32Array,
    inputLengths: Int32Array,
    targetLengths: Int32Array,
    zeroInfinity: boolean,
    work: Float32Array,
    losses: Float32Array,
    dLogits: Float32Array | null,
  ): number;
  clipValue(x: Float32Array, limit: number): void;
  sumSquares(x: Float32Array): number;
  scale(x: Float32Array, s: number): void;
  dropout(x: Float32Array, p: number, seed: number, mask: Float32Array, out: Float32Array): void;
  multiply(a: Float32Array, b: Float32Array, out: Float32Array): void;
  adagradUpdate(
    param: Float32Array,
    grad: Float32Array,
    sum: Float32Array,
    lr: number,
    eps: number,
    weightDecay: number,
  ): void;
  sgdUpdate(param: Float32Array, grad: Float32Array, lr: number, weightDecay: number): void;
  momentumUpdate(
    param: Float32Array,
    grad: Float32Array,
    buf: Float32Array,
    lr: number,
    momentum: number,
    dampening: number,
    nesterov: boolean,
    weightDecay: number,
    first: boolean,
  ): void;
  rmspropUpdate(
    param: Float32Array,
    grad: Float32Array,
    sq: Float32Array,
    lr: number,
    alpha: number,
    eps: number,
    weightDecay: number,
  ): void;
  adamUpdate(
    param: Float32Array,
    grad: Float32Array,
    m: Float32Array,
    v: Float32Array,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void;
}

const KERNELS = [
  'info',
  'gemm',
  'addBias',
  'sumRows',
  'gatherRows',
  'scatterAddRows',
  'gatherColumns',
  'scatterAddColumns',
  'cellForward',
  'cellBackward',
  'poolForward',
  'poolBackward',
  'softmaxCrossEntropy',
  'ctcLoss',
  'clipValue',
  'sumSquares',
  'scale',
  'dropout',
  'multiply',
  'adagradUpdate',
  'sgdUpdate',
  'momentumUpdate',
  'rmspropUpdate',
  'adamUpdate',
  'configure',
  'simdLevels',
  'measurePeak',
  'activation',
  'scratchBytes',
  'precisions',
  'measureBf16Peak',
  'bf16Gemm',
  'bf16Weights',
  'bf16UseWeights',
  'bf16FreeWeights',
] as const;

/** Where a local build of the addon is: `<package root>/build/Release/rnnkit.node`. */
export function defaultAddonPath(): string {
  return localBuildPath();
}

/** Loads the raw addon, or throws an Error saying why it cannot be used. */
export function loadNativeAddon(addonPath: string = defaultAddonPath()): NativeAddon {
  if (!existsSync(addonPath)) {
    throw new Error(`rnnkit native addon not built: ${addonPath} does not exist; run npm run build:native`);
  }
  let addon: Partial<NativeAddon>;
  try {
    addon = createRequire(import.meta.url)(addonPath) as Partial<NativeAddon>;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(
      `rnnkit native addon at ${addonPath} failed to load: ${message.split('\n')[0]}; run npm run build:native`,
      { cause: error },
    );
  }
  const missing = KERNELS.filter((name) => typeof addon[name] !== 'function');
  if (missing.length > 0) {
    throw new Error(
      `rnnkit native addon at ${addonPath} is out of date (missing ${missing.join(', ')}); run npm run build:native`,
    );
  }
  const kinds = addon.info!().cellKinds;
  if (kinds.join() !== CELL_KINDS.join()) {
    throw new Error(
      `rnnkit native addon at ${addonPath} is out of date (cell kinds ${kinds.join(', ')}, expected ${CELL_KINDS.join(', ')}); run npm run build:native`,
    );
  }
  return addon as NativeAddon;
}

/** Which file the addon was loaded from, and why each other candidate was not used. */
export interface AddonOrigin {
  kind: AddonKind;
  path: string;
  others: { kind: AddonKind; path: string; reason: string }[];
}

/** Loads the first candidate that works (a matching prebuild, else the local build), or throws one Error
 *  whose message is a single line with every candidate's reason. */
export function findNativeAddon(root?: string): { addon: NativeAddon; origin: AddonOrigin } {
  const candidates = addonCandidates(root);
  const others: AddonOrigin['others'] = [];
  for (const [i, candidate] of candidates.entries()) {
    let reason = candidate.unusable;
    if (reason === null) {
      try {
        const addon = loadNativeAddon(candidate.path);
        for (const later of candidates.slice(i + 1)) {
          others.push({
            kind: later.kind,
            path: later.path,
            reason: `${later.path} not needed, the ${candidate.kind} addon loaded first`,
          });
        }
        return { addon, origin: { kind: candidate.kind, path: candidate.path, others } };
      } catch (error) {
        reason = error instanceof Error ? error.message : String(error);
      }
    }
    others.push({ kind: candidate.kind, path: candidate.path, reason });
  }
  throw new Error(`rnnkit native addon not available: ${others.map((o) => `${o.kind}: ${o.reason}`).join('; ')}`);
}

class TypedBuf<A extends Float32Array | Int32Array> implements Buf<A> {
  constructor(readonly data: A) {}
  get length(): number {
    return this.data.length;
  }
}

/** The typed array of a span; anything else goes to the addon unchanged, which rejects it by type. */
function view<A>(span: Span<never> | F | I | null): A {
  return (span instanceof Span ? span.data : span) as A;
}

/** Which backend's configuration the addon holds for this JavaScript thread (the addon keeps one per thread). */
const configuredFor = new WeakMap<NativeAddon, NativeBackend>();

export class NativeBackend implements Backend {
  readonly name = 'native' as const;
  readonly dtype = 'f32' as const;
  readonly #addon: NativeAddon;
  readonly #simd: string;
  readonly #threads: number;
  readonly #precision: Precision;
  /** Which file the addon came from (null when the caller loaded it). */
  readonly origin: AddonOrigin | null;

  /** `threads`, `simd` and `precision` default to the hardware concurrency, the best level the CPU supports and fp32. */
  constructor(
    addon: NativeAddon,
    options: {
      threads?: number | undefined;
      simd?: SimdLevel | undefined;
      precision?: Precision | undefined;
      origin?: AddonOrigin | undefined;
    } = {},
  ) {
    this.#addon = addon;
    this.origin = options.origin ?? null;
    const config = addon.configure({ threads: options.threads, simd: options.simd, precision: options.precision });
    this.#simd = config.simd;
    this.#threads = config.threads;
    this.#precision = config.precision;
    configuredFor.set(addon, this);
  }

  info(): BackendInfo {
    return { name: this.name, dtype: this.dtype, simd: this.#simd, threads: this.#threads, precision: this.#precision };
  }

  /** Each precision, whether this machine runs it, and why not (for `rnnkit info`). Not a Backend method. */
  precisions(): { name: Precision; available: boolean; reason: string }[] {
    return this.#addon.precisions();
  }

  /** The machine's bf16 peak: GFLOP/s of a register-blocked VDPBF16PS loop (throws where bf16 is unavailable). */
  measureBf16PeakGflops(threads: number, ms: number): number {
    return this.#addon.measureBf16Peak(threads, ms);
  }

  /** In bf16 precision: the matrices rounded to bf16 once, used by the few-row products with them (sampling)
   *  while `run` executes (native/bf16.h's Bf16Snapshot). null in fp32. */
  inferenceWeights(matrices: readonly InferenceMatrix[]): InferenceWeights | null {
    if (this.#precision !== 'bf16') return null;
    const addon = this.#addon;
    let snapshot: Bf16SnapshotHandle | null = addon.bf16Weights(
      matrices.map((m) => ({ W: view<Float32Array>(m.weight), groups: m.groups, rows: m.rows, cols: m.cols })),
    );
    return {
      run: <R>(fn: () => R): R => {
        if (!snapshot) throw new Error('inferenceWeights: run after dispose');
        this.#configure();
        addon.bf16UseWeights(snapshot);
        try {
          return fn();
        } finally {
          addon.bf16UseWeights(null);
        }
      },
      dispose: () => {
        if (snapshot) addon.bf16FreeWeights(snapshot);
        snapshot = null;
      },
    };
  }

  /** Bytes the engine holds as kernel scratch (packing space), process-wide: it stops growing once the
   *  kernels have seen a run's shapes, so the training loop allocates nothing (tests check this). */
  get scratchBytes(): number {
    return this.#addon.scratchBytes();
  }

  /** Before a kernel whose speed or bits depend on the configuration: make it this backend's. */
  #configure(): void {
    if (configuredFor.get(this.#addon) !== this) {
      this.#addon.configure({ threads: this.#threads, simd: this.#simd, precision: this.#precision });
      configuredFor.set(this.#addon, this);
    }
  }

  /**
   * The machine's FP32 peak for this backend's SIMD level: GFLOP/s of a register-blocked FMA loop run on
   * `threads` threads at once for `ms` milliseconds (for "% of peak" in benchmarks). Not a Backend method.
   */
  measurePeakGflops(threads: number, ms: number): number {
    this.#configure();
    return this.#addon.measurePeak(threads, ms);
  }

  /** Runs a tiny gemm and an LSTM step and compares them with known answers; throws if they differ. */
  selfCheck(): void {
    const floats = (values: number[]): F => {
      const buf = this.allocFloat(values.length);
      buf.data.set(values);
      return Span.of(buf);
    };
    // bf16 rounds the products' operands to 8 significant bits (relative error up to 2^-9 each).
    const tolerance = this.#precision === 'bf16' ? 1e-2 : 1e-5;
    const near = (what: string, actual: FloatArray, expected: number[]): void => {
      for (let i = 0; i < expected.length; i++) {
        if (!(Math.abs(actual[i]! - expected[i]!) <= tolerance + tolerance * Math.abs(expected[i]!))) {
          throw new Error(`native self-check failed: ${what}[${i}] is ${actual[i]}, expected ${expected[i]}`);
        }
      }
    };
    // C[2,2] = A[2,3]·B[3,2] with beta 0 over a NaN-filled C.
    const C = floats([NaN, NaN, NaN, NaN]);
    this.gemm(false, false, 2, 2, 3, 1, floats([1, 2, 3, 4, 5, 6]), floats([7, 8, 9, 10, 11, 12]), 0, C);
    near('gemm', C.data, [58, 64, 139, 154]);
    // LSTM, T = 2, B = 1, H = 1 (values from the float64 reference backend).
    const hs = floats([0.5, 0, 0]),
      cs = floats([-0.25, 0, 0]),
      cache = floats(new Array(8).fill(0));
    this.cellForward(
      'lstm',
      2,
      1,
      1,
      floats([0.1, -0.2, 0.3, 0.4, -0.5, 0.6, 0.7, -0.8]),
      floats([0.9, -1, 1.1, 0.2]),
      floats([0.01, 0.02, 0.03, 0.04]),
      floats([-0.05, 0.06, -0.07, 0.08]),
      hs,
      cs,
      cache,
    );
    near('lstm hs', hs.data, [0.5, 0.20764486650311156, 0.15889896157904115]);
    near('lstm cs', cs.data, [-0.25, 0.3309189665942612, 0.49704166307286746]);
  }

  allocFloat(length: number): Buf<FloatArray> {
    checkSize('allocFloat', 'length', length);
    return new TypedBuf(new Float32Array(length));
  }

  allocInt(length: number): Buf<Int32Array> {
    checkSize('allocInt', 'length', length);
    return new TypedBuf(new Int32Array(length));
  }

  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: F,
    B: F,
    beta: number,
    C: F,
  ): void {
    this.#configure();
    this.#addon.gemm(transA, transB, M, N, K, alpha, view(A), view(B), beta, view(C));
  }

  addBias(M: number, N: number, bias: F, C: F): void {
    this.#addon.addBias(M, N, view(bias), view(C));
  }

  sumRows(M: number, N: number, A: F, out: F): void {
    this.#addon.sumRows(M, N, view(A), view(out));
  }

  gatherRows(n: number, D: number, ids: I, table: F, out: F): void {
    this.#addon.gatherRows(n, D, view(ids), view(table), view(out));
  }

  scatterAddRows(n: number, D: number, ids: I, dOut: F, dTable: F): void {
    this.#addon.scatterAddRows(n, D, view(ids), view(dOut), view(dTable));
  }

  gatherColumns(n: number, R: number, ids: I, W: F, out: F): void {
    this.#addon.gatherColumns(n, R, view(ids), view(W), view(out));
  }

  scatterAddColumns(n: number, R: number, ids: I, dOut: F, dW: F): void {
    this.#addon.scatterAddColumns(n, R, view(ids), view(dOut), view(dW));
  }

  cellForward(
    kind: CellKind,
    T: number,
    B: number,
    H: number,
    xProj: F,
    wHh: F,
    bIh: F,
    bHh: F,
    hs: F,
    cs: F,
    cache: F,
    xIds: I | null = null,
    lengths: I | null = null,
  ): void {
    this.#configure();
    this.#addon.cellForward(
      kind,
      T,
      B,
      H,
      view(xProj),
      view(wHh),
      view(bIh),
      view(bHh),
      view(hs),
      view(cs),
      view(cache),
      view(xIds),
      view(lengths),
    );
  }

  cellBackward(
    kind: CellKind,
    T: number,
    B: number,
    H: number,
    wHh: F,
    hs: F,
    cs: F,
    cache: F,
    dhs: F,
    dhN: F,
    dcN: F,
    dGx: F,
    dGh: F,
    dh0: F,
    dc0: F,
    dbIh: F | null = null,
    dbHh: F | null = null,
    lengths: I | null = null,
    dhSteps: F | null = null,
  ): void {
    this.#configure();
    this.#addon.cellBackward(
      kind,
      T,
      B,
      H,
      view(wHh),
      view(hs),
      view(cs),
      view(cache),
      view(dhs),
      view(dhN),
      view(dcN),
      view(dGx),
      view(dGh),
      view(dh0),
      view(dc0),
      view(dbIh),
      view(dbHh),
      view(lengths),
      view(dhSteps),
    );
  }

  poolForward(mode: PoolMode, T: number, B: number, D: number, x: F, lengths: I, out: F, argmax: I): void {
    this.#addon.poolForward(mode, T, B, D, view(x), view(lengths), view(out), view(argmax));
  }

  poolBackward(mode: PoolMode, T: number, B: number, D: number, dOut: F, lengths: I, argmax: I, dx: F): void {
    this.#addon.poolBackward(mode, T, B, D, view(dOut), view(lengths), view(argmax), view(dx));
  }

  softmaxCrossEntropy(N: number, V: number, logits: F, targets: I, scale: number, dLogits: F | null): number {
    return this.#addon.softmaxCrossEntropy(N, V, view(logits), view(targets), scale, view(dLogits));
  }

  ctcLoss(
    T: number,
    B: number,
    C: number,
    S: number,
    logits: F,
    targets: I,
    inputLengths: I,
    targetLengths: I,
    zeroInfinity: boolean,
    work: F,
    losses: F,
    dLogits: F | null,
  ): number {
    this.#configure();
    return this.#addon.ctcLoss(
      T,
      B,
      C,
      S,
      view(logits),
      view(targets),
      view(inputLengths),
      view(targetLengths),
      zeroInfinity,
      view(work),
      view(losses),
      view(dLogits),
    );
  }

  clipValue(x: F, limit: number): void {
    this.#addon.clipValue(view(x), limit);
  }

  sumSquares(x: F): number {
    return this.#addon.sumSquares(view(x));
  }

  scale(x: F, s: number): void {
    this.#addon.scale(view(x), s);
  }

  dropout(x: F, p: number, seed: number, mask: F, out: F): void {
    this.#addon.dropout(view(x), p, seed, view(mask), view(out));
  }

  multiply(a: F, b: F, out: F): void {
    this.#addon.multiply(view(a), view(b), view(out));
  }

  adagradUpdate(param: F, grad: F, sum: F, lr: number, eps: number, weightDecay: number): void {
    this.#addon.adagradUpdate(view(param), view(grad), view(sum), lr, eps, weightDecay);
  }

  sgdUpdate(param: F, grad: F, lr: number, weightDecay: number): void {
    this.#addon.sgdUpdate(view(param), view(grad), lr, weightDecay);
  }

  momentumUpdate(
    param: F,
    grad: F,
    buf: F,
    lr: number,
    momentum: number,
    dampening: number,
    nesterov: boolean,
    weightDecay: number,
    first: boolean,
  ): void {
    this.#addon.momentumUpdate(
      view(param),
      view(grad),
      view(buf),
      lr,
      momentum,
      dampening,
      nesterov,
      weightDecay,
      first,
    );
  }

  rmspropUpdate(param: F, grad: F, sq: F, lr: number, alpha: number, eps: number, weightDecay: number): void {
    this.#addon.rmspropUpdate(view(param), view(grad), view(sq), lr, alpha, eps, weightDecay);
  }

  adamUpdate(
    param: F,
    grad: F,
    m: F,
    v: F,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void {
    this.#addon.adamUpdate(
      view(param),
      view(grad),
      view(m),
      view(v),
      lr,
      beta1,
      beta2,
      eps,
      weightDecay,
      decoupled,
      step,
    );
  }
}

/** The most threads a native backend may use (kMaxThreads in native/engine.h). */
export const MAX_NATIVE_THREADS = 1024;

/**
 * The native backend, or an Error saying why it cannot be loaded ("not built: ... run npm run
 * build:native", "failed to load: ...", "out of date ..."). The addon is `addonPath` if given, else the
 * first of findNativeAddon's candidates that loads (a matching prebuild, else the local build). `threads` (1..1024; default: environment
 * variable RNNKIT_THREADS, else the hardware concurrency) is how many threads the GEMM and cell kernels
 * split their work over. `simd` (default: RNNKIT_SIMD, else the best level this CPU supports) forces a
 * lower SIMD level, e.g. 'scalar' or 'avx2', for testing; a level the CPU lacks is an error.
 * `precision` (default: RNNKIT_PRECISION, else 'fp32') of the matrix products: 'bf16' (an error where the
 * CPU lacks AVX-512 BF16, saying so), 'auto' (bf16 where available, else fp32) or 'fp32'.
 */
export function loadNativeBackend(
  options: {
    addonPath?: string | undefined;
    threads?: number | undefined;
    simd?: SimdLevel | undefined;
    precision?: PrecisionChoice | undefined;
  } = {},
): NativeBackend {
  let threads = options.threads;
  if (threads !== undefined) {
    checkSize('loadNativeBackend', 'threads', threads, 1);
    if (threads > MAX_NATIVE_THREADS) {
      throw new RangeError(
        `loadNativeBackend: expected an integer from 1 to ${MAX_NATIVE_THREADS} for threads but received ${threads}`,
      );
    }
  } else if (process.env['RNNKIT_THREADS']) {
    const text = process.env['RNNKIT_THREADS'];
    threads = Number(text);
    if (!/^[0-9]+$/.test(text) || threads < 1 || threads > MAX_NATIVE_THREADS) {
      throw new RangeError(
        `loadNativeBackend: RNNKIT_THREADS must be an integer from 1 to ${MAX_NATIVE_THREADS}, got ${JSON.stringify(text)}`,
      );
    }
  }
  const simd = options.simd ?? (process.env['RNNKIT_SIMD'] || undefined);
  if (simd !== undefined && !(SIMD_LEVELS as readonly string[]).includes(simd)) {
    throw new RangeError(
      `loadNativeBackend: expected one of ${SIMD_LEVELS.join(', ')} for simd${options.simd === undefined ? ' (RNNKIT_SIMD)' : ''} but received ${String(simd)}`,
    );
  }
  const choice = options.precision ?? (process.env['RNNKIT_PRECISION'] || undefined);
  if (choice !== undefined && !([...PRECISIONS, 'auto'] as string[]).includes(choice)) {
    throw new RangeError(
      `loadNativeBackend: expected one of ${PRECISIONS.join(', ')}, auto for precision${options.precision === undefined ? ' (RNNKIT_PRECISION)' : ''} but received ${String(choice)}`,
    );
  }
  const { addon, origin } =
    options.addonPath !== undefined
      ? { addon: loadNativeAddon(options.addonPath), origin: undefined }
      : findNativeAddon();
  const precision =
    choice === 'auto' ? (addon.precisions().find((p) => p.name === 'bf16')?.available ? 'bf16' : 'fp32') : choice;
  return new NativeBackend(addon, {
    threads,
    simd: simd as SimdLevel | undefined,
    precision: precision as Precision | undefined,
    origin,
  });
}
