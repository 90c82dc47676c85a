// Packed sequences (cellForward/cellBackward with lengths) and masked mean/max pooling, in the manner of
// ggml's test-backend-ops (test/kernel-suite.ts): every case runs on wasm and on native (every SIMD level this CPU has × 1, 2
// and 3 threads) against the float64 reference backend, never a backend against itself. Outputs start as
// NaN (so rows past a stream's end must really be written), inputs that must not be read (xProj and dhs
// rows past the end) are NaN, and every span sits between guards that must stay untouched. Then: native
// results are bit-identical across thread counts, bad arguments get the same error on every backend,
// and finite differences on the float64 reference confirm the masked gradients themselves.
// If the addon cannot be loaded these tests FAIL, unless RNNKIT_EXPECT_NO_NATIVE=1 is set.
import { describe, expect, it } from 'vitest';
import { loadNativeBackend } from '../src/backend/native.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import {
  type Backend,
  type Buf,
  CELL_KINDS,
  type CellKind,
  type FloatSpan,
  type IntSpan,
  POOL_MODES,
  type PoolMode,
  Span,
  cacheWidth,
  gatesOf,
} from '../src/backend/types.js';
import {
  type ErrorClass,
  expectClose,
  expectError,
  expectGuardsIntact,
  guardedIntSpans,
  guardedSpans,
  makeRandom,
  randomValues,
} from './helpers.js';
import {
  type BadArgument,
  NATIVE_LEVELS,
  badArgumentSuite,
  expectNativeLoads,
  kernelTargets,
  reference64,
} from './kernel-suite.js';

expectNativeLoads();

const ref64 = reference64;
const f32 = (values: number[]): number[] => values.map(Math.fround);
const nans = (n: number): number[] => new Array<number>(n).fill(NaN);
const values = (span: FloatSpan | IntSpan): number[] => Array.from(span.data);

/** Whether stream b runs step t. */
const running = (lengths: number[] | null, b: number, t: number): boolean => !lengths || t < lengths[b]!;

/** A [T,B,W] sequence with the rows past each stream's end set to NaN (they must not be read). */
function maskedRows(seq: number[], T: number, B: number, W: number, lengths: number[] | null): number[] {
  const out = seq.slice();
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) if (!running(lengths, b, t)) out.fill(NaN, (t * B + b) * W, (t * B + b + 1) * W);
  return out;
}

// ---- cells ------------------------------------------------------------------------------------------

interface CellCase {
  T: number;
  B: number;
  H: number;
  lengths: number[] | null;
  /** Rows of an xIds table (one-hot input), or 0 for an xProj sequence. */
  tableRows: number;
  /** Accumulate bias gradients (dbIh, dbHh pre-filled with values they add to). */
  sums: boolean;
}

