// cellBackward's optional output dhSteps [T,B,H]: the loss gradient w.r.t. every state h_t, which the
// reverse loop carries anyway (the gradient-flow view reads it). On the float64 reference backend it equals
// central differences of the loss with respect to a perturbed h_t (the forward re-run from that state on),
// for every cell, with and without packed lengths; wasm and native (every SIMD level × 1, 2, 3 threads, so
// also the split by hidden units) agree with the reference (test/kernel-suite.ts); a wrong length is refused
// alike everywhere.
import { describe, expect, it } from 'vitest';
import {
  CELL_KINDS,
  type CellKind,
  type FloatSpan,
  type IntSpan,
  Span,
  cacheWidth,
  gatesOf,
} from '../src/backend/types.js';
import { checkGradient, makeRandom, randomValues } from './helpers.js';
import {
  type CaseContext,
  badArgumentSuite,
  caseContext,
  compareWithReference,
  expectNativeLoads,
  reference64,
} from './kernel-suite.js';

expectNativeLoads();
const ref64 = reference64;

interface Case {
  kind: CellKind;
  T: number;
  B: number;
  H: number;
  lengths: number[] | null;
}

/** A layer's forward inputs and the backward's incoming gradients, as plain numbers (float32-exact). */
function inputs(c: Case, seed: number) {
  const random = makeRandom(seed),
    GH = gatesOf(c.kind) * c.H,
    f32 = (v: number[]) => v.map(Math.fround);
  const lstm = c.kind === 'lstm';
  return {
    xProj: f32(randomValues(random, c.T * c.B * GH)),
    wHh: f32(randomValues(random, GH * c.H, c.kind === 'rnn_relu' ? 0.4 : 0.9)),
    bIh: f32(randomValues(random, GH, 0.3)),
    bHh: f32(randomValues(random, GH, 0.3)),
    h0: f32(randomValues(random, c.B * c.H, 0.5)),
    c0: lstm ? f32(randomValues(random, c.B * c.H, 0.5)) : [],
    dhs: f32(randomValues(random, c.T * c.B * c.H)),
    dhN: f32(randomValues(random, c.B * c.H)),
    dcN: lstm ? f32(randomValues(random, c.B * c.H)) : [],
  };
}

const CASES: Case[] = CELL_KINDS.flatMap((kind) => [
  { kind, T: 5, B: 2, H: 3, lengths: null },
  { kind, T: 6, B: 3, H: 2, lengths: [6, 3, 0] },
]);

describe('dhSteps equals finite differences of the loss w.r.t. a perturbed h_t (reference, float64)', () => {
  it.each(CASES)('$kind T=$T B=$B H=$H lengths $lengths', (c) => {
    const { kind, T, B, H } = c,
      GH = gatesOf(kind) * H,
      BH = B * H,
      CW = cacheWidth(kind) * H,
      lstm = kind === 'lstm';
    const x = inputs(c, 7);
    const r = chainOutputs(caseContext(ref64).context, c, x);
    const dhSteps = Array.from(r.dhSteps.data);
    const length = (b: number): number => c.lengths?.[b] ?? T;
    // The loss whose gradient backward() computes: Σ_t <dhs_t, h_{t+1}> over running steps, plus <dhN, h_L>
    // and <dcN, c_L> at each stream's final state; only the terms from slot s on (the rest do not move).
    const lossFrom = (s: number): number => {
      let loss = 0;
      for (let b = 0; b < B; b++) {
        for (let t = s - 1; t < length(b); t++)
          for (let j = 0; j < H; j++) loss += x.dhs[(t * B + b) * H + j]! * r.hs.data[((t + 1) * B + b) * H + j]!;
        if (length(b) < s) continue;
        for (let j = 0; j < H; j++) {
          loss += x.dhN[b * H + j]! * r.hs.data[(length(b) * B + b) * H + j]!;
          if (lstm) loss += x.dcN[b * H + j]! * r.cs.data[(length(b) * B + b) * H + j]!;
        }
      }
      return loss;
    };
    for (let s = 1; s <= T; s++) {
      let lengthsFrom: IntSpan | null = null;
      if (c.lengths) {
        const buf = ref64.allocInt(B);
        buf.data.set(c.lengths.map((L) => Math.max(0, L - s)));
        lengthsFrom = Span.of(buf);
      }
      const rerun = (): number => {
        if (s < T) {
          const steps = T - s;
          ref64.cellForward(
            kind,
            steps,
            B,
            H,
            r.xProj.sub(s * B * GH, steps * B * GH),
            r.wHh,
            r.bIh,
            r.bHh,
            r.hs.sub(s * BH, (steps + 1) * BH),
            lstm ? r.cs.sub(s * BH, (steps + 1) * BH) : r.cs,
            r.cache.sub(s * B * CW, steps * B * CW),
            null,
            lengthsFrom,
          );
        }
        return lossFrom(s);
      };
      // Stream b's state at slot s exists only while s <= L_b; past that its gradient must be zero.
      const expected = dhSteps.slice((s - 1) * BH, s * BH);
      for (let b = 0; b < B; b++)
        if (s > length(b)) expect(expected.slice(b * H, (b + 1) * H)).toEqual(new Array<number>(H).fill(0));
      checkGradient(r.hs.data.subarray(s * BH, (s + 1) * BH), expected, rerun, `${kind} ∂L/∂h_${s}`);
    }
  });
});

