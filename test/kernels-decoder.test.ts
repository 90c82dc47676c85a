// The attention decoder loop (Backend.decoderForward / decoderBackward) and the beam-search kernels (topK,
// logSoftmax) on every backend configuration against the float64 reference (test/kernel-suite.ts: wasm, both
// builds, and native at every SIMD level × 1, 2 and 3 threads, bit-identical across thread counts).
// Shapes: B = 1, 3, 5 rows with uneven source lengths (length 1 and full length among them), S up to 9,
// H not a multiple of any SIMD width (3, 17, 33) and large enough for native's thread split by units (100,
// 130), 1 and 2 layers, every cell kind. Outputs start as NaN, padding positions must get exactly zero
// attention, and running T = 1 steps with the state carried between calls gives the T-step call's results.
// The PyTorch parity of the loop is test/decoder-pytorch.test.ts; finite differences decoder-gradcheck.test.ts.
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import {
  type Backend,
  CELL_KINDS,
  type CellKind,
  type DecoderLayer,
  type DecoderLayerGrads,
  type FloatSpan,
  Span,
  cacheWidth,
  gatesOf,
} from '../src/backend/types.js';
import { tryLoadNativeAddon } from './backends.js';
import { expectClose, expectError, makeRandom, randomValues } from './helpers.js';
import {
  type BadArgument,
  type CaseContext,
  type Outputs,
  badArgumentSuite,
  caseContext,
  compareWithReference,
  expectNativeLoads,
  kernelTargets,
  referenceResults,
  reference64,
} from './kernel-suite.js';

expectNativeLoads();

interface Shape {
  kind: CellKind;
  L: number;
  T: number;
  B: number;
  S: number;
  E: number;
  H: number;
  M: number;
  lengths: number[];
}

const SHAPES: Omit<Shape, 'kind'>[] = [
  { L: 1, T: 3, B: 1, S: 1, E: 2, H: 3, M: 5, lengths: [1] },
  { L: 2, T: 4, B: 3, S: 9, E: 5, H: 17, M: 6, lengths: [9, 1, 4] },
  { L: 1, T: 5, B: 5, S: 7, E: 4, H: 33, M: 66, lengths: [7, 3, 1, 7, 2] },
  { L: 2, T: 2, B: 3, S: 4, E: 7, H: 100, M: 200, lengths: [2, 4, 1] },
  { L: 1, T: 3, B: 5, S: 6, E: 3, H: 130, M: 130, lengths: [6, 5, 1, 2, 6] },
  { L: 2, T: 0, B: 3, S: 4, E: 2, H: 5, M: 3, lengths: [4, 1, 2] }, // no steps: the states pass through
  // A beam search's many rows: native steps the cells with one GEMM each and splits the copies and tanh.
  { L: 1, T: 2, B: 320, S: 3, E: 7, H: 100, M: 200, lengths: Array.from({ length: 320 }, (_, b) => 1 + (b % 3)) },
];

const nans = (n: number): number[] => new Array<number>(n).fill(NaN);
const name = (s: Shape): string =>
  `${s.kind} L=${s.L} T=${s.T} B=${s.B} S=${s.S} E=${s.E} H=${s.H} M=${s.M} lengths=${s.lengths.length > 9 ? `${s.lengths.slice(0, 6).join(',')},…` : s.lengths.join(',')}`;

/** Every input of one case as plain numbers. */
function decoderInputs(s: Shape) {
  const { kind, L, T, B, S, E, H, M } = s;
  const random = makeRandom(T * 7919 + B * 104729 + H * 13 + S * 31 + L + CELL_KINDS.indexOf(kind));
  const GH = gatesOf(kind) * H,
    lstm = kind === 'lstm';
  const w = 1 / Math.sqrt(H);
  return {
    layers: Array.from({ length: L }, (_, l) => ({
      wIh: randomValues(random, GH * (l === 0 ? E + H : H), w),
      wHh: randomValues(random, GH * H, w),
      bIh: randomValues(random, GH, 0.2),
      bHh: randomValues(random, GH, 0.2),
      h0: randomValues(random, B * H, 0.5),
      c0: lstm ? randomValues(random, B * H, 0.5) : null,
      dhN: randomValues(random, B * H),
      dcN: lstm ? randomValues(random, B * H) : null,
      dbIh: randomValues(random, GH), // bias gradients accumulate into these
      dbHh: randomValues(random, GH),
    })),
    embedded: randomValues(random, T * B * E),
    keys: randomValues(random, S * B * H, 3 / Math.sqrt(H)), // scores of a few units: peaked softmaxes too
    memory: randomValues(random, S * B * M),
    wCombine: randomValues(random, H * (M + H), 1 / Math.sqrt(M + H)),
    feed0: randomValues(random, B * H, 0.5),
    dFeeds: randomValues(random, T * B * H),
  };
}
type Inputs = ReturnType<typeof decoderInputs>;

