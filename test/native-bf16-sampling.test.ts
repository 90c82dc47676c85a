// bf16 weight snapshots for sampling (native/bf16.h's Bf16Snapshot, Backend.inferenceWeights):
// - the few-row product over a snapshot against the portable emulation, BIT FOR BIT (rows 1–9, awkward
//   N and K, alpha/beta, 1/2/3 threads);
// - the cells' recurrent product over a snapshot (one stream, one step at a time) gives the bits of the
//   packed-slice path (two equal streams, four steps at once), on 1/2/3 threads;
// - a language model stepped one character at a time with the snapshot gives the logits of the same
//   characters run four at a time in bf16 (no snapshot: the GEMM path), and generate() uses and frees one;
// - bf16Gemm refuses a weights product that is not A·Bᵀ (the snapshot arguments: native-fp32-sampling.test.ts).
// Tests that need the instruction are skipped, with the reason in their name, on a CPU without it.
import { describe, expect, it } from 'vitest';
import { type NativeAddon, type NativeBackend, loadNativeAddon, loadNativeBackend } from '../src/backend/native.js';
import { type CellKind, CELL_KINDS, type InferenceWeights, cacheWidth, gatesOf } from '../src/backend/types.js';
import { Vocabulary } from '../src/data/vocab.js';
import { generate } from '../src/generate/sample.js';
import { type ModelConfig } from '../src/model/config.js';
import { inferenceMatrices } from '../src/model/inference-weights.js';
import { LanguageModelStream } from '../src/model/lm-stream.js';
import { Model } from '../src/model/model.js';
import { expectClose, expectError, floatSpan, makeRandom } from './helpers.js';

let addon: NativeAddon | undefined;
try {
  addon = loadNativeAddon();
} catch {
  addon = undefined; // native-kernels.test.ts reports why
}
const bf16 = addon?.precisions().find((p) => p.name === 'bf16');
const noBf16 = !addon || !bf16?.available;
const needsBf16 = noBf16
  ? ` (skipped: ${!addon ? 'the addon does not load' : `bf16 unavailable: ${bf16?.reason}`})`
  : '';

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
const randomArray = (random: () => number, n: number, scale = 1): Float32Array =>
  Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);

/** The first few indices where two float arrays differ in bits ('' when none). */
function bitDifferences(a: Float32Array, b: Float32Array): string {
  const x = bits(a),
    y = bits(b);
  const bad: string[] = [];
  if (a.length !== b.length) return `lengths ${a.length} vs ${b.length}`;
  for (let i = 0; i < x.length && bad.length < 3; i++) if (x[i] !== y[i]) bad.push(`[${i}] ${a[i]} vs ${b[i]}`);
  return bad.join(', ');
}

