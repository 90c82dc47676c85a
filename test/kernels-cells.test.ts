// cellForward and cellBackward (rnn_tanh, rnn_relu, lstm, gru) on every backend configuration against the
// float64 reference (test/kernel-suite.ts). The forward pass is compared on the same inputs; the backward
// pass on the reference's forward state (so each pass is compared on the same inputs: relu's derivative at 0
// would otherwise differ), and once as a chain on each backend's own forward results. Outputs start as NaN.
// Shapes [T, B, H]: T = 1, batch sizes that are not multiples of the micro-tile rows, H across the vector
// widths and the 16-unit split. Native: B·G·H·H >= 65536 splits over threads, by units when W_hh is large or
// B < 12, by streams otherwise ([·, 13, 40], [·, 33, 64]); B = 1 takes the GEMV path, T < 4 the transposed
// few-rows kernel (T = 1 with B >= 128: one GEMM over all streams), T >= 4 the packed W_hh. Wasm: B = 6, 5 a full and a partial 4-row tile of the packed W_hh,
// B < 4 W_hh unpacked, H = 257, 513 K blocks of 256 and partial 8-column panels.
// Packed sequences (lengths) are in kernels-sequences.test.ts.
import { describe, expect, it } from 'vitest';
import { CELL_KINDS, type CellKind, cacheWidth, gatesOf } from '../src/backend/types.js';
import { makeRandom, randomValues } from './helpers.js';
import {
  type BadArgument,
  type CaseContext,
  badArgumentSuite,
  caseContext,
  compareWithReference,
  expectNativeLoads,
  kernelTargets,
  referenceResults,
  reference64,
} from './kernel-suite.js';

expectNativeLoads();

const SHAPES: [T: number, B: number, H: number][] = [
  [1, 1, 1],
  [1, 3, 17],
  [5, 1, 3],
  [4, 2, 3],
  [17, 2, 5],
  [4, 3, 33],
  [3, 5, 33],
  [2, 2, 100],
  [3, 2, 100],
  [2, 5, 100],
  [4, 5, 100],
  [2, 3, 257],
  [4, 3, 257],
  [2, 6, 257],
  [3, 1, 257],
  [2, 5, 513],
  [2, 3, 513],
  [3, 7, 130],
  [4, 7, 130],
  [2, 13, 72],
  [5, 13, 72],
  [3, 1, 100],
  [1, 128, 24],
  [1, 133, 257],
  [4, 1, 300],
  [4, 13, 40],
  [3, 33, 64],
  [5, 33, 64],
];

const nans = (n: number): number[] => new Array<number>(n).fill(NaN);

/** Inputs of one case; `xScale` 40 saturates the gates. */
function cellInputs(kind: CellKind, T: number, B: number, H: number, xScale: number) {
  const random = makeRandom(T * 7919 + B * 104729 + H * 13 + CELL_KINDS.indexOf(kind) + xScale);
  const GH = gatesOf(kind) * H,
    lstm = kind === 'lstm';
  return {
    xProj: randomValues(random, T * B * GH, xScale),
    wHh: randomValues(random, GH * H, 1.5 / Math.sqrt(H)),
    bIh: randomValues(random, GH, 0.2),
    bHh: randomValues(random, GH, 0.2),
    hs: [...randomValues(random, B * H), ...nans(T * B * H)],
    cs: lstm ? [...randomValues(random, B * H, 2), ...nans(T * B * H)] : null,
    dhs: randomValues(random, T * B * H),
    dhN: randomValues(random, B * H),
    dcN: lstm ? randomValues(random, B * H) : null,
    dbIh: randomValues(random, GH),
    dbHh: randomValues(random, GH), // the bias gradients accumulate into these
  };
}
type CellInputs = ReturnType<typeof cellInputs>;