/** The forward record and states as plain numbers (a backward case's starting point). */
type State = Record<string, ArrayLike<number>>;

/** The layers' spans: weights from x, states from `state` (or the initial states followed by NaN). */
function layerSpans(c: CaseContext, s: Shape, x: Inputs, state: State | null): DecoderLayer[] {
  const { kind, T, B, H } = s;
  const lstm = kind === 'lstm';
  return x.layers.map((layer, l) => {
    const [wIh, wHh, bIh, bHh, hs, cs, cache] = c.floats(
      layer.wIh,
      layer.wHh,
      layer.bIh,
      layer.bHh,
      state?.[`hs${l}`] ?? [...layer.h0, ...nans(T * B * H)],
      lstm ? (state?.[`cs${l}`] ?? [...layer.c0!, ...nans(T * B * H)]) : null,
      state?.[`cache${l}`] ?? nans(T * B * cacheWidth(kind) * H),
    );
    return { wIh: wIh!, wHh: wHh!, bIh: bIh!, bHh: bHh!, hs: hs!, cs: cs!, cache: cache! };
  });
}

function shared(c: CaseContext, s: Shape, x: Inputs, state: State | null) {
  const { T, B, S, E, H, M } = s;
  const [keys, memory, wCombine, input0, attention, combined, feeds] = c.floats(
    x.keys,
    x.memory,
    x.wCombine,
    state?.['input0'] ?? nans(T * B * (E + H)),
    state?.['attention'] ?? nans(T * B * S),
    state?.['combined'] ?? nans(T * B * (M + H)),
    state?.['feeds'] ?? [...x.feed0, ...nans(T * B * H)],
  );
  const [sourceLengths] = c.ints(s.lengths);
  return {
    mem: { keys: keys!, memory: memory!, sourceLengths: sourceLengths! },
    wCombine: wCombine!,
    rec: { input0: input0!, attention: attention!, combined: combined!, feeds: feeds! },
  };
}

/** The attention weights at padding positions (s >= the row's length): must be exactly zero. */
function padded(s: Shape, attention: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let t = 0; t < s.T; t++)
    for (let b = 0; b < s.B; b++)
      for (let p = s.lengths[b]!; p < s.S; p++) out.push(attention[(t * s.B + b) * s.S + p]!);
  return out;
}

function forward(s: Shape, x: Inputs) {
  return (c: CaseContext) => {
    const layers = layerSpans(c, s, x, null);
    const { mem, wCombine, rec } = shared(c, s, x, null);
    const [embedded] = c.floats(x.embedded);
    c.backend.decoderForward(s, layers, embedded!, mem, wCombine, rec);
    const out: Outputs = { ...rec, padding: padded(s, rec.attention.data), embedded: embedded!, keys: mem.keys };
    layers.forEach((layer, l) =>
      Object.assign(out, { [`hs${l}`]: layer.hs, [`cs${l}`]: layer.cs, [`cache${l}`]: layer.cache }),
    );
    return out;
  };
}