// Native thresholds (native/cells.cc cell_split): B·G·H·H < 2^16 multiply-adds per step → one part; a W_hh
// of at most 512 KiB with B >= 12 → split by streams; otherwise split by hidden units with a barrier per
// step (lstm H >= 182, or any cell with B < 12 and enough work). B = 1 takes the GEMV path, T < 4 the
// transposed few-rows kernel (T = 1 with B >= 128: one GEMM), T >= 4 the packed W_hh.
const CELL_CASES: CellCase[] = [
  { T: 5, B: 4, H: 1, lengths: [0, 1, 5, 3], tableRows: 0, sums: true },
  { T: 3, B: 1, H: 3, lengths: [0], tableRows: 0, sums: true },
  { T: 6, B: 1, H: 17, lengths: [4], tableRows: 0, sums: false },
  { T: 3, B: 6, H: 17, lengths: [3, 0, 2, 1, 3, 0], tableRows: 0, sums: true },
  { T: 7, B: 5, H: 33, lengths: [7, 0, 1, 3, 7], tableRows: 11, sums: true },
  { T: 7, B: 5, H: 33, lengths: null, tableRows: 0, sums: true },
  { T: 20, B: 7, H: 3, lengths: [1, 20, 2, 0, 1, 3, 1], tableRows: 0, sums: true }, // one much longer
  { T: 5, B: 19, H: 64, lengths: [5, 0, 1, 5, 2, 3, 0, 5, 4, 1, 1, 5, 0, 2, 3, 5, 4, 0, 1], tableRows: 0, sums: true }, // by streams
  {
    T: 4,
    B: 19,
    H: 64,
    lengths: [0, 4, 1, 1, 2, 3, 0, 4, 4, 1, 1, 0, 0, 2, 3, 4, 4, 0, 1],
    tableRows: 23,
    sums: false,
  }, // by streams
  { T: 6, B: 5, H: 200, lengths: [6, 1, 0, 2, 6], tableRows: 0, sums: true }, // by units
  { T: 4, B: 13, H: 200, lengths: [1, 4, 0, 2, 4, 3, 0, 1, 4, 2, 1, 0, 3], tableRows: 9, sums: true }, // lstm by units, others by streams
  // Sorted longest first (PyTorch's packing order): the per-step GEMM shrinks to the running streams. Native
  // splits by units; wasm packs W_hh per step for lstm and gru (too large for its 4 MiB scratch).
  { T: 3, B: 5, H: 600, lengths: [3, 2, 1, 0, 0], tableRows: 0, sums: true },
  // One step over >= 128 streams (a beam search step): native multiplies W_hh with one GEMM split by rows, up
  // to the last running stream, then the gate functions by streams.
  {
    T: 1,
    B: 131,
    H: 40,
    lengths: Array.from({ length: 131 }, (_, b) => (b % 7 === 3 || b === 129 ? 0 : 1)),
    tableRows: 0,
    sums: true,
  },
];

const caseName = (c: CellCase): string =>
  `T=${c.T} B=${c.B} H=${c.H} lengths=${c.lengths ? `[${c.lengths.join(',')}]` : 'none'}${c.tableRows ? ' xIds' : ''}${c.sums ? ' bias sums' : ''}`;

interface CellInputs {
  xProj: number[];
  xIds: number[] | null;
  wHh: number[];
  bIh: number[];
  bHh: number[];
  hs: number[];
  cs: number[] | null;
  cache: number[];
  dhs: number[];
  dhN: number[];
  dcN: number[] | null;
  sums: number[] | null;
}

function cellInputs(kind: CellKind, c: CellCase): CellInputs {
  const { T, B, H, lengths } = c;
  const random = makeRandom(T * 7919 + B * 104729 + H * 13 + CELL_KINDS.indexOf(kind) + (c.tableRows ? 5 : 0));
  const GH = gatesOf(kind) * H,
    lstm = kind === 'lstm';
  const xIds = c.tableRows ? Array.from({ length: T * B }, () => Math.floor(random() * c.tableRows)) : null;
  const xProj = c.tableRows
    ? f32(randomValues(random, c.tableRows * GH))
    : maskedRows(f32(randomValues(random, T * B * GH)), T, B, GH, lengths);
  return {
    xProj,
    xIds,
    wHh: f32(randomValues(random, GH * H, 1.5 / Math.sqrt(H))),
    bIh: f32(randomValues(random, GH, 0.2)),
    bHh: f32(randomValues(random, GH, 0.2)),
    hs: [...f32(randomValues(random, B * H)), ...nans(T * B * H)],
    cs: lstm ? [...f32(randomValues(random, B * H, 2)), ...nans(T * B * H)] : null,
    cache: nans(T * B * cacheWidth(kind) * H),
    dhs: maskedRows(f32(randomValues(random, T * B * H)), T, B, H, lengths),
    dhN: f32(randomValues(random, B * H)),
    dcN: lstm ? f32(randomValues(random, B * H)) : null,
    sums: c.sums ? f32(randomValues(random, 2 * GH)) : null,
  };
}

interface CellResults {
  hs: number[];
  cs: number[];
  cache: number[];
  dGx: number[];
  dGh: number[];
  dh0: number[];
  dc0: number[];
  dbIh: number[];
  dbHh: number[];
}

/**
 * Forward on `x`'s inputs; backward on `state` (the reference's forward results: each pass is compared on
 * the same inputs). Checks the guards around every span after each call.
 */
