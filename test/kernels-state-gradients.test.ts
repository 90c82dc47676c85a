// cellBackward's optional output dhSteps [T,B,H]: the loss gradient w.r.t. every state h_t, which the
// reverse loop carries anyway (the gradient-flow view reads it). On the float64 reference backend it equals
// central differences of the loss with respect to a perturbed h_t (the forward re-run from that state on),
// for every cell, with and without packed lengths; wasm and native (every SIMD level × 1, 2, 3 threads, so
// also the split by hidden units) agree with the reference; a wrong length is refused alike everywhere.
import { describe, expect, it } from 'vitest';
import { loadNativeBackend } from '../src/backend/native.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import {
  type Backend,
  CELL_KINDS,
  type CellKind,
  type F,
  type I,
  Span,
  cacheWidth,
  gatesOf,
} from '../src/backend/types.js';
import { loadWasmBackend } from '../src/backend/wasm.js';
import { tryLoadNativeAddon } from './backends.js';
import { checkGradient, expectClose, makeRandom, randomValues } from './helpers.js';

const expectNoNative = process.env['RNNKIT_EXPECT_NO_NATIVE'] === '1';
const { addon, loadError, levels } = tryLoadNativeAddon();
const ref64 = new ReferenceBackend({ dtype: 'f64' });

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

/** Runs forward then backward on `be` with dhSteps requested; returns dhSteps and the forward's spans. */
function run(be: Backend, c: Case, x: ReturnType<typeof inputs>) {
  const { kind, T, B, H } = c,
    GH = gatesOf(kind) * H,
    BH = B * H,
    lstm = kind === 'lstm';
  const span = (values: number[] | number): F => {
    const data = typeof values === 'number' ? new Array<number>(values).fill(0) : values;
    const buf = be.allocFloat(data.length);
    buf.data.set(data);
    return Span.of(buf);
  };
  const hs = span([...x.h0, ...new Array<number>(T * BH).fill(0)]);
  const cs = span(lstm ? [...x.c0, ...new Array<number>(T * BH).fill(0)] : []);
  const cache = span(T * B * cacheWidth(kind) * H);
  const xProj = span(x.xProj),
    wHh = span(x.wHh),
    bIh = span(x.bIh),
    bHh = span(x.bHh);
  let lengths: I | null = null;
  if (c.lengths) {
    const buf = be.allocInt(B);
    buf.data.set(c.lengths);
    lengths = Span.of(buf);
  }
  be.cellForward(kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache, null, lengths);
  const dhSteps = span(new Array<number>(T * BH).fill(NaN)); // every row must be written
  be.cellBackward(
    kind,
    T,
    B,
    H,
    wHh,
    hs,
    cs,
    cache,
    span(x.dhs),
    span(x.dhN),
    span(x.dcN),
    span(T * B * GH),
    span(T * B * GH),
    span(BH),
    span(lstm ? BH : 0),
    null,
    null,
    lengths,
    dhSteps,
  );
  return { dhSteps: Array.from(dhSteps.data), hs, cs, cache, xProj, wHh, bIh, bHh };
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
    const r = run(ref64, c, x);
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
      let lengthsFrom: I | null = null;
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
      const expected = r.dhSteps.slice((s - 1) * BH, s * BH);
      for (let b = 0; b < B; b++)
        if (s > length(b)) expect(expected.slice(b * H, (b + 1) * H)).toEqual(new Array<number>(H).fill(0));
      checkGradient(r.hs.data.subarray(s * BH, (s + 1) * BH), expected, rerun, `${kind} ∂L/∂h_${s}`);
    }
  });
});

const TOLERANCE = { abs: 2e-5, rel: 2e-4 };

async function targets(): Promise<{ name: string; backend: Backend }[]> {
  const list = [{ name: 'wasm', backend: (await loadWasmBackend()) as Backend }];
  for (const simd of levels)
    for (const threads of [1, 2, 3])
      list.push({ name: `native ${simd}/${threads}`, backend: loadNativeBackend({ simd, threads }) });
  return list;
}

describe('every backend agrees with the float64 reference', () => {
  it.skipIf(expectNoNative && !addon)('the native addon loads', () => {
    if (!addon) throw loadError;
  });

  const WIDE: Case[] = CELL_KINDS.flatMap((kind) => [
    { kind, T: 7, B: 3, H: 40, lengths: null },
    { kind, T: 7, B: 4, H: 37, lengths: [7, 2, 5, 0] },
  ]);
  it.each(WIDE)('$kind T=$T B=$B H=$H lengths $lengths', async (c) => {
    const x = inputs(c, 11);
    const expected = run(ref64, c, x).dhSteps;
    expect(expected.some((v) => v !== 0)).toBe(true);
    for (const { name, backend } of await targets())
      expectClose(run(backend, c, x).dhSteps, expected, TOLERANCE.abs, TOLERANCE.rel, `${name} dhSteps`);
  });

  it('a dhSteps of the wrong length is refused alike everywhere, naming the kernel and the argument', async () => {
    const attempt = (be: Backend): string => {
      const z = (n: number): F => Span.of(be.allocFloat(n));
      try {
        be.cellBackward(
          'gru',
          3,
          2,
          4,
          z(48),
          z(32),
          z(0),
          z(96),
          z(24),
          z(8),
          z(0),
          z(72),
          z(72),
          z(8),
          z(0),
          null,
          null,
          null,
          z(23),
        );
      } catch (error) {
        expect(error).toBeInstanceOf(RangeError);
        return (error as Error).message;
      }
      return 'accepted';
    };
    const message = attempt(ref64);
    expect(message).toMatch(/cellBackward.*dhSteps/);
    for (const { name, backend } of await targets()) expect(attempt(backend), name).toBe(message);
  });
});