describe.skipIf(noBf16)(`the few-row product over a bf16 snapshot, against the emulation${needsBf16}`, () => {
  it('rows 1–9, awkward N and K, alpha/beta, on 1, 2 and 3 threads: bit for bit', () => {
    let cases = 0;
    for (const M of [1, 2, 3, 4, 5, 9]) {
      for (const [N, K] of [
        [1, 1],
        [15, 2],
        [16, 3],
        [17, 33],
        [65, 64],
        [100, 7],
        [300, 512],
        [2048, 129],
      ] as const) {
        for (const [alpha, beta] of [
          [1, 0],
          [1, 1],
          [-0.75, 0.5],
        ] as const) {
          const random = makeRandom(M * 977 + N * 13 + K);
          const A = randomArray(random, M * K),
            W = randomArray(random, N * K, 2),
            C0 = randomArray(random, M * N);
          const want = C0.slice();
          addon!.bf16Gemm('emulated', false, true, M, N, K, alpha, A, W, beta, want);
          for (const threads of [1, 2, 3]) {
            addon!.configure({ threads });
            const got = C0.slice();
            addon!.bf16Gemm('weights', false, true, M, N, K, alpha, A, W, beta, got);
            expect(
              bitDifferences(got, want),
              `M=${M} N=${N} K=${K} alpha=${alpha} beta=${beta} threads=${threads}`,
            ).toBe('');
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(6 * 8 * 3 * 3);
  });

  it("the backend's gemm with fewer than 8 rows uses the snapshot inside run() only", () => {
    const backend = loadNativeBackend({ precision: 'bf16', threads: 2 });
    const random = makeRandom(3);
    const M = 3,
      N = 70,
      K = 45;
    const A = randomArray(random, M * K),
      W = randomArray(random, N * K);
    const Wspan = floatSpan(backend, W);
    const product = (weights: InferenceWeights | null): Float32Array => {
      const C = floatSpan(backend, new Float32Array(M * N));
      const gemm = () => backend.gemm(false, true, M, N, K, 1, floatSpan(backend, A), Wspan, 0, C);
      if (weights) weights.run(gemm);
      else gemm();
      return C.data as Float32Array;
    };
    const want = new Float32Array(M * N);
    addon!.bf16Gemm('emulated', false, true, M, N, K, 1, A, W, 0, want);
    const weights = backend.inferenceWeights([{ weight: Wspan, groups: 1, rows: N, cols: K }])!;
    expect(bitDifferences(product(weights), want)).toBe('');
    const outside = product(null); // no snapshot in use: fp32
    expect(bitDifferences(outside, want)).not.toBe('');
    expectClose(outside, want, 0.05, 0.02, 'fp32 vs bf16');
    weights.dispose();
    expect(() => weights.run(() => 0)).toThrow('inferenceWeights: run after dispose');
    expect(loadNativeBackend({ precision: 'fp32' }).inferenceWeights([])).toBe(null);
  });
});

describe.skipIf(noBf16)(`cells over a bf16 snapshot of W_hh${needsBf16}`, () => {
  /** h after T steps of B streams (all starting from the same h0 and inputs) with the snapshot in use or not. */
  function hidden(kind: CellKind, T: number, B: number, H: number, threads: number, snapshot: boolean): Float32Array {
    const backend = loadNativeBackend({ precision: 'bf16', threads });
    const G = gatesOf(kind),
      CW = cacheWidth(kind);
    const random = makeRandom(29 + H);
    const xOne = randomArray(random, T * G * H),
      wHh = floatSpan(backend, randomArray(random, G * H * H, 1 / Math.sqrt(H)));
    const h0 = randomArray(random, H, 0.5);
    const xProj = new Float32Array(T * B * G * H),
      hs = new Float32Array((T + 1) * B * H);
    for (let t = 0; t < T; t++)
      for (let b = 0; b < B; b++) xProj.set(xOne.subarray(t * G * H, (t + 1) * G * H), (t * B + b) * G * H);
    for (let b = 0; b < B; b++) hs.set(h0, b * H);
    const spans = {
      xProj: floatSpan(backend, xProj),
      bIh: floatSpan(backend, randomArray(random, G * H, 0.1)),
      bHh: floatSpan(backend, randomArray(random, G * H, 0.1)),
      hs: floatSpan(backend, hs),
      cs: floatSpan(backend, new Float32Array(kind === 'lstm' ? (T + 1) * B * H : 0)),
      cache: floatSpan(backend, new Float32Array(T * B * CW * H)),
    };
    const run = () =>
      backend.cellForward(kind, T, B, H, spans.xProj, wHh, spans.bIh, spans.bHh, spans.hs, spans.cs, spans.cache);
    if (snapshot) {
      const weights = backend.inferenceWeights([{ weight: wHh, groups: G, rows: H, cols: H }])!;
      weights.run(run);
      weights.dispose();
    } else {
      run();
    }
    const out = spans.hs.data as Float32Array;
    return Float32Array.from({ length: T * H }, (_, i) => out[(Math.floor(i / H) + 1) * B * H + (i % H)]!); // stream 0
  }

  for (const H of [40, 260]) {
    for (const kind of CELL_KINDS) {
      it(`${kind} H=${H}: one stream over the snapshot = two equal streams packed (bf16), on 1, 2, 3 threads`, () => {
        const T = 4;
        const packed = hidden(kind, T, 2, H, 1, false); // B > 1, T >= 4: the packed slice
        for (const threads of [1, 2, 3]) {
          const one = hidden(kind, T, 1, H, threads, true);
          expect(bitDifferences(one, packed), `${threads} threads`).toBe('');
        }
        const fp32 = hidden(kind, T, 1, H, 1, false); // B = 1 without a snapshot: fp32 products
        expect(bitDifferences(fp32, packed)).not.toBe('');
        expectClose(fp32, packed, 2e-2, 2e-2, 'fp32 vs bf16 h');
      });
    }
  }
});

describe.skipIf(noBf16)(`sampling a language model with bf16 weights${needsBf16}`, () => {
  const vocab = Vocabulary.fromText('abcdefghijklmnopqrstuvwxyz .,\n');
  const configs: [string, Partial<ModelConfig>][] = [
    ['2-layer LSTM H64, one-hot', { cell: 'lstm', hidden: 64, layers: 2, embed: 0 }],
    ['GRU H48, embedding 12', { cell: 'gru', hidden: 48, layers: 1, embed: 12 }],
    ['bidirectional 2-layer RNN H32', { cell: 'rnn', hidden: 32, layers: 2, embed: 0, bidirectional: true }],
  ];
  const model = (backend: NativeBackend, config: Partial<ModelConfig>): Model => {
    const m = new Model(backend, {
      cell: 'lstm',
      nonlinearity: 'tanh',
      hidden: 64,
      layers: 1,
      embed: 0,
      vocabSize: vocab.size,
      ...config,
    });
    m.initialize(5);
    return m;
  };
  const ids = [3, 7, 1, 20];

  for (const [name, config] of configs.slice(0, 2)) {
    it(`${name}: one character at a time with the snapshot = four at once in bf16, bit for bit`, () => {
      const backend = loadNativeBackend({ precision: 'bf16', threads: 2 });
      const m = model(backend, config);
      const V = vocab.size;
      // Four steps of two equal streams: every product has at least 8 rows (the bf16 GEMM, the packed cells).
      const batch = new LanguageModelStream(m, { batch: 2, maxSteps: 4 });
      const whole = batch.step(
        ids.flatMap((id) => [id, id]),
        batch.createState(),
      ).logits;
      const want = Float32Array.from({ length: ids.length * V }, (_, i) => whole[Math.floor(i / V) * 2 * V + (i % V)]!);
      const single = new LanguageModelStream(m, { batch: 1, maxSteps: 4 });
      const weights = backend.inferenceWeights(inferenceMatrices(m))!;
      const state = single.createState();
      const got = new Float32Array(ids.length * V);
      ids.forEach((id, t) => got.set(weights.run(() => single.step([id], state)).logits, t * V));
      weights.dispose();
      expect(bitDifferences(got, want)).toBe('');
      const fp32State = single.createState();
      const plain = new Float32Array(ids.length * V);
      ids.forEach((id, t) => plain.set(single.step([id], fp32State).logits, t * V)); // no snapshot: fp32
      expect(bitDifferences(plain, want)).not.toBe('');
      expectClose(plain, want, 2e-2, 2e-2, 'fp32 vs bf16 logits');
    });
  }

  it('inferenceMatrices lists every W_hh (by gate), the dense W_ih and the head', () => {
    const backend = loadNativeBackend({ precision: 'bf16', threads: 1 });
    const shapes = (config: Partial<ModelConfig>) =>
      inferenceMatrices(model(backend, config)).map((m) => [m.groups, m.rows, m.cols, m.weight.length]);
    const V = vocab.size;
    expect(shapes(configs[0]![1])).toEqual([
      [4, 64, 64, 4 * 64 * 64],
      [4, 64, 64, 4 * 64 * 64],
      [1, 256, 64, 256 * 64],
      [1, V, 64, V * 64],
    ]);
    expect(shapes(configs[1]![1])).toEqual([
      [3, 48, 48, 3 * 48 * 48],
      [1, 144, 12, 144 * 12],
      [1, V, 48, V * 48],
    ]);
    expect(shapes(configs[2]![1])).toEqual([
      [1, 32, 32, 32 * 32],
      [1, 32, 32, 32 * 32],
      [1, 32, 32, 32 * 32],
      [1, 32, 64, 32 * 64],
      [1, 32, 32, 32 * 32],
      [1, 32, 64, 32 * 64],
      [1, V, 64, V * 64],
    ]);
  });

  it('generate() samples with one snapshot per sample, used for every character, and frees it', () => {
    const backend = loadNativeBackend({ precision: 'bf16', threads: 2 });
    const m = model(backend, configs[0]![1]);
    let made = 0,
      runs = 0,
      freed = 0;
    const original = backend.inferenceWeights.bind(backend);
    backend.inferenceWeights = (matrices) => {
      const weights = original(matrices)!;
      made++;
      return {
        run: (fn) => (runs++, weights.run(fn)),
        dispose: () => (freed++, weights.dispose()),
      };
    };
    const text = [...generate(m, vocab, { length: 30, seed: 4 })].map((c) => c[0]).join('');
    expect(text.length).toBe(30);
    expect([made, runs, freed]).toEqual([1, 30, 1]);
    for (const chars of generate(m, vocab, { length: 30, seed: 4 })) if (chars) break; // stopping early frees it too
    expect([made, runs, freed]).toEqual([2, 31, 2]);
  });
});

describe.skipIf(noBf16)(`bf16Gemm arguments${needsBf16}`, () => {
  it('refuses a weights product that is not A·Bᵀ', () => {
    const W = new Float32Array(3);
    expectError(
      () => addon!.bf16Gemm('weights', true, true, 1, 1, 1, 1, W.subarray(0, 1), W.subarray(1, 2), 0, W.subarray(2, 3)),
      RangeError,
      'bf16Gemm: weights needs transA false, transB true and K > 0 (C = A·Bᵀ)',
    );
  });
});