/** Backward from the reference's forward state, or (state null) after the backend's own forward pass. */
function backward(s: Shape, x: Inputs, state: State | null) {
  return (c: CaseContext) => {
    const { kind, T, B, S, E, H, M } = s;
    const GH = gatesOf(kind) * H,
      lstm = kind === 'lstm';
    const layers = layerSpans(c, s, x, state);
    const { mem, wCombine, rec } = shared(c, s, x, state);
    if (!state) c.backend.decoderForward(s, layers, c.floats(x.embedded)[0]!, mem, wCombine, rec);
    const [dFeeds] = c.floats(x.dFeeds);
    const dhN: FloatSpan[] = [],
      dcN: FloatSpan[] = [];
    const grads: DecoderLayerGrads[] = x.layers.map((layer) => {
      const [h, cN, dGx, dGh, dh0, dc0, dbIh, dbHh] = c.floats(
        layer.dhN,
        layer.dcN,
        nans(T * B * GH),
        nans(T * B * GH),
        nans(B * H),
        lstm ? nans(B * H) : null,
        layer.dbIh,
        layer.dbHh,
      );
      dhN.push(h!);
      dcN.push(cN!);
      return { dGx: dGx!, dGh: dGh!, dh0: dh0!, dc0: dc0!, dbIh: dbIh!, dbHh: dbHh! };
    });
    const [dEmbedded, dKeys, dMemory, dCombine, dFeed0] = c.floats(
      nans(T * B * E),
      nans(S * B * H),
      nans(S * B * M),
      nans(T * B * H),
      nans(B * H),
    );
    const out = { dEmbedded: dEmbedded!, dKeys: dKeys!, dMemory: dMemory!, dCombine: dCombine!, dFeed0: dFeed0! };
    c.backend.decoderBackward(s, layers, mem, wCombine, rec, dFeeds!, dhN, dcN, grads, out);
    const result: Outputs = { ...out, dFeeds: dFeeds!, feeds: rec.feeds };
    grads.forEach((g, l) => {
      for (const [key, span] of Object.entries(g)) result[`${key}${l}`] = span;
      result[`dhN${l}`] = dhN[l]!;
    });
    return result;
  };
}

const tolerance = (H: number): [number, number] => (H >= 64 ? [5e-5, 5e-4] : [2e-5, 2e-4]);
const exact = [0, 0] as const;

describe('decoderForward and decoderBackward match the float64 reference', () => {
  for (const kind of CELL_KINDS) {
    for (const base of SHAPES) {
      const s: Shape = { kind, ...base };
      it(name(s), async () => {
        const x = decoderInputs(s);
        await compareWithReference(forward(s, x), tolerance(s.H), {
          per: { padding: exact, embedded: exact, keys: exact },
          expected: (r) => expect(r['padding']!.every((v) => v === 0)).toBe(true),
        });
        const state = referenceResults(forward(s, x));
        await compareWithReference(backward(s, x, state), tolerance(s.H), {
          per: { dFeeds: exact, feeds: exact, ...Object.fromEntries(x.layers.map((_, l) => [`dhN${l}`, exact])) },
        });
      });
    }
  }

  it('a forward + backward chain on each backend alone matches the chain on the reference (lstm, gru)', async () => {
    for (const kind of ['lstm', 'gru'] as const) {
      const s: Shape = { kind, ...SHAPES[1]! };
      await compareWithReference(backward(s, decoderInputs(s), null), [1e-4, 1e-3], {
        per: { dFeeds: exact },
      });
    }
  });
});

// ---- inference: T = 1 per call, the state carried by the caller -------------------------------------

/** Runs T steps as T calls of one step, copying slot 1 of every state into slot 0 of the next call's
 *  buffers (what beam search does through gatherRows); returns what the T-step call would return. */
function stepByStep(backend: Backend, s: Shape, x: Inputs) {
  const { kind, T, B, E, H } = s;
  const lstm = kind === 'lstm';
  const c = caseContext(backend).context;
  const one: Shape = { ...s, T: 1 };
  const layers = layerSpans(c, one, x, null);
  const { mem, wCombine, rec } = shared(c, one, x, null);
  const [embedded] = c.floats(x.embedded);
  const hs = x.layers.map(() => [] as number[]),
    cs = x.layers.map(() => [] as number[]);
  const feeds: number[] = Array.from(rec.feeds.data.subarray(0, B * H)),
    attention: number[] = [];
  layers.forEach((layer, l) => {
    hs[l]!.push(...layer.hs.data.subarray(0, B * H));
    if (lstm) cs[l]!.push(...layer.cs.data.subarray(0, B * H));
  });
  for (let t = 0; t < T; t++) {
    backend.decoderForward(one, layers, embedded!.sub(t * B * E, B * E), mem, wCombine, rec);
    attention.push(...rec.attention.data);
    feeds.push(...rec.feeds.data.subarray(B * H));
    backend.gatherRows(B, H, identity(c, B), rec.feeds.sub(B * H, B * H), rec.feeds.sub(0, B * H));
    layers.forEach((layer, l) => {
      hs[l]!.push(...layer.hs.data.subarray(B * H));
      backend.gatherRows(B, H, identity(c, B), layer.hs.sub(B * H, B * H), layer.hs.sub(0, B * H));
      if (!lstm) return;
      cs[l]!.push(...layer.cs.data.subarray(B * H));
      backend.gatherRows(B, H, identity(c, B), layer.cs.sub(B * H, B * H), layer.cs.sub(0, B * H));
    });
  }
  return { feeds, attention, hs, cs };
}

