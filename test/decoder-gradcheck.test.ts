// The attention decoder loop (reference, float64): every gradient equals central finite differences of
// loss = Σ R⊙h~_1..T + Σ_l S_l⊙h^l_T (+ Σ Sc_l⊙c^l_T), on uneven source lengths, for every cell.
import { describe, expect, test } from 'vitest';
import {
  type DecoderLayer,
  type DecoderMemory,
  type DecoderRecord,
  type DecoderShape,
  decoderForward,
} from '../src/backend/reference-decoder.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type CellKind, type FloatSpan, type IntSpan, Span, cacheWidth, gatesOf } from '../src/backend/types.js';
import { Random } from '../src/util/random.js';
import { decoderGradients } from './decoder-helpers.js';

const backend = new ReferenceBackend({ dtype: 'f64' });
const floats = (n: number): FloatSpan => Span.of(backend.allocFloat(n));

function setup(kind: CellKind, L: number, seed: number) {
  const shape: DecoderShape = { kind, T: 3, B: 3, S: 4, E: 2, H: 3, M: 4 };
  const { T, B, S, E, H, M } = shape,
    GH = gatesOf(kind) * H;
  const rng = new Random(seed);
  const random = (n: number, scale = 1): FloatSpan => {
    const f = floats(n);
    for (let i = 0; i < n; i++) f.data[i] = (rng.uniform() * 2 - 1) * scale;
    return f;
  };
  const layers: DecoderLayer[] = Array.from({ length: L }, (_, l) => ({
    wIh: random(GH * (l === 0 ? E + H : H), 0.7),
    wHh: random(GH * H, 0.7),
    bIh: random(GH, 0.5),
    bHh: random(GH, 0.5),
    hs: random((T + 1) * B * H),
    cs: kind === 'lstm' ? random((T + 1) * B * H) : floats(0),
    cache: floats(T * B * cacheWidth(kind) * H),
  }));
  const lengths = Span.of(backend.allocInt(B)) as IntSpan;
  lengths.data.set([4, 1, 3]);
  const mem: DecoderMemory = { keys: random(S * B * H), memory: random(S * B * M), sourceLengths: lengths };
  const rec: DecoderRecord = {
    input0: floats(T * B * (E + H)),
    attention: floats(T * B * S),
    combined: floats(T * B * (M + H)),
    feeds: random((T + 1) * B * H, 0.5),
  };
  const inputs = { embedded: random(T * B * E), wCombine: random(H * (M + H), 0.7) };
  const weights = {
    R: random(T * B * H),
    S: layers.map(() => random(B * H)),
    Sc: layers.map(() => (kind === 'lstm' ? random(B * H) : floats(0))),
  };
  return { shape, layers, mem, rec, ...inputs, weights };
}

type Setup = ReturnType<typeof setup>;

function loss(c: Setup): number {
  const { T, B, H } = c.shape;
  decoderForward(c.shape, c.layers, c.embedded, c.mem, c.wCombine, c.rec);
  let sum = 0;
  const feeds = c.rec.feeds.data;
  for (let i = 0; i < T * B * H; i++) sum += c.weights.R.data[i]! * feeds[B * H + i]!;
  c.layers.forEach((layer, l) => {
    for (let i = 0; i < B * H; i++) {
      sum += c.weights.S[l]!.data[i]! * layer.hs.data[T * B * H + i]!;
      if (layer.cs.length) sum += c.weights.Sc[l]!.data[i]! * layer.cs.data[T * B * H + i]!;
    }
  });
  return sum;
}

/** Analytic gradients keyed by the input buffer they belong to. */
function gradients(c: Setup): Map<FloatSpan, Float64Array> {
  loss(c);
  const g = decoderGradients(backend, c, c.weights.R, c.weights.S, c.weights.Sc);
  // Of the state buffers only slot 0 (the initial state) is an input: its gradient, then zeros.
  const slot0 = (span: FloatSpan, d: Float64Array): Float64Array => {
    const all = new Float64Array(span.length);
    all.set(d);
    return all;
  };
  const result = new Map<FloatSpan, Float64Array>();
  c.layers.forEach((layer, l) => {
    result.set(layer.wIh, g.wIh[l]!).set(layer.wHh, g.wHh[l]!).set(layer.bIh, g.bIh[l]!).set(layer.bHh, g.bHh[l]!);
    result.set(layer.hs, slot0(layer.hs, g.h0[l]!));
    if (layer.cs.length) result.set(layer.cs, slot0(layer.cs, g.c0[l]!));
  });
  result.set(c.wCombine, g.wCombine).set(c.embedded, g.embedded).set(c.mem.keys, g.keys).set(c.mem.memory, g.memory);
  result.set(c.rec.feeds, slot0(c.rec.feeds, g.feed0));
  return result;
}

describe.each(['rnn_tanh', 'rnn_relu', 'lstm', 'gru'] as const)('decoder loop %s', (kind) => {
  test.each([1, 2])('%i layer(s): every gradient equals finite differences', (L) => {
    const c = setup(kind, L, 17 + L);
    const analytic = gradients(c);
    const { T, B, H } = c.shape;
    let checked = 0;
    for (const [span, grad] of analytic) {
      // Of the state buffers only slot 0 (the initial state) is an input.
      const inputs = c.layers.some((l) => l.hs === span || l.cs === span) || span === c.rec.feeds ? B * H : span.length;
      for (let i = 0; i < inputs; i++) {
        const d = span.data,
          keep = d[i]!,
          eps = 1e-6;
        d[i] = keep + eps;
        const up = loss(c);
        d[i] = keep - eps;
        const down = loss(c);
        d[i] = keep;
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(grad[i]! - numeric), `element ${i} of a ${span.length}-element input`).toBeLessThan(
          1e-7 * Math.max(1, Math.abs(numeric)),
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(T * B * H);
    // Attention never reaches a source position past the pair's length.
    const att = c.rec.attention.data;
    for (let t = 0; t < T; t++)
      expect([
        att[(t * B + 1) * 4 + 1],
        att[(t * B + 1) * 4 + 2],
        att[(t * B + 1) * 4 + 3],
        att[(t * B + 2) * 4 + 3],
      ]).toEqual([0, 0, 0, 0]);
  });
});