function forward(kind: CellKind, T: number, B: number, H: number, x: CellInputs) {
  return ({ backend, floats }: CaseContext) => {
    const [xProj, wHh, bIh, bHh, hs, cs, cache] = floats(
      x.xProj,
      x.wHh,
      x.bIh,
      x.bHh,
      x.hs,
      x.cs,
      nans(T * B * cacheWidth(kind) * H),
    );
    backend.cellForward(kind, T, B, H, xProj!, wHh!, bIh!, bHh!, hs!, cs!, cache!);
    return { hs: hs!, cs: cs!, cache: cache!, xProj: xProj! };
  };
}

/** Backward from the given forward state; with `chain`, forward first on the backend itself. */
function backward(
  kind: CellKind,
  T: number,
  B: number,
  H: number,
  x: CellInputs,
  state: { hs: ArrayLike<number>; cs: ArrayLike<number>; cache: ArrayLike<number> } | null,
) {
  return (context: CaseContext) => {
    const { backend, floats } = context;
    const own = state ? null : forward(kind, T, B, H, x)(context);
    const GH = gatesOf(kind) * H,
      lstm = kind === 'lstm';
    const [wHh, hs, cs, cache, dhs, dhN, dcN, dGx, dGh, dh0, dc0, dbIh, dbHh] = floats(
      x.wHh,
      state?.hs ?? [],
      lstm ? (state?.cs ?? []) : null,
      state?.cache ?? [],
      x.dhs,
      x.dhN,
      x.dcN,
      nans(T * B * GH),
      nans(T * B * GH),
      nans(B * H),
      lstm ? nans(B * H) : null,
      x.dbIh,
      x.dbHh,
    );
    backend.cellBackward(
      kind,
      T,
      B,
      H,
      wHh!,
      own ? own.hs : hs!,
      own ? own.cs : cs!,
      own ? own.cache : cache!,
      dhs!,
      dhN!,
      dcN!,
      dGx!,
      dGh!,
      dh0!,
      dc0!,
      dbIh!,
      dbHh!,
    );
    return {
      ...(own ? { hs: own.hs, cs: own.cs } : {}),
      dGx: dGx!,
      dGh: dGh!,
      dh0: dh0!,
      dc0: dc0!,
      dbIh: dbIh!,
      dbHh: dbHh!,
      dhN: dhN!,
      dhs: dhs!,
    };
  };
}

const tolerance = (H: number): [number, number] => (H >= 64 ? [3e-5, 3e-4] : [1e-5, 1e-4]);
const unchanged = { xProj: [0, 0], dhN: [0, 0], dhs: [0, 0] } as const;

describe('cellForward and cellBackward match the float64 reference', () => {
  const cases: [T: number, B: number, H: number, xScale: number][] = [
    ...SHAPES.map(([T, B, H]) => [T, B, H, 1] as [number, number, number, number]),
    [3, 2, 19, 40],
  ];
  for (const kind of CELL_KINDS) {
    for (const [T, B, H, xScale] of cases) {
      it(`${kind} T=${T} B=${B} H=${H}${xScale > 1 ? ' saturated gates (pre-activations up to ±40)' : ''}`, async () => {
        const x = cellInputs(kind, T, B, H, xScale);
        await compareWithReference(forward(kind, T, B, H, x), tolerance(H), { per: unchanged });
        const state = referenceResults(forward(kind, T, B, H, x));
        await compareWithReference(
          backward(kind, T, B, H, x, { hs: state['hs']!, cs: state['cs']!, cache: state['cache']! }),
          tolerance(H),
          { per: unchanged },
        );
      });
    }
  }

  it('a forward + backward chain on each backend alone matches the chain on the reference (lstm, gru)', async () => {
    for (const kind of ['lstm', 'gru'] as const) {
      const x = cellInputs(kind, 6, 2, 9, 1);
      // each backend's backward runs on its own forward results: errors compound
      await compareWithReference(backward(kind, 6, 2, 9, x, null), [3e-5, 3e-4], { per: unchanged });
    }
  });
});

// ---- one-hot input: cellForward with xIds reads rows of a table W_ihᵀ ---------------------------------