function runCell(
  backend: Backend,
  kind: CellKind,
  c: CellCase,
  x: CellInputs,
  state: Pick<CellResults, 'hs' | 'cs' | 'cache'> | null,
): CellResults {
  const { T, B, H, lengths } = c;
  const GH = gatesOf(kind) * H,
    lstm = kind === 'lstm';
  const [ids, lens] = guardedIntSpans(backend, x.xIds, lengths);
  const fwd = guardedSpans(backend, x.xProj, x.wHh, x.bIh, x.bHh, x.hs, x.cs, x.cache);
  const [xProj, wHh, bIh, bHh, hs, cs, cache] = fwd;
  backend.cellForward(
    kind,
    T,
    B,
    H,
    xProj!,
    wHh!,
    bIh!,
    bHh!,
    hs!,
    cs!,
    cache!,
    x.xIds ? ids : null,
    lengths ? lens : null,
  );
  expectGuardsIntact(fwd, 'cellForward guards');
  expectGuardsIntact([ids!, lens!], 'cellForward int guards');
  const fwdOut = { hs: values(hs!), cs: values(cs!), cache: values(cache!) };

  const from = state ?? fwdOut;
  const bwd = guardedSpans(
    backend,
    x.wHh,
    from.hs,
    lstm ? from.cs : null,
    from.cache,
    x.dhs,
    x.dhN,
    x.dcN,
    nans(T * B * GH),
    nans(T * B * GH),
    nans(B * H),
    lstm ? nans(B * H) : null,
    x.sums ? x.sums.slice(0, GH) : null,
    x.sums ? x.sums.slice(GH) : null,
  );
  const [w2, hs2, cs2, cache2, dhs, dhN, dcN, dGx, dGh, dh0, dc0, dbIh, dbHh] = bwd;
  backend.cellBackward(
    kind,
    T,
    B,
    H,
    w2!,
    hs2!,
    cs2!,
    cache2!,
    dhs!,
    dhN!,
    dcN!,
    dGx!,
    dGh!,
    dh0!,
    dc0!,
    x.sums ? dbIh : null,
    x.sums ? dbHh : null,
    lengths ? lens : null,
  );
  expectGuardsIntact(bwd, 'cellBackward guards');
  expect(values(dhN!), 'dhN is not written').toEqual(Array.from(Float32Array.from(x.dhN)));
  if (lengths) expect(values(lens!), 'lengths are not written').toEqual(lengths);
  return {
    ...fwdOut,
    dGx: values(dGx!),
    dGh: values(dGh!),
    dh0: values(dh0!),
    dc0: values(dc0!),
    dbIh: values(dbIh!),
    dbHh: values(dbHh!),
  };
}

describe('cellForward and cellBackward with lengths match the float64 reference', () => {
  for (const kind of CELL_KINDS) {
    for (const c of CELL_CASES) {
      it(`${kind} ${caseName(c)}`, async () => {
        const x = cellInputs(kind, c);
        const expected = runCell(ref64, kind, c, x, null);
        // The spec itself: a finished stream's rows are zeros, its carried gradient passes through.
        for (let b = 0; b < c.B; b++) {
          for (let t = c.lengths?.[b] ?? c.T; t < c.T; t++) {
            expect(
              expected.hs.slice(((t + 1) * c.B + b) * c.H, ((t + 1) * c.B + b + 1) * c.H).every((v) => v === 0),
            ).toBe(true);
          }
          if (c.lengths?.[b] === 0)
            expect(expected.dh0.slice(b * c.H, (b + 1) * c.H)).toEqual(x.dhN.slice(b * c.H, (b + 1) * c.H));
        }
        const byLevel = new Map<string, CellResults>();
        for (const target of await kernelTargets()) {
          const got = runCell(target.backend, kind, c, x, expected);
          const tol: [number, number] = c.H >= 64 ? [3e-5, 3e-4] : [1e-5, 1e-4];
          for (const key of Object.keys(expected) as (keyof CellResults)[]) {
            expectClose(got[key], expected[key], ...tol, `${target.name} ${key}`);
          }
          const first = byLevel.get(target.level);
          if (!first) byLevel.set(target.level, got);
          else expect(got, `${target.name}: the same bits as on 1 thread`).toEqual(first);
        }
      });
    }
  }
});

// ---- pooling ----------------------------------------------------------------------------------------

