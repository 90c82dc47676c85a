// The attention decoder loop against a real PyTorch (fixtures from test/fixtures/make_seq2seq_fixtures.py,
// Seq2Seq.decode of test/fixtures/seq2seq_model.py): the attentional states, attention weights, final
// states and every gradient, on the reference backend in float32 and float64 and on the engines (native at
// its best SIMD level, wasm).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { type DecoderCase, decoderGradients } from './decoder-helpers.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Backend, type CellKind, type FloatSpan, type IntSpan, Span, cacheWidth } from '../src/backend/types.js';

const DIR = join(import.meta.dirname, 'fixtures', 'pytorch-seq2seq');

interface Fixture {
  name: string;
  cell: CellKind;
  layers: number;
  T: number;
  B: number;
  S: number;
  E: number;
  H: number;
  M: number;
  source_lengths: number[];
  embedded: number[];
  keys: number[];
  memory: number[];
  h0: number[];
  c0?: number[];
  feed0: number[];
  params: Record<string, number[]>;
  feeds: number[];
  attention: number[];
  h_n: number[];
  c_n?: number[];
  R: number[];
  S_h: number[];
  S_c?: number[];
  grads: Record<string, number[]>;
  d_embedded: number[];
  d_keys: number[];
  d_memory: number[];
  d_h0: number[];
  d_c0?: number[];
  d_feed0: number[];
}

const fixtures: Fixture[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));

function run(fx: Fixture, backend: Backend) {
  const span = (values: ArrayLike<number> | number): FloatSpan => {
    const f = Span.of(backend.allocFloat(typeof values === 'number' ? values : values.length));
    if (typeof values !== 'number') f.data.set(values);
    return f;
  };
  const { cell: kind, layers: L, T, B, S, E, H, M } = fx;
  const state = (values: number[] | undefined, l: number): FloatSpan => {
    const s = span((T + 1) * B * H);
    if (values) s.data.set(values.slice(l * B * H, (l + 1) * B * H));
    return s;
  };
  const feeds = span((T + 1) * B * H);
  feeds.data.set(fx.feed0);
  const lengths = Span.of(backend.allocInt(B)) as IntSpan;
  lengths.data.set(fx.source_lengths);
  const c: DecoderCase = {
    shape: { kind, T, B, S, E, H, M },
    layers: Array.from({ length: L }, (_, l) => ({
      wIh: span(fx.params[`decoder.weight_ih_l${l}`]!),
      wHh: span(fx.params[`decoder.weight_hh_l${l}`]!),
      bIh: span(fx.params[`decoder.bias_ih_l${l}`]!),
      bHh: span(fx.params[`decoder.bias_hh_l${l}`]!),
      hs: state(fx.h0, l),
      cs: kind === 'lstm' ? state(fx.c0, l) : span(0),
      cache: span(T * B * cacheWidth(kind) * H),
    })),
    mem: { keys: span(fx.keys), memory: span(fx.memory), sourceLengths: lengths },
    wCombine: span(fx.params['combine.weight']!),
    rec: { input0: span(T * B * (E + H)), attention: span(T * B * S), combined: span(T * B * (M + H)), feeds },
  };
  backend.decoderForward(c.shape, c.layers, span(fx.embedded), c.mem, c.wCombine, c.rec);
  const perLayer = (values: number[] | undefined): FloatSpan[] =>
    Array.from({ length: L }, (_, l) => span(values ? values.slice(l * B * H, (l + 1) * B * H) : 0));
  const grads = decoderGradients(
    backend,
    c,
    span(fx.R),
    perLayer(fx.S_h),
    perLayer(kind === 'lstm' ? fx.S_c : undefined),
  );
  return { c, grads };
}

function close(name: string, actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length, `${name}: length`).toBe(expected.length);
  const scale = Math.max(1, ...expected.map(Math.abs));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst, `${name}: worst difference (scale ${scale})`).toBeLessThan(tolerance * scale);
}

const targets: [string, () => Promise<Backend>][] = [
  ['reference f64', async () => new ReferenceBackend({ dtype: 'f64' })],
  ['reference f32', async () => new ReferenceBackend({ dtype: 'f32' })],
  ...TESTED_BACKENDS.filter((name) => name !== 'reference').map(
    (name) => [name, BACKEND_FACTORIES[name]] as [string, () => Promise<Backend>],
  ),
];

describe.each(targets)('decoder loop vs PyTorch, %s', (name, make) => {
  const tolerance = name === 'reference f64' ? 2e-6 : 2e-5;
  test.each(fixtures.map((fx) => [fx.name, fx] as const))('%s', async (_, fx) => {
    expect(fixtures.length).toBe(8);
    const { c, grads } = run(fx, await make());
    const { T, B, H } = fx;
    close('feeds', c.rec.feeds.data.subarray(B * H), fx.feeds, tolerance);
    close('attention', c.rec.attention.data, fx.attention, tolerance);
    c.layers.forEach((layer, l) => {
      close(`h_n[${l}]`, layer.hs.data.subarray(T * B * H), fx.h_n.slice(l * B * H, (l + 1) * B * H), tolerance);
      if (fx.c_n)
        close(`c_n[${l}]`, layer.cs.data.subarray(T * B * H), fx.c_n.slice(l * B * H, (l + 1) * B * H), tolerance);
      close(`weight_ih_l${l}`, grads.wIh[l]!, fx.grads[`decoder.weight_ih_l${l}`]!, tolerance);
      close(`weight_hh_l${l}`, grads.wHh[l]!, fx.grads[`decoder.weight_hh_l${l}`]!, tolerance);
      close(`bias_ih_l${l}`, grads.bIh[l]!, fx.grads[`decoder.bias_ih_l${l}`]!, tolerance);
      close(`bias_hh_l${l}`, grads.bHh[l]!, fx.grads[`decoder.bias_hh_l${l}`]!, tolerance);
      close(`d_h0[${l}]`, grads.h0[l]!, fx.d_h0.slice(l * B * H, (l + 1) * B * H), tolerance);
      if (fx.d_c0) close(`d_c0[${l}]`, grads.c0[l]!, fx.d_c0.slice(l * B * H, (l + 1) * B * H), tolerance);
    });
    close('combine.weight', grads.wCombine, fx.grads['combine.weight']!, tolerance);
    close('d_embedded', grads.embedded, fx.d_embedded, tolerance);
    close('d_keys', grads.keys, fx.d_keys, tolerance);
    close('d_memory', grads.memory, fx.d_memory, tolerance);
    close('d_feed0', grads.feed0, fx.d_feed0, tolerance);
  });
});