// [T, B, H, table rows]: native splits [4, 33, 64] by streams and [4, 5, 100] by units over 2 threads.
const ID_SHAPES: [number, number, number, number][] = [
  [1, 1, 3, 2],
  [3, 2, 17, 5],
  [4, 5, 100, 7],
  [4, 33, 64, 89],
];

/** hs, cs and cache after a forward pass whose input projection is the table + ids, or the gathered sequence. */
function forwardByIds(kind: CellKind, T: number, B: number, H: number, R: number, byIds: boolean) {
  const random = makeRandom(T * 31 + B * 7 + H + R);
  const GH = gatesOf(kind) * H,
    lstm = kind === 'lstm';
  const table = randomValues(random, R * GH).map(Math.fround);
  const ids = Array.from({ length: T * B }, () => Math.floor(random() * R));
  const sequence = ids.flatMap((id) => table.slice(id * GH, (id + 1) * GH));
  const wHh = randomValues(random, GH * H, 1 / Math.sqrt(H)),
    bIh = randomValues(random, GH, 0.2),
    bHh = randomValues(random, GH, 0.2);
  const h0 = randomValues(random, B * H),
    c0 = randomValues(random, B * H);
  return ({ backend, floats, ints }: CaseContext) => {
    const [xIds] = ints(ids);
    const [x, w, bi, bh, hs, cs, cache] = floats(
      byIds ? table : sequence,
      wHh,
      bIh,
      bHh,
      [...h0, ...nans(T * B * H)],
      lstm ? [...c0, ...nans(T * B * H)] : null,
      nans(T * B * cacheWidth(kind) * H),
    );
    backend.cellForward(kind, T, B, H, x!, w!, bi!, bh!, hs!, cs!, cache!, byIds ? xIds : null);
    return { hs: hs!, cs: cs!, cache: cache!, xIds: xIds! };
  };
}

describe('cellForward reads its input projection by id', () => {
  for (const kind of CELL_KINDS) {
    for (const [T, B, H, R] of ID_SHAPES) {
      it(`${kind} T=${T} B=${B} H=${H} table rows=${R}: matches the float64 reference`, async () => {
        await compareWithReference(forwardByIds(kind, T, B, H, R, true), tolerance(H), { per: { xIds: [0, 0] } });
      });
    }
  }

  it('gives the same bits as the gathered sequence on every backend', async () => {
    const backends = [{ name: 'reference f64', backend: reference64 }, ...(await kernelTargets())];
    for (const { name, backend } of backends) {
      for (const kind of CELL_KINDS) {
        for (const [T, B, H, R] of ID_SHAPES) {
          const run = (byIds: boolean) => {
            const outputs = forwardByIds(kind, T, B, H, R, byIds)(caseContext(backend).context);
            return [outputs.hs, outputs.cs, outputs.cache].map((s) => Array.from(s.data));
          };
          expect(run(true), `${name} ${kind} T=${T} B=${B} H=${H}`).toEqual(run(false));
        }
      }
    }
  });
});

// ---- bad arguments (packed-sequence lengths: kernels-sequences.test.ts) -------------------------------

/** cellForward with spans of these lengths (and xIds when given). */
function forwardCall(kind: CellKind, T: number, B: number, H: number, lengths: number[], xIds: number[] | null = null) {
  return ({ backend, floats, ints }: CaseContext) => {
    const [xProj, wHh, bIh, bHh, hs, cs, cache] = floats(...lengths.map(nans));
    const [ids] = ints(xIds);
    return () => backend.cellForward(kind, T, B, H, xProj!, wHh!, bIh!, bHh!, hs!, cs!, cache!, xIds ? ids : null);
  };
}

/** cellBackward with spans of these lengths (dbIh, dbHh when given). */
function backwardCall(kind: CellKind, T: number, B: number, H: number, lengths: number[]) {
  return ({ backend, floats }: CaseContext) => {
    const s = floats(...lengths.map(nans));
    return () =>
      backend.cellBackward(
        kind,
        T,
        B,
        H,
        s[0]!,
        s[1]!,
        s[2]!,
        s[3]!,
        s[4]!,
        s[5]!,
        s[6]!,
        s[7]!,
        s[8]!,
        s[9]!,
        s[10]!,
        s[11] ?? null,
        s[12] ?? null,
      );
  };
}