interface PoolCase {
  T: number;
  B: number;
  D: number;
  lengths: number[];
  /** Values from {-1, 0, 1, 2} only, so that max pooling meets ties everywhere. */
  ties: boolean;
}

const POOL_CASES: PoolCase[] = [
  { T: 1, B: 1, D: 1, lengths: [1], ties: false },
  { T: 5, B: 3, D: 3, lengths: [1, 5, 3], ties: false },
  { T: 6, B: 4, D: 17, lengths: [6, 1, 2, 6], ties: true },
  { T: 30, B: 5, D: 33, lengths: [1, 30, 2, 1, 7], ties: false },
  { T: 9, B: 7, D: 33, lengths: [9, 1, 4, 9, 2, 1, 8], ties: true },
];

function runPool(
  backend: Backend,
  mode: PoolMode,
  c: PoolCase,
  x: number[],
  dOut: number[],
  argmaxIn: number[] | null,
): { out: number[]; argmax: number[]; dx: number[] } {
  const { T, B, D, lengths } = c;
  const argLength = mode === 'max' ? B * D : 0;
  const [lens, argmax, argmaxBack] = guardedIntSpans(
    backend,
    lengths,
    new Array<number>(argLength).fill(-5),
    argmaxIn ?? new Array<number>(argLength).fill(0),
  );
  const fwd = guardedSpans(backend, x, nans(B * D));
  backend.poolForward(mode, T, B, D, fwd[0]!, lens!, fwd[1]!, argmax!);
  expectGuardsIntact(fwd, 'poolForward guards');
  const bwd = guardedSpans(backend, dOut, nans(T * B * D));
  // backward from the reference's argmax when given (each pass compared on the same inputs)
  backend.poolBackward(mode, T, B, D, bwd[0]!, lens!, argmaxIn ? argmaxBack! : argmax!, bwd[1]!);
  expectGuardsIntact(bwd, 'poolBackward guards');
  expectGuardsIntact([lens!, argmax!, argmaxBack!], 'pool int guards');
  return { out: values(fwd[1]!), argmax: values(argmax!), dx: values(bwd[1]!) };
}

describe('poolForward and poolBackward match the float64 reference', () => {
  for (const mode of POOL_MODES) {
    for (const c of POOL_CASES) {
      it(`${mode} T=${c.T} B=${c.B} D=${c.D} lengths=[${c.lengths.join(',')}]${c.ties ? ' with ties' : ''}`, async () => {
        const random = makeRandom(c.T * 31 + c.B * 7 + c.D + (c.ties ? 1 : 0));
        const x = c.ties
          ? Array.from({ length: c.T * c.B * c.D }, () => Math.floor(random() * 4) - 1)
          : f32(randomValues(random, c.T * c.B * c.D));
        const dOut = f32(randomValues(random, c.B * c.D));
        const expected = runPool(ref64, mode, c, x, dOut, null);
        if (mode === 'max' && c.ties) {
          // the first step wins a tie: no earlier valid step holds the maximum
          for (let i = 0; i < c.B * c.D; i++) {
            const b = Math.floor(i / c.D),
              d = i % c.D;
            for (let t = 0; t < expected.argmax[i]!; t++)
              expect(x[(t * c.B + b) * c.D + d]).toBeLessThan(expected.out[i]!);
          }
        }
        for (const target of await kernelTargets()) {
          const got = runPool(target.backend, mode, c, x, dOut, mode === 'max' ? expected.argmax : null);
          if (mode === 'max') {
            expect(got.out, `${target.name} out`).toEqual(expected.out); // a max of float32 values is exact
            expect(got.argmax, `${target.name} argmax`).toEqual(expected.argmax);
            expect(got.dx, `${target.name} dx`).toEqual(expected.dx);
          } else {
            expectClose(got.out, expected.out, 1e-6, 1e-5, `${target.name} out`);
            expectClose(got.dx, expected.dx, 1e-7, 1e-6, `${target.name} dx`);
          }
        }
      });
    }
  }
});

// ---- bad arguments ----------------------------------------------------------------------------------