function identity(c: CaseContext, B: number) {
  return c.ints(Array.from({ length: B }, (_, b) => b))[0]!;
}

describe('one step per call with the state carried gives the T-step call', () => {
  it('on the reference (bit for bit) and on every engine (within float32 rounding)', async () => {
    const backends = [{ name: 'reference f64', backend: reference64 as Backend }, ...(await kernelTargets())];
    for (const kind of CELL_KINDS) {
      for (const base of [SHAPES[1]!, SHAPES[2]!]) {
        const s: Shape = { kind, ...base };
        const x = decoderInputs(s);
        for (const { name: target, backend } of backends) {
          const whole = forward(s, x)(caseContext(backend).context);
          const steps = stepByStep(backend, s, x);
          const [abs, rel] = backend === reference64 ? [0, 0] : [2e-6, 2e-5];
          const what = `${target} ${name(s)}`;
          expectClose(steps.feeds, (whole['feeds'] as FloatSpan).data, abs, rel, `${what}: feeds`);
          expectClose(steps.attention, (whole['attention'] as FloatSpan).data, abs, rel, `${what}: attention`);
          x.layers.forEach((_, l) => {
            expectClose(steps.hs[l]!, (whole[`hs${l}`] as FloatSpan).data, abs, rel, `${what}: hs${l}`);
            expectClose(steps.cs[l]!, (whole[`cs${l}`] as FloatSpan).data, abs, rel, `${what}: cs${l}`);
          });
        }
      }
    }
  });
});

// ---- topK and logSoftmax ----------------------------------------------------------------------------

function topKCase(N: number, V: number, K: number, scores: number[]) {
  return ({ backend, floats, ints }: CaseContext) => {
    const [x, values] = floats(scores, nans(N * K));
    const [indices] = ints(new Array<number>(N * K).fill(-1));
    backend.topK(N, V, K, x!, values!, indices!);
    return { values: values!, indices: indices!, scores: x! };
  };
}

describe('topK', () => {
  it('takes the K largest in descending order, ties to the lower index, NaN first (torch.topk)', () => {
    for (const backend of [new ReferenceBackend(), reference64]) {
      const { values, indices } = topKCase(2, 6, 4, [1, 3, 3, -1, 3, 2, NaN, 0, NaN, 5, -Infinity, 5])(
        caseContext(backend).context,
      );
      expect(Array.from(values.data)).toEqual([3, 3, 3, 2, NaN, NaN, 5, 5]);
      expect(Array.from(indices.data)).toEqual([1, 2, 4, 5, 0, 2, 3, 5]);
    }
  });

  const random = makeRandom(17);
  // Scores rounded to quarters: many ties within a row.
  const cases: [N: number, V: number, K: number][] = [
    [0, 5, 2],
    [1, 1, 1],
    [3, 7, 1],
    [3, 7, 7],
    [5, 40, 5],
    [17, 215, 5],
    [2, 1000, 12],
    [70, 33, 33],
  ];
  for (const [N, V, K] of cases) {
    it(`N=${N} V=${V} K=${K}${K === V ? ' (K = V: a full sort)' : ''}: the same on every backend`, async () => {
      const scores = Array.from({ length: N * V }, () => Math.round((random() * 2 - 1) * 8) / 4);
      await compareWithReference(topKCase(N, V, K, scores), [0, 0]);
    });
  }
});