const BAD_ARGUMENTS: BadArgument[] = [
  [
    'an unknown kind',
    forwardCall('LSTM' as CellKind, 1, 1, 1, [4, 4, 4, 4, 2, 2, 4]),
    TypeError,
    'cellForward: unknown cell kind LSTM (expected one of rnn_tanh, rnn_relu, lstm, gru)',
  ],
  [
    'T 0',
    forwardCall('lstm', 0, 1, 1, [4, 4, 4, 4, 2, 2, 4]),
    RangeError,
    'cellForward: expected an integer >= 1 for T but received 0',
  ],
  [
    'H 0',
    forwardCall('lstm', 1, 1, 0, [0, 0, 0, 0, 2, 2, 0]),
    RangeError,
    'cellForward: expected an integer >= 1 for H but received 0',
  ],
  [
    'wHh too short',
    forwardCall('gru', 2, 1, 2, [12, 10, 6, 6, 6, 0, 16]),
    RangeError,
    'cellForward: wHh has 10 elements, expected 12',
  ],
  [
    'cache too short',
    forwardCall('gru', 2, 1, 2, [12, 12, 6, 6, 6, 0, 12]),
    RangeError,
    'cellForward: cache has 12 elements, expected 16',
  ],
  [
    'cs for a cell without one',
    forwardCall('rnn_tanh', 2, 1, 2, [4, 4, 2, 2, 6, 6, 0]),
    RangeError,
    'cellForward: cs has 6 elements, expected 0',
  ],
  [
    'T·B·G·H past 2^64',
    forwardCall('lstm', 2 ** 21, 2 ** 21, 2 ** 20, [4, 4, 4, 4, 2, 2, 4]),
    RangeError,
    `cellForward: xProj has 4 elements, expected ${2 ** 21 * 2 ** 21 * 2 ** 22}`,
  ],
  [
    'xIds too short',
    forwardCall('lstm', 1, 2, 1, [12, 4, 4, 4, 4, 4, 8], [0]),
    RangeError,
    'cellForward: xIds has 1 elements, expected 2',
  ],
  [
    'a table of part of a row',
    forwardCall('lstm', 1, 2, 1, [10, 4, 4, 4, 4, 4, 8], [0, 1]),
    RangeError,
    'cellForward: table xProj of 10 elements is not a whole number of 4-element rows',
  ],
  [
    'an empty table',
    forwardCall('lstm', 1, 2, 1, [0, 4, 4, 4, 4, 4, 8], [0, 0]),
    RangeError,
    'cellForward: table xProj of 0 elements is not a whole number of 4-element rows',
  ],
  [
    'an id past the table',
    forwardCall('lstm', 1, 2, 1, [12, 4, 4, 4, 4, 4, 8], [0, 3]),
    RangeError,
    'cellForward: id 3 at position 1 is outside [0, 3)',
  ],
  [
    'hs overlapping cache',
    ({ backend, floats }) => {
      const [xProj, wHh, bIh, bHh, shared] = floats(nans(6), nans(3), nans(3), nans(3), nans(12));
      return () =>
        backend.cellForward(
          'gru',
          2,
          1,
          1,
          xProj!,
          wHh!,
          bIh!,
          bHh!,
          shared!.sub(0, 3),
          shared!.sub(0, 0),
          shared!.sub(2, 8),
        );
    },
    RangeError,
    'cellForward: output hs overlaps cache',
  ],
  [
    'hs overlapping xProj',
    ({ backend, floats }) => {
      const [wHh, bIh, bHh, shared] = floats(nans(1), nans(1), nans(1), nans(12));
      return () =>
        backend.cellForward(
          'rnn_tanh',
          2,
          1,
          1,
          shared!.sub(4, 2),
          wHh!,
          bIh!,
          bHh!,
          shared!.sub(2, 3),
          shared!.sub(0, 0),
          shared!.sub(0, 0),
        );
    },
    RangeError,
    'cellForward: output hs overlaps xProj',
  ],
  [
    'cellBackward: dcN missing for lstm',
    backwardCall('lstm', 1, 1, 1, [4, 2, 2, 4, 1, 1, 0, 4, 4, 1, 1]),
    RangeError,
    'cellBackward: dcN has 0 elements, expected 1',
  ],
  [
    'cellBackward: dh0 too short',
    backwardCall('gru', 1, 2, 2, [12, 8, 0, 16, 4, 4, 0, 12, 12, 3, 0]),
    RangeError,
    'cellBackward: dh0 has 3 elements, expected 4',
  ],
  [
    'cellBackward: dbIh too short',
    backwardCall('gru', 1, 2, 2, [12, 8, 0, 16, 4, 4, 0, 12, 12, 4, 0, 5, 6]),
    RangeError,
    'cellBackward: dbIh has 5 elements, expected 6',
  ],
  [
    'cellBackward: dbHh too long',
    backwardCall('gru', 1, 2, 2, [12, 8, 0, 16, 4, 4, 0, 12, 12, 4, 0, 6, 7]),
    RangeError,
    'cellBackward: dbHh has 7 elements, expected 6',
  ],
  [
    'cellBackward: wHh of 4·H²·4 past 2^53',
    backwardCall('lstm', 2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1, [16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    RangeError,
    `cellBackward: wHh has 16 elements, expected ${4 * (2 ** 31 - 1) ** 2}`,
  ],
  [
    'cellBackward: dc0 overlapping dcN',
    ({ backend, floats }) => {
      const [wHh, hs, cs, cache, dhs, dhN, dGx, dGh, dh0, shared] = floats(
        nans(4),
        nans(2),
        nans(2),
        nans(4),
        nans(1),
        nans(1),
        nans(4),
        nans(4),
        nans(1),
        nans(4),
      );
      return () =>
        backend.cellBackward(
          'lstm',
          1,
          1,
          1,
          wHh!,
          hs!,
          cs!,
          cache!,
          dhs!,
          dhN!,
          shared!.sub(1, 1),
          dGx!,
          dGh!,
          dh0!,
          shared!.sub(1, 1),
        );
    },
    RangeError,
    'cellBackward: output dc0 overlaps dcN',
  ],
  [
    'cellBackward: dGx overlapping dGh',
    ({ backend, floats }) => {
      const [wHh, hs, cache, dhs, dhN, dh0, shared] = floats(
        nans(3),
        nans(2),
        nans(4),
        nans(1),
        nans(1),
        nans(1),
        nans(8),
      );
      return () =>
        backend.cellBackward(
          'gru',
          1,
          1,
          1,
          wHh!,
          hs!,
          shared!.sub(0, 0),
          cache!,
          dhs!,
          dhN!,
          shared!.sub(0, 0),
          shared!.sub(0, 3),
          shared!.sub(2, 3),
          dh0!,
          shared!.sub(0, 0),
        );
    },
    RangeError,
    'cellBackward: output dGx overlaps dGh',
  ],
  [
    'cellBackward: dGx overlapping dbHh',
    ({ backend, floats }) => {
      const [wHh, hs, cs, cache, dhs, dhN, dcN, dGh, dh0, dc0, shared] = floats(
        nans(4),
        nans(2),
        nans(2),
        nans(4),
        nans(1),
        nans(1),
        nans(1),
        nans(4),
        nans(1),
        nans(1),
        nans(8),
      );
      return () =>
        backend.cellBackward(
          'lstm',
          1,
          1,
          1,
          wHh!,
          hs!,
          cs!,
          cache!,
          dhs!,
          dhN!,
          dcN!,
          shared!.sub(0, 4),
          dGh!,
          dh0!,
          dc0!,
          null,
          shared!.sub(3, 4),
        );
    },
    RangeError,
    'cellBackward: output dGx overlaps dbHh',
  ],
];

badArgumentSuite('cellForward and cellBackward', BAD_ARGUMENTS);