/** Valid arguments for T = 4, B = 3, H = 2 (rnn_tanh, lstm) and pooling with D = 2, with one part replaced. */
function cellForwardCall(backend: Backend, kind: CellKind, lengths: number[], alias = false): () => void {
  const T = 4,
    B = 3,
    H = 2,
    GH = gatesOf(kind) * H,
    lstm = kind === 'lstm';
  const [x, w, bi, bh, hs, cs, cache] = guardedSpans(
    backend,
    nans(T * B * GH),
    nans(GH * H),
    nans(GH),
    nans(GH),
    nans((T + 1) * B * H),
    lstm ? nans((T + 1) * B * H) : null,
    nans(T * B * cacheWidth(kind) * H),
  );
  const [lens] = guardedIntSpans(backend, lengths);
  return () =>
    backend.cellForward(kind, T, B, H, alias ? hs!.sub(0, T * B * GH) : x!, w!, bi!, bh!, hs!, cs!, cache!, null, lens);
}

function cellBackwardCall(backend: Backend, kind: CellKind, lengths: number[], alias = false): () => void {
  const T = 4,
    B = 3,
    H = 2,
    GH = gatesOf(kind) * H,
    lstm = kind === 'lstm';
  const [w, hs, cs, cache, dhs, dhN, dcN, dGx, dGh, dh0, dc0] = guardedSpans(
    backend,
    nans(GH * H),
    nans((T + 1) * B * H),
    lstm ? nans((T + 1) * B * H) : null,
    nans(T * B * cacheWidth(kind) * H),
    nans(T * B * H),
    nans(B * H),
    lstm ? nans(B * H) : null,
    nans(T * B * GH),
    nans(T * B * GH),
    nans(B * H),
    lstm ? nans(B * H) : null,
  );
  const [lens] = guardedIntSpans(backend, lengths);
  return () =>
    backend.cellBackward(
      kind,
      T,
      B,
      H,
      w!,
      hs!,
      cs!,
      cache!,
      alias ? dGx!.sub(0, T * B * H) : dhs!,
      dhN!,
      dcN!,
      dGx!,
      dGh!,
      dh0!,
      dc0!,
      null,
      null,
      lens,
    );
}

function poolCall(
  backend: Backend,
  kernel: 'poolForward' | 'poolBackward',
  mode: PoolMode,
  lengths: number[],
  argmax: number[],
  alias = false,
): () => void {
  const T = 4,
    B = 3,
    D = 2;
  const [x, out, dOut, dx] = guardedSpans(backend, nans(T * B * D), nans(B * D), nans(B * D), nans(T * B * D));
  const [lens, arg] = guardedIntSpans(backend, lengths, argmax);
  if (kernel === 'poolForward')
    return () => backend.poolForward(mode, T, B, D, x!, lens!, alias ? x!.sub(0, B * D) : out!, arg!);
  return () =>
    backend.poolBackward(mode, T, B, D, dOut!, lens!, arg!, alias ? new Span(dOut!.buf, dOut!.offset, T * B * D) : dx!);
}