describe('logSoftmax', () => {
  const random = makeRandom(23);
  for (const [N, V, scale] of [
    [1, 1, 1],
    [3, 7, 1],
    [5, 43, 10],
    [33, 300, 30],
    [0, 4, 1],
  ] as const) {
    it(`N=${N} V=${V} logits up to ±${scale}`, async () => {
      const logits = randomValues(random, N * V, scale);
      await compareWithReference(
        ({ backend, floats }) => {
          const [x, out] = floats(logits, nans(N * V));
          backend.logSoftmax(N, V, x!, out!);
          return { out: out!, x: x! };
        },
        [2e-6, 2e-6],
        {
          per: { x: exact },
          expected: (r) => {
            for (let n = 0; n < N; n++) {
              let sum = 0;
              for (let v = 0; v < V; v++) sum += Math.exp(r['out']![n * V + v]!);
              expect(sum).toBeCloseTo(1, 12);
            }
          },
        },
      );
    });
  }
});

// ---- bad arguments ----------------------------------------------------------------------------------

const SMALL: Shape = { kind: 'gru', L: 2, T: 2, B: 2, S: 3, E: 2, H: 2, M: 3, lengths: [3, 1] };

/** decoderForward on SMALL with `change` applied to its arguments first. */
function forwardCall(
  change: (a: {
    s: Shape;
    layers: DecoderLayer[];
    embedded: FloatSpan;
    args: ReturnType<typeof shared>;
    c: CaseContext;
  }) => void,
) {
  return (c: CaseContext) => {
    const s = { ...SMALL, lengths: [...SMALL.lengths] };
    const x = decoderInputs(s);
    const layers = layerSpans(c, s, x, null);
    const args = shared(c, s, x, null);
    const [embedded] = c.floats(x.embedded);
    const a = { s, layers, embedded: embedded!, args, c };
    change(a);
    return () => c.backend.decoderForward(a.s, a.layers, a.embedded, a.args.mem, a.args.wCombine, a.args.rec);
  };
}

/** decoderBackward on SMALL (its reference forward state) with `change` applied first. */
function backwardCall(
  change: (a: {
    grads: DecoderLayerGrads[];
    dhN: FloatSpan[];
    out: { dKeys: FloatSpan; dFeed0: FloatSpan };
    dFeeds: FloatSpan;
    feeds: FloatSpan;
  }) => void,
) {
  return (c: CaseContext) => {
    const s = SMALL;
    const x = decoderInputs(s);
    const layers = layerSpans(c, s, x, null);
    const args = shared(c, s, x, null);
    const GH = gatesOf(s.kind) * s.H,
      { T, B, S, E, H, M } = s;
    const [dFeeds] = c.floats(x.dFeeds);
    const dhN: FloatSpan[] = [],
      dcN: FloatSpan[] = [];
    const grads = x.layers.map(() => {
      const f = c.floats(nans(B * H), null, nans(T * B * GH), nans(T * B * GH), nans(B * H), null, nans(GH), nans(GH));
      dhN.push(f[0]!);
      dcN.push(f[1]!);
      return { dGx: f[2]!, dGh: f[3]!, dh0: f[4]!, dc0: f[5]!, dbIh: f[6]!, dbHh: f[7]! };
    });
    const o = c.floats(nans(T * B * E), nans(S * B * H), nans(S * B * M), nans(T * B * H), nans(B * H));
    const out = { dEmbedded: o[0]!, dKeys: o[1]!, dMemory: o[2]!, dCombine: o[3]!, dFeed0: o[4]! };
    const a = { grads, dhN, out, dFeeds: dFeeds!, feeds: args.rec.feeds };
    change(a);
    return () =>
      c.backend.decoderBackward(s, layers, args.mem, args.wCombine, args.rec, a.dFeeds, a.dhN, dcN, a.grads, {
        ...out,
        ...a.out,
      });
  };
}

