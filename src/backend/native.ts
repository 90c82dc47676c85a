// The native backend: the C++ addon built from native/ (a prebuild shipped in prebuilds/, else the local
// build/Release/rnnkit.node; src/backend/native-location.ts). Buffers are plain Float32Array/Int32Array.
// Every kernel validates its arguments with src/backend/checks.ts (as the other backends do: the same
// messages), then passes its spans' live views and its numbers to the addon, which checks again only what
// protects memory (typed array types, lengths, ids, aliasing, sizes) before running the C++ kernel.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as check from './checks.js';
import { type AddonKind, addonCandidates, localBuildPath } from './native-location.js';
import {
  type Backend,
  type BackendInfo,
  type Buf,
  type CellKind,
  type DecoderGrads,
  type DecoderLayer,
  type DecoderLayerGrads,
  type DecoderMemory,
  type DecoderRecord,
  type DecoderShape,
  type FloatSpan,
  type FloatArray,
  type IntSpan,
  type KernelName,
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

/** An opaque weight snapshot owned by the addon. */
export type WeightSnapshotHandle = { readonly __weightSnapshot: unique symbol };

/** A kernel argument as the addon takes it: a span becomes its typed array (exactly the span's range; the
 *  addon refuses anything but a Float32Array or Int32Array there), a cell kind or pooling mode its name
 *  (the addon refuses unknown names), every other argument stays as it is. */
type AddonArg<T> = T extends Span<infer A> ? A : T extends string ? string : T;
type AddonArgs<P extends unknown[]> = { [K in keyof P]: AddonArg<P[K]> };
/** The Backend's kernels as the addon exports them, derived from the Backend interface. */
export type AddonKernels = {
  [K in Exclude<KernelName, FlatKernel>]: (...args: AddonArgs<Parameters<Backend[K]>>) => ReturnType<Backend[K]>;
};
/** The kernels whose object arguments (layers, records) the addon takes flat (see NativeAddon). */
type FlatKernel = 'decoderForward' | 'decoderBackward';

/** The addon's exports (native/addon.cc, native/engine_addon.cc): the kernels and the engine's controls. */
export interface NativeAddon extends AddonKernels {
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
  bf16Gemm(impl: 'emulated' | 'kernel' | 'weights', ...gemm: Parameters<AddonKernels['gemm']>): void;
  /** A snapshot of the matrices W [groups·rows, cols] for the configured precision and level: rounded to bf16
   *  (native/bf16.h's Bf16Snapshot) or packed for the fp32 1-row GEMM (native/engine.h's Fp32Snapshot); null
   *  at the scalar level in fp32. */
  snapshotWeights(
    matrices: { W: Float32Array; groups: number; rows: number; cols: number }[],
  ): WeightSnapshotHandle | null;
  /** The calling thread's products use this snapshot (null: none). */
  useWeights(snapshot: WeightSnapshotHandle | null): void;
  /** Frees a snapshot's memory now. */
  freeWeights(snapshot: WeightSnapshotHandle): void;
  /** The SIMD levels this CPU supports, slowest first. */
  simdLevels(): string[];
  /** GFLOP/s of a register-blocked FMA loop at the configured level on `threads` threads for `milliseconds`. */
  measurePeak(threads: number, milliseconds: number): number;
  /** out = exp, tanh or sigmoid of x with the configured level's vectorised function (accuracy tests). */
  activation(name: 'exp' | 'tanh' | 'sigmoid', x: Float32Array, out: Float32Array): void;
  /** Bytes held by the kernels' packing and scratch buffers (process-wide; they only grow). */
  scratchBytes(): number;
  /** The decoder kernels take their layers and records flat: kind, T, B, S, E, H, M, L, 7 arrays per layer,
   *  then the memory, record and embedded (native/addon.cc). */
  decoderForward(kind: string, ...args: (number | FloatArray | Int32Array)[]): void;
  decoderBackward(kind: string, ...args: (number | FloatArray | Int32Array)[]): void;
}

/** Every export the loader requires (an older build lacks some). */
const EXPORTS: readonly (keyof NativeAddon)[] = [
  ...check.KERNEL_NAMES,
  'info',
  'configure',
  'precisions',
  'measureBf16Peak',
  'bf16Gemm',
  'simdLevels',
  'measurePeak',
  'activation',
  'scratchBytes',
  'snapshotWeights',
  'useWeights',
  'freeWeights',
];

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
  const missing = EXPORTS.filter((name) => typeof addon[name] !== 'function');
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

/** The decoder kernels' first arguments: kind, the sizes, L, then every layer's 7 arrays (native/addon.cc). */
function decoderHead(
  shape: DecoderShape,
  layers: readonly DecoderLayer[],
): [string, ...(number | FloatArray | Int32Array)[]] {
  const { kind, T, B, S, E, H, M } = shape;
  return [
    kind,
    T,
    B,
    S,
    E,
    H,
    M,
    layers.length,
    ...layers.flatMap((l) => [l.wIh, l.wHh, l.bIh, l.bHh, l.hs, l.cs, l.cache].map((f) => f.data)),
  ];
}

/** The memory, wCombine and the record, in the addon's order. */
function decoderShared(mem: DecoderMemory, wCombine: FloatSpan, rec: DecoderRecord): (FloatArray | Int32Array)[] {
  return [
    mem.keys.data,
    mem.memory.data,
    mem.sourceLengths.data,
    ...[wCombine, rec.input0, rec.attention, rec.combined, rec.feeds].map((f) => f.data),
  ];
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

  /** Copies of the weights for sampling, used by the products with them while `run` executes: in bf16
   *  precision every matrix rounded to bf16 once (native/bf16.h's Bf16Snapshot); in fp32 the matrices that
   *  1-row GEMMs multiply (W_hh is left out: the recurrent loop reads it in place) packed once in the GEMM's
   *  panel layout (native/engine.h's Fp32Snapshot), the same bits as packing them for every product. null
   *  at the scalar level in fp32, or when no matrix is left. */
  inferenceWeights(matrices: readonly InferenceMatrix[]): InferenceWeights | null {
    const used = this.#precision === 'bf16' ? matrices : matrices.filter((m) => !m.recurrent);
    if (used.length === 0) return null;
    const addon = this.#addon;
    this.#configure(); // the snapshot is made for this backend's precision and SIMD level
    let snapshot = addon.snapshotWeights(
      used.map((m) => ({ W: m.weight.data as Float32Array, groups: m.groups, rows: m.rows, cols: m.cols })),
    );
    if (!snapshot) return null;
    return {
      run: <R>(fn: () => R): R => {
        if (!snapshot) throw new Error('inferenceWeights: run after dispose');
        this.#configure();
        addon.useWeights(snapshot);
        try {
          return fn();
        } finally {
          addon.useWeights(null);
        }
      },
      dispose: () => {
        if (snapshot) addon.freeWeights(snapshot);
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
    const floats = (values: number[]): FloatSpan => {
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
    check.checkSize('allocFloat', 'length', length);
    return new TypedBuf(new Float32Array(length));
  }

  allocInt(length: number): Buf<Int32Array> {
    check.checkSize('allocInt', 'length', length);
    return new TypedBuf(new Int32Array(length));
  }

  // The kernels: check (src/backend/checks.ts), make this backend's configuration current where the kernel
  // is threaded or SIMD-dispatched, then call the addon with the spans' typed arrays.
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
  ): void {
    check.checkGemm(transA, transB, M, N, K, alpha, A, B, beta, C);
    this.#configure();
    this.#addon.gemm(transA, transB, M, N, K, alpha, A.data, B.data, beta, C.data);
  }

  addBias(M: number, N: number, bias: FloatSpan, C: FloatSpan): void {
    check.checkAddBias(M, N, bias, C);
    this.#addon.addBias(M, N, bias.data, C.data);
  }

  sumRows(M: number, N: number, A: FloatSpan, out: FloatSpan): void {
    check.checkSumRows(M, N, A, out);
    this.#addon.sumRows(M, N, A.data, out.data);
  }

  gatherRows(n: number, D: number, ids: IntSpan, table: FloatSpan, out: FloatSpan): void {
    check.checkGatherRows(n, D, ids, table, out);
    this.#addon.gatherRows(n, D, ids.data, table.data, out.data);
  }

  scatterAddRows(n: number, D: number, ids: IntSpan, dOut: FloatSpan, dTable: FloatSpan): void {
    check.checkScatterAddRows(n, D, ids, dOut, dTable);
    this.#addon.scatterAddRows(n, D, ids.data, dOut.data, dTable.data);
  }

  gatherColumns(n: number, R: number, ids: IntSpan, W: FloatSpan, out: FloatSpan): void {
    check.checkGatherColumns(n, R, ids, W, out);
    this.#addon.gatherColumns(n, R, ids.data, W.data, out.data);
  }

  scatterAddColumns(n: number, R: number, ids: IntSpan, dOut: FloatSpan, dW: FloatSpan): void {
    check.checkScatterAddColumns(n, R, ids, dOut, dW);
    this.#addon.scatterAddColumns(n, R, ids.data, dOut.data, dW.data);
  }

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
    xIds: IntSpan | null = null,
    lengths: IntSpan | null = null,
  ): void {
    check.checkCellForward(kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache, xIds, lengths);
    this.#configure();
    this.#addon.cellForward(
      kind,
      T,
      B,
      H,
      xProj.data,
      wHh.data,
      bIh.data,
      bHh.data,
      hs.data,
      cs.data,
      cache.data,
      xIds?.data ?? null,
      lengths?.data ?? null,
    );
  }

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
    dbIh: FloatSpan | null = null,
    dbHh: FloatSpan | null = null,
    lengths: IntSpan | null = null,
    dhSteps: FloatSpan | null = null,
  ): void {
    check.checkCellBackward(
      kind,
      T,
      B,
      H,
      wHh,
      hs,
      cs,
      cache,
      dhs,
      dhN,
      dcN,
      dGx,
      dGh,
      dh0,
      dc0,
      dbIh,
      dbHh,
      lengths,
      dhSteps,
    );
    this.#configure();
    this.#addon.cellBackward(
      kind,
      T,
      B,
      H,
      wHh.data,
      hs.data,
      cs.data,
      cache.data,
      dhs.data,
      dhN.data,
      dcN.data,
      dGx.data,
      dGh.data,
      dh0.data,
      dc0.data,
      dbIh?.data ?? null,
      dbHh?.data ?? null,
      lengths?.data ?? null,
      dhSteps?.data ?? null,
    );
  }

  poolForward(
    mode: PoolMode,
    T: number,
    B: number,
    D: number,
    x: FloatSpan,
    lengths: IntSpan,
    out: FloatSpan,
    argmax: IntSpan,
  ): void {
    check.checkPoolForward(mode, T, B, D, x, lengths, out, argmax);
    this.#addon.poolForward(mode, T, B, D, x.data, lengths.data, out.data, argmax.data);
  }

  poolBackward(
    mode: PoolMode,
    T: number,
    B: number,
    D: number,
    dOut: FloatSpan,
    lengths: IntSpan,
    argmax: IntSpan,
    dx: FloatSpan,
  ): void {
    check.checkPoolBackward(mode, T, B, D, dOut, lengths, argmax, dx);
    this.#addon.poolBackward(mode, T, B, D, dOut.data, lengths.data, argmax.data, dx.data);
  }

  /** The whole T-step loop in C++ (native/decoder.cc). The TypeScript checks read the objects; the addon
   *  receives their arrays flat and validates them again. */
  decoderForward(
    shape: DecoderShape,
    layers: readonly DecoderLayer[],
    embedded: FloatSpan,
    mem: DecoderMemory,
    wCombine: FloatSpan,
    rec: DecoderRecord,
  ): void {
    check.checkDecoderForward(shape, layers, embedded, mem, wCombine, rec);
    this.#configure();
    this.#addon.decoderForward(...decoderHead(shape, layers), ...decoderShared(mem, wCombine, rec), embedded.data);
  }

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
  ): void {
    check.checkDecoderBackward(shape, layers, mem, wCombine, rec, dFeeds, dhN, dcN, grads, out);
    this.#configure();
    this.#addon.decoderBackward(
      ...decoderHead(shape, layers),
      ...decoderShared(mem, wCombine, rec),
      dFeeds.data,
      ...grads.flatMap((g, l) => [dhN[l]!, dcN[l]!, g.dGx, g.dGh, g.dh0, g.dc0, g.dbIh, g.dbHh].map((f) => f.data)),
      ...[out.dEmbedded, out.dKeys, out.dMemory, out.dCombine, out.dFeed0].map((f) => f.data),
    );
  }

  topK(N: number, V: number, K: number, scores: FloatSpan, values: FloatSpan, indices: IntSpan): void {
    check.checkTopK(N, V, K, scores, values, indices);
    this.#addon.topK(N, V, K, scores.data, values.data, indices.data);
  }

  logSoftmax(N: number, V: number, x: FloatSpan, out: FloatSpan): void {
    check.checkLogSoftmax(N, V, x, out);
    this.#addon.logSoftmax(N, V, x.data, out.data);
  }

  softmaxCrossEntropy(
    N: number,
    V: number,
    logits: FloatSpan,
    targets: IntSpan,
    scale: number,
    dLogits: FloatSpan | null,
    labelSmoothing = 0,
  ): number {
    check.checkSoftmaxCrossEntropy(N, V, logits, targets, scale, dLogits, labelSmoothing);
    return this.#addon.softmaxCrossEntropy(
      N,
      V,
      logits.data,
      targets.data,
      scale,
      dLogits?.data ?? null,
      labelSmoothing,
    );
  }

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
  ): number {
    check.checkCtcLoss(T, B, C, S, logits, targets, inputLengths, targetLengths, zeroInfinity, work, losses, dLogits);
    this.#configure();
    return this.#addon.ctcLoss(
      T,
      B,
      C,
      S,
      logits.data,
      targets.data,
      inputLengths.data,
      targetLengths.data,
      zeroInfinity,
      work.data,
      losses.data,
      dLogits?.data ?? null,
    );
  }

  clipValue(x: FloatSpan, limit: number): void {
    check.checkClipValue(x, limit);
    this.#addon.clipValue(x.data, limit);
  }

  sumSquares(x: FloatSpan): number {
    check.checkSumSquares(x);
    return this.#addon.sumSquares(x.data);
  }

  scale(x: FloatSpan, s: number): void {
    check.checkScale(x, s);
    this.#addon.scale(x.data, s);
  }

  dropout(x: FloatSpan, p: number, seed: number, mask: FloatSpan, out: FloatSpan): void {
    check.checkDropout(x, p, seed, mask, out);
    this.#addon.dropout(x.data, p, seed, mask.data, out.data);
  }

  multiply(a: FloatSpan, b: FloatSpan, out: FloatSpan): void {
    check.checkMultiply(a, b, out);
    this.#addon.multiply(a.data, b.data, out.data);
  }

  adagradUpdate(param: FloatSpan, grad: FloatSpan, sum: FloatSpan, lr: number, eps: number, weightDecay: number): void {
    check.checkAdagradUpdate(param, grad, sum, lr, eps, weightDecay);
    this.#addon.adagradUpdate(param.data, grad.data, sum.data, lr, eps, weightDecay);
  }

  sgdUpdate(param: FloatSpan, grad: FloatSpan, lr: number, weightDecay: number): void {
    check.checkSgdUpdate(param, grad, lr, weightDecay);
    this.#addon.sgdUpdate(param.data, grad.data, lr, weightDecay);
  }

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
  ): void {
    check.checkMomentumUpdate(param, grad, buf, lr, momentum, dampening, nesterov, weightDecay, first);
    this.#addon.momentumUpdate(param.data, grad.data, buf.data, lr, momentum, dampening, nesterov, weightDecay, first);
  }

  rmspropUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    sq: FloatSpan,
    lr: number,
    alpha: number,
    eps: number,
    weightDecay: number,
  ): void {
    check.checkRmspropUpdate(param, grad, sq, lr, alpha, eps, weightDecay);
    this.#addon.rmspropUpdate(param.data, grad.data, sq.data, lr, alpha, eps, weightDecay);
  }

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
  ): void {
    check.checkAdamUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    this.#addon.adamUpdate(param.data, grad.data, m.data, v.data, lr, beta1, beta2, eps, weightDecay, decoupled, step);
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
    check.checkSize('loadNativeBackend', 'threads', threads, 1);
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