const argOk = [0, 3, 1, 2, 3, 0];
const BAD_ARGUMENTS: [string, (backend: Backend) => () => void, ErrorClass, string][] = [
  [
    'cellForward lengths of B + 1',
    (backend) => cellForwardCall(backend, 'lstm', [4, 4, 4, 4]),
    RangeError,
    'cellForward: lengths has 4 elements, expected 3',
  ],
  [
    'cellForward lengths of B − 1',
    (backend) => cellForwardCall(backend, 'rnn_tanh', [4, 4]),
    RangeError,
    'cellForward: lengths has 2 elements, expected 3',
  ],
  [
    'cellForward a length −1',
    (backend) => cellForwardCall(backend, 'lstm', [4, -1, 0]),
    RangeError,
    'cellForward: length -1 of stream 1 is outside [0, 4]',
  ],
  [
    'cellForward a length T + 1',
    (backend) => cellForwardCall(backend, 'gru', [0, 4, 5]),
    RangeError,
    'cellForward: length 5 of stream 2 is outside [0, 4]',
  ],
  [
    'cellForward xProj aliasing hs',
    (backend) => cellForwardCall(backend, 'rnn_relu', [1, 2, 3], true),
    RangeError,
    'cellForward: output hs overlaps xProj',
  ],
  [
    'cellBackward lengths of B + 1',
    (backend) => cellBackwardCall(backend, 'gru', [1, 1, 1, 1]),
    RangeError,
    'cellBackward: lengths has 4 elements, expected 3',
  ],
  [
    'cellBackward a length −1',
    (backend) => cellBackwardCall(backend, 'lstm', [-1, 0, 0]),
    RangeError,
    'cellBackward: length -1 of stream 0 is outside [0, 4]',
  ],
  [
    'cellBackward a length T + 1',
    (backend) => cellBackwardCall(backend, 'rnn_tanh', [4, 5, 4]),
    RangeError,
    'cellBackward: length 5 of stream 1 is outside [0, 4]',
  ],
  [
    'cellBackward dGx aliasing dhs',
    (backend) => cellBackwardCall(backend, 'rnn_tanh', [4, 2, 0], true),
    RangeError,
    'cellBackward: output dGx overlaps dhs',
  ],
  [
    'poolForward an unknown mode',
    (backend) => poolCall(backend, 'poolForward', 'sum' as PoolMode, [1, 2, 3], []),
    TypeError,
    'poolForward: unknown pooling sum (expected one of mean, max)',
  ],
  [
    'poolForward lengths of B + 1',
    (backend) => poolCall(backend, 'poolForward', 'mean', [1, 2, 3, 4], []),
    RangeError,
    'poolForward: lengths has 4 elements, expected 3',
  ],
  [
    'poolForward a length 0',
    (backend) => poolCall(backend, 'poolForward', 'max', [1, 0, 3], argOk),
    RangeError,
    'poolForward: length 0 of stream 1 is outside [1, 4]',
  ],
  [
    'poolForward a length T + 1',
    (backend) => poolCall(backend, 'poolForward', 'mean', [1, 2, 5], []),
    RangeError,
    'poolForward: length 5 of stream 2 is outside [1, 4]',
  ],
  [
    'poolForward argmax of B·D − 1 for max',
    (backend) => poolCall(backend, 'poolForward', 'max', [1, 2, 3], argOk.slice(1)),
    RangeError,
    'poolForward: argmax has 5 elements, expected 6',
  ],
  [
    'poolForward an argmax for mean',
    (backend) => poolCall(backend, 'poolForward', 'mean', [1, 2, 3], argOk),
    RangeError,
    'poolForward: argmax has 6 elements, expected 0',
  ],
  [
    'poolForward out aliasing x',
    (backend) => poolCall(backend, 'poolForward', 'mean', [1, 2, 3], [], true),
    RangeError,
    'poolForward: output out overlaps x',
  ],
  [
    'poolBackward a length −1',
    (backend) => poolCall(backend, 'poolBackward', 'mean', [-1, 2, 3], []),
    RangeError,
    'poolBackward: length -1 of stream 0 is outside [1, 4]',
  ],
  [
    'poolBackward argmax T',
    (backend) => poolCall(backend, 'poolBackward', 'max', [4, 4, 4], [0, 3, 4, 2, 3, 0]),
    RangeError,
    'poolBackward: id 4 at position 2 is outside [0, 4)',
  ],
  [
    'poolBackward argmax −1',
    (backend) => poolCall(backend, 'poolBackward', 'max', [4, 4, 4], [0, 3, 1, 2, 3, -1]),
    RangeError,
    'poolBackward: id -1 at position 5 is outside [0, 4)',
  ],
  [
    'poolBackward dx aliasing dOut',
    (backend) => poolCall(backend, 'poolBackward', 'max', [4, 4, 4], argOk, true),
    RangeError,
    'poolBackward: output dx overlaps dOut',
  ],
];

badArgumentSuite(
  'packed sequences and pooling',
  BAD_ARGUMENTS.map(([what, call, type, message]): BadArgument => [
    what,
    ({ backend }) => call(backend),
    type,
    message,
  ]),
);