const BAD_ARGUMENTS: BadArgument[] = [
  [
    'an unknown kind',
    forwardCall((a) => (a.s.kind = 'GRU' as CellKind)),
    TypeError,
    'decoderForward: unknown cell kind GRU (expected one of rnn_tanh, rnn_relu, lstm, gru)',
  ],
  ['B 0', forwardCall((a) => (a.s.B = 0)), RangeError, 'decoderForward: expected an integer >= 1 for B but received 0'],
  [
    'S 1.5',
    forwardCall((a) => (a.s.S = 1.5)),
    RangeError,
    'decoderForward: expected an integer >= 1 for S but received 1.5',
  ],
  [
    'no layers',
    forwardCall((a) => (a.layers = [])),
    RangeError,
    'decoderForward: expected an array of at least one layer',
  ],
  [
    "layer 0's wIh without the feed columns",
    forwardCall((a) => (a.layers[0] = { ...a.layers[0]!, wIh: a.layers[0]!.wIh.sub(0, 12) })),
    RangeError,
    'decoderForward: layers[0].wIh has 12 elements, expected 24',
  ],
  [
    "layer 1's hs one slot short",
    forwardCall((a) => (a.layers[1] = { ...a.layers[1]!, hs: a.layers[1]!.hs.sub(0, 8) })),
    RangeError,
    'decoderForward: layers[1].hs has 8 elements, expected 12',
  ],
  [
    'cs for a cell without one',
    forwardCall((a) => (a.layers[0] = { ...a.layers[0]!, cs: a.layers[0]!.hs.sub(0, 2) })),
    RangeError,
    'decoderForward: layers[0].cs has 2 elements, expected 0',
  ],
  [
    'a source length 0',
    forwardCall((a) => (a.args.mem.sourceLengths.data[1] = 0)),
    RangeError,
    'decoderForward: sourceLengths[1] = 0 is outside [1, 3]',
  ],
  [
    'a source length past S',
    forwardCall((a) => (a.args.mem.sourceLengths.data[0] = 4)),
    RangeError,
    'decoderForward: sourceLengths[0] = 4 is outside [1, 3]',
  ],
  [
    'keys of the wrong size',
    forwardCall((a) => (a.args.mem.keys = a.args.mem.keys.sub(0, 11))),
    RangeError,
    'decoderForward: keys has 11 elements, expected 12',
  ],
  [
    'embedded of the wrong size',
    forwardCall((a) => (a.embedded = a.embedded.sub(1, 7))),
    RangeError,
    'decoderForward: embedded has 7 elements, expected 8',
  ],
  [
    'a plain array for memory',
    forwardCall((a) => (a.args.mem.memory = { data: new Float32Array(18), length: 18 } as unknown as FloatSpan)),
    TypeError,
    'decoderForward: memory is not a Span (make spans with Span.of, new Span or sub)',
  ],
  [
    'feeds overlapping hs',
    forwardCall((a) => (a.args.rec.feeds = a.layers[0]!.hs)),
    RangeError,
    'decoderForward: output layers[0].hs overlaps feeds',
  ],
  [
    'attention written over the memory',
    forwardCall((a) => (a.args.rec.attention = a.args.mem.memory.sub(0, 12))),
    RangeError,
    'decoderForward: output attention overlaps memory',
  ],
  [
    'dhN for one layer of two',
    backwardCall((a) => a.dhN.pop()),
    RangeError,
    'decoderBackward: expected arrays of 2 entries (one per layer) for dhN, dcN and grads',
  ],
  [
    'dGx one step short',
    backwardCall((a) => (a.grads[1] = { ...a.grads[1]!, dGx: a.grads[1]!.dGx.sub(0, 12) })),
    RangeError,
    'decoderBackward: grads[1].dGx has 12 elements, expected 24',
  ],
  [
    'dFeeds of the wrong size',
    backwardCall((a) => (a.dFeeds = a.dFeeds.sub(0, 4))),
    RangeError,
    'decoderBackward: dFeeds has 4 elements, expected 8',
  ],
  [
    'dFeed0 written over the feeds',
    backwardCall((a) => (a.out.dFeed0 = a.feeds.sub(0, 4))),
    RangeError,
    'decoderBackward: output dFeed0 overlaps feeds',
  ],
  [
    'dKeys shared with dh0',
    backwardCall((a) => (a.out.dKeys = new Span(a.grads[0]!.dh0.buf, a.grads[0]!.dh0.offset, 12))),
    RangeError,
    'decoderBackward: output grads[0].dh0 overlaps dKeys',
  ],
  [
    'topK with K > V',
    ({ backend, floats, ints }) => {
      const [x, v] = floats(nans(6), nans(8));
      const [i] = ints(nans(8).map(() => 0));
      return () => backend.topK(2, 3, 4, x!, v!, i!);
    },
    RangeError,
    'topK: K = 4 is larger than V = 3',
  ],
  [
    'topK with K 0',
    ({ backend, floats, ints }) => {
      const [x, v] = floats(nans(6), []);
      const [i] = ints([]);
      return () => backend.topK(2, 3, 0, x!, v!, i!);
    },
    RangeError,
    'topK: expected an integer >= 1 for K but received 0',
  ],
  [
    'topK indices too short',
    ({ backend, floats, ints }) => {
      const [x, v] = floats(nans(6), nans(4));
      const [i] = ints([0, 0, 0]);
      return () => backend.topK(2, 3, 2, x!, v!, i!);
    },
    RangeError,
    'topK: indices has 3 elements, expected 4',
  ],
  [
    'topK values over the scores',
    ({ backend, floats, ints }) => {
      const [x] = floats(nans(6));
      const [i] = ints([0, 0]);
      return () => backend.topK(2, 3, 1, x!, x!.sub(4, 2), i!);
    },
    RangeError,
    'topK: output values overlaps scores',
  ],
  [
    'logSoftmax in place',
    ({ backend, floats }) => {
      const [x] = floats(nans(6));
      return () => backend.logSoftmax(2, 3, x!, x!);
    },
    RangeError,
    'logSoftmax: output out overlaps x',
  ],
  [
    'logSoftmax V 0',
    ({ backend, floats }) => {
      const [x, out] = floats([], []);
      return () => backend.logSoftmax(2, 0, x!, out!);
    },
    RangeError,
    'logSoftmax: expected an integer >= 1 for V but received 0',
  ],
];