/** The chain forward → backward on one backend through the suite's context, dhSteps starting as NaN (every
 *  row must be written). */
/** cellBackward's spans from wHh to dc0, in its argument order. */
type BackwardSpans = [
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
];

function chainOutputs(c: CaseContext, k: Case, x: ReturnType<typeof inputs>) {
  const { kind, T, B, H } = k,
    GH = gatesOf(kind) * H,
    BH = B * H,
    lstm = kind === 'lstm';
  const zeros = (n: number): number[] => new Array<number>(n).fill(0);
  const backward = c.floats(
    x.wHh,
    [...x.h0, ...zeros(T * BH)],
    lstm ? [...x.c0, ...zeros(T * BH)] : null,
    zeros(T * B * cacheWidth(kind) * H),
    x.dhs,
    x.dhN,
    x.dcN,
    zeros(T * B * GH),
    zeros(T * B * GH),
    zeros(BH),
    lstm ? zeros(BH) : null,
  ) as BackwardSpans;
  const [wHh, hs, cs, cache] = backward;
  const [xProj, bIh, bHh, dhSteps] = c.floats(x.xProj, x.bIh, x.bHh, new Array<number>(T * BH).fill(NaN));
  const [lengths] = k.lengths ? c.ints(k.lengths) : [null];
  c.backend.cellForward(kind, T, B, H, xProj!, wHh, bIh!, bHh!, hs, cs, cache, null, lengths);
  c.backend.cellBackward(kind, T, B, H, ...backward, null, null, lengths, dhSteps!);
  return { dhSteps: dhSteps!, hs, cs, cache, xProj: xProj!, wHh, bIh: bIh!, bHh: bHh! };
}

describe('every backend agrees with the float64 reference', () => {
  const WIDE: Case[] = CELL_KINDS.flatMap((kind) => [
    { kind, T: 7, B: 3, H: 40, lengths: null },
    { kind, T: 7, B: 4, H: 37, lengths: [7, 2, 5, 0] },
  ]);
  it.each(WIDE)('$kind T=$T B=$B H=$H lengths $lengths', (k) => {
    const x = inputs(k, 11);
    const chain = (c: CaseContext) => {
      const { dhSteps, hs, cs } = chainOutputs(c, k, x);
      return { dhSteps, hs, cs };
    };
    return compareWithReference(chain, [2e-5, 2e-4], {
      expected: (r) => expect(r['dhSteps']!.some((v) => v !== 0)).toBe(true),
    });
  });
});

badArgumentSuite('cellBackward dhSteps', [
  [
    'a dhSteps one element short',
    (c) => {
      const zeros = (n: number): number[] => new Array<number>(n).fill(0);
      const backward = c.floats(...[48, 32, 0, 96, 24, 8, 0, 72, 72, 8, 0].map(zeros)) as BackwardSpans;
      const [dhSteps] = c.floats(zeros(23));
      return () => c.backend.cellBackward('gru', 3, 2, 4, ...backward, null, null, null, dhSteps!);
    },
    RangeError,
    'cellBackward: dhSteps has 23 elements, expected 24',
  ],
]);