describe('bad arguments the reference cannot have', () => {
  it.skipIf(NATIVE_LEVELS.length === 0)(
    'native: lengths sharing memory with an output (an Int32Array over the same ArrayBuffer)',
    () => {
      const native = loadNativeBackend({ threads: 1 });
      const T = 2,
        B = 2,
        H = 2;
      const memory = new ArrayBuffer(4 * 64);
      const floatBuf = (offset: number, length: number): Buf<Float32Array> => ({
        length,
        data: new Float32Array(memory, 4 * offset, length),
      });
      const intBuf = (offset: number, length: number): Buf<Int32Array> => ({
        length,
        data: new Int32Array(memory, 4 * offset, length),
      });
      const hs = Span.of(floatBuf(0, (T + 1) * B * H));
      new Int32Array(memory, 4 * 6, B).set([1, 2]); // lengths inside hs' slot 1
      const lengths = Span.of(intBuf(6, B));
      const other = (n: number): FloatSpan => Span.of(native.allocFloat(n));
      expectError(
        () =>
          native.cellForward(
            'rnn_tanh',
            T,
            B,
            H,
            other(T * B * H),
            other(H * H),
            other(H),
            other(H),
            hs,
            other(0),
            other(0),
            null,
            lengths,
          ),
        RangeError,
        'cellForward: output hs overlaps lengths',
      );
      const dGx = Span.of(floatBuf(0, T * B * H));
      expectError(
        () =>
          native.cellBackward(
            'rnn_tanh',
            T,
            B,
            H,
            other(H * H),
            other((T + 1) * B * H),
            other(0),
            other(0),
            other(T * B * H),
            other(B * H),
            other(0),
            dGx,
            other(T * B * H),
            other(B * H),
            other(0),
            null,
            null,
            lengths,
          ),
        RangeError,
        'cellBackward: output dGx overlaps lengths',
      );
      const out = Span.of(floatBuf(0, B * H));
      new Int32Array(memory, 4 * 10, B).set([1, 2]);
      expectError(
        () =>
          native.poolForward('max', T, B, H, other(T * B * H), Span.of(intBuf(10, B)), out, Span.of(intBuf(2, B * H))),
        RangeError,
        'poolForward: output out overlaps argmax',
      );
    },
  );
});

// ---- finite differences on the float64 reference ----------------------------------------------------

/**
 * Loss = Σ R⊙hs[1..T] + Σ S⊙h_final + Σ Sc⊙c_final (lstm), with the final states gathered at hs[L_b, b]
 * (cs[L_b, b]). Its gradient by cellBackward (dhs = R, dhN = S, dcN = Sc) against central differences.
 */