badArgumentSuite('decoderForward, decoderBackward, topK, logSoftmax', BAD_ARGUMENTS);

// ---- the addon validates its flattened arguments itself ----------------------------------------------

const { addon } = tryLoadNativeAddon();
describe.skipIf(!addon)('the native addon checks the decoder arguments it receives', () => {
  /** The arguments NativeBackend passes for SMALL (1 layer), with `change` applied to the list. */
  function call(kernel: 'decoderForward', change: (list: unknown[]) => void): () => void {
    const { T, B, S, E, H, M } = SMALL;
    const GH = 3 * H;
    const f = (n: number) => new Float32Array(n);
    const list: unknown[] = [
      'gru',
      T,
      B,
      S,
      E,
      H,
      M,
      1,
      f(GH * (E + H)),
      f(GH * H),
      f(GH),
      f(GH),
      f((T + 1) * B * H),
      f(0),
      f(T * B * 4 * H),
    ];
    list.push(
      f(S * B * H),
      f(S * B * M),
      Int32Array.of(3, 1),
      f(H * (M + H)),
      f(T * B * (E + H)),
      f(T * B * S),
      f(T * B * (M + H)),
      f((T + 1) * B * H),
      f(T * B * E),
    );
    change(list);
    return () => (addon![kernel] as (...a: unknown[]) => void)(...list);
  }
  // The addon checks only what protects memory (CONTRIBUTING.md); its messages are one line naming the kernel.
  it('lengths, source lengths, types and aliasing', () => {
    expectError(
      call('decoderForward', (l) => (l[8] = new Float32Array(3))),
      RangeError,
      'decoderForward: layers[0].wIh has 3 elements, expected 24',
    );
    expectError(
      call('decoderForward', (l) => (l[17] = Int32Array.of(3, 4))),
      RangeError,
      'decoderForward: sourceLengths[1] = 4 is outside [1, 3]',
    );
    expectError(
      call('decoderForward', (l) => (l[15] = new Float64Array(12))),
      TypeError,
      'decoderForward: expected a Float32Array for keys but received Float64Array',
    );
    expectError(
      call('decoderForward', (l) => (l[22] = l[12])),
      RangeError,
      'decoderForward: output layers[0].hs overlaps feeds',
    );
    expectError(
      call('decoderForward', (l) => (l[7] = 0)),
      RangeError,
      'decoderForward: expected an integer >= 1 for L',
    );
  });
});