describe('finite differences: the masked cell gradients on the float64 reference', () => {
  const backend = new ReferenceBackend({ dtype: 'f64' });
  const T = 4,
    H = 3;
  const lengths = [4, 0, 2, 1];
  const B = lengths.length;
  for (const kind of CELL_KINDS) {
    it(`${kind} T=${T} B=${B} H=${H} lengths=[${lengths.join(',')}]`, () => {
      const G = gatesOf(kind),
        GH = G * H,
        lstm = kind === 'lstm';
      const random = makeRandom(97 + CELL_KINDS.indexOf(kind));
      const params = {
        xProj: randomValues(random, T * B * GH),
        wHh: randomValues(random, GH * H, 0.8),
        bIh: randomValues(random, GH, 0.3),
        bHh: randomValues(random, GH, 0.3),
        h0: randomValues(random, B * H),
        c0: lstm ? randomValues(random, B * H) : [],
      };
      const R = randomValues(random, T * B * H),
        S = randomValues(random, B * H),
        Sc = lstm ? randomValues(random, B * H) : [];
      const span = (v: number[]): FloatSpan => {
        const buf = backend.allocFloat(v.length);
        buf.data.set(v);
        return Span.of(buf);
      };
      const lens = Span.of(backend.allocInt(B));
      lens.data.set(lengths);
      const forward = (p: typeof params): { hs: FloatSpan; cs: FloatSpan; cache: FloatSpan; loss: number } => {
        const hs = span([...p.h0, ...new Array<number>(T * B * H).fill(0)]),
          cs = span(lstm ? [...p.c0, ...new Array<number>(T * B * H).fill(0)] : []);
        const cache = span(new Array<number>(T * B * cacheWidth(kind) * H).fill(0));
        backend.cellForward(
          kind,
          T,
          B,
          H,
          span(p.xProj),
          span(p.wHh),
          span(p.bIh),
          span(p.bHh),
          hs,
          cs,
          cache,
          null,
          lens,
        );
        let loss = 0;
        for (let i = 0; i < T * B * H; i++) loss += R[i]! * hs.data[B * H + i]!;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < H; j++) {
            const at = (lengths[b]! * B + b) * H + j;
            loss += S[b * H + j]! * hs.data[at]! + (lstm ? Sc[b * H + j]! * cs.data[at]! : 0);
          }
        }
        return { hs, cs, cache, loss };
      };
      const { hs, cs, cache } = forward(params);
      const [dGx, dGh, dh0, dc0, dbIh, dbHh] = [T * B * GH, T * B * GH, B * H, lstm ? B * H : 0, GH, GH].map((n) =>
        span(new Array<number>(n).fill(0)),
      );
      backend.cellBackward(
        kind,
        T,
        B,
        H,
        span(params.wHh),
        hs,
        cs,
        cache,
        span(R),
        span(S),
        span(Sc),
        dGx!,
        dGh!,
        dh0!,
        dc0!,
        dbIh!,
        dbHh!,
        lens,
      );
      // dW_hh = Σ_t dGh_tᵀ·h_{t−1}
      const dwHh = new Float64Array(GH * H);
      for (let row = 0; row < T * B; row++) {
        for (let r = 0; r < GH; r++)
          for (let j = 0; j < H; j++) dwHh[r * H + j]! += dGh!.data[row * GH + r]! * hs.data[row * H + j]!;
      }
      const analytic: Record<keyof typeof params, ArrayLike<number>> = {
        xProj: dGx!.data,
        wHh: dwHh,
        bIh: dbIh!.data,
        bHh: dbHh!.data,
        h0: dh0!.data,
        c0: dc0!.data,
      };
      const eps = 1e-6;
      for (const name of Object.keys(params) as (keyof typeof params)[]) {
        const numeric = params[name].map((_, i) => {
          const shifted = (delta: number): number =>
            forward({ ...params, [name]: params[name].map((v, k) => (k === i ? v + delta : v)) }).loss;
          return (shifted(eps) - shifted(-eps)) / (2 * eps);
        });
        expectClose(Array.from(analytic[name]), numeric, 1e-7, 1e-6, `${kind} d${name}`);
      }
      // rows past the end: no gradient into the unread inputs
      for (let b = 0; b < B; b++) {
        for (let t = lengths[b]!; t < T; t++)
          expect(Array.from(dGx!.data.subarray((t * B + b) * GH, (t * B + b + 1) * GH)).every((v) => v === 0)).toBe(
            true,
          );
      }
    });
  }
});

describe('finite differences: pooling on the float64 reference', () => {
  const backend = new ReferenceBackend({ dtype: 'f64' });
  const T = 5,
    D = 3,
    lengths = [5, 1, 3];
  const B = lengths.length;
  for (const mode of POOL_MODES) {
    it(`${mode} T=${T} B=${B} D=${D} lengths=[${lengths.join(',')}]`, () => {
      const random = makeRandom(mode === 'mean' ? 5 : 6);
      const x = randomValues(random, T * B * D),
        W = randomValues(random, B * D); // distinct values: no ties
      const lens = Span.of(backend.allocInt(B));
      lens.data.set(lengths);
      const argmax = Span.of(backend.allocInt(mode === 'max' ? B * D : 0));
      const loss = (input: number[]): number => {
        const xs = Span.of(backend.allocFloat(input.length)),
          out = Span.of(backend.allocFloat(B * D));
        xs.data.set(input);
        backend.poolForward(mode, T, B, D, xs, lens, out, argmax);
        return Array.from(out.data).reduce((sum, v, i) => sum + W[i]! * v, 0);
      };
      loss(x); // leaves argmax for x
      const dOut = Span.of(backend.allocFloat(B * D)),
        dx = Span.of(backend.allocFloat(T * B * D));
      dOut.data.set(W);
      backend.poolBackward(mode, T, B, D, dOut, lens, argmax, dx);
      const eps = 1e-6;
      const numeric = x.map(
        (_, i) =>
          (loss(x.map((v, k) => (k === i ? v + eps : v))) - loss(x.map((v, k) => (k === i ? v - eps : v)))) / (2 * eps),
      );
      expectClose(Array.from(dx.data), numeric, 1e-8, 1e-6, `${mode} dx`);
    });
  }
});
