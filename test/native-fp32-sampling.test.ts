// fp32 weight snapshots for sampling (native/engine.h's Fp32Snapshot, Backend.inferenceWeights in fp32): the
// matrices that 1-row GEMMs multiply, packed once in the GEMM's panel layout so that a sampled character
// does not pack them again.
// - a 1-row product over a snapshot equals the same row of a many-row product BIT FOR BIT (41 rows: the
//   transposed few-rows path; 130 rows: the packed path), at every SIMD level × 1, 2, 3 threads, with N and
//   K around the panel widths and K blocks, alpha/beta;
// - a snapshot packed for one SIMD level is not read by another level's kernels (their panels differ);
// - W_hh is left out, the scalar level has no snapshot, a language model stepped with the snapshot gives the
//   logits it gives without, and generate() uses one per sample and frees it;
// - the addon refuses bad snapshot arguments with the function's name (both precisions share them).
import { describe, expect, it } from 'vitest';
import { type SimdLevel, loadNativeAddon, loadNativeBackend } from '../src/backend/native.js';
import type { Backend, FloatSpan } from '../src/backend/types.js';
import { Vocabulary } from '../src/data/vocab.js';
import { generate } from '../src/generate/sample.js';
import { inferenceMatrices } from '../src/model/inference-weights.js';
import { LanguageModelStream } from '../src/model/lm-stream.js';
import { Model } from '../src/model/model.js';
import { expectError, floatSpan, makeRandom } from './helpers.js';
import { NATIVE_LEVELS, NATIVE_THREADS, expectNativeLoads } from './kernel-suite.js';

const SIMD_LEVELS = NATIVE_LEVELS.filter((level) => level !== 'scalar');
const randomArray = (random: () => number, n: number): Float32Array =>
  Float32Array.from({ length: n }, () => random() * 2 - 1);
const sameBits = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** C [M,N] = alpha·A·Wᵀ + beta·C0 on `backend`, inside `run` when given. */
function product(
  backend: Backend,
  M: number,
  N: number,
  K: number,
  [alpha, beta]: readonly [number, number],
  A: Float32Array,
  W: FloatSpan,
  C0: Float32Array,
  run: (fn: () => void) => void = (fn) => fn(),
): Float32Array {
  const C = floatSpan(backend, C0);
  run(() => backend.gemm(false, true, M, N, K, alpha, floatSpan(backend, A), W, beta, C));
  return Float32Array.from(C.data);
}

describe('a 1-row product over an fp32 snapshot equals the row of a many-row product, bit for bit', () => {
  expectNativeLoads();
  // N around the panels (AVX2 16, AVX-512 48, a kernel_row call 3 panels); K past each level's K block (256, 512).
  const SHAPES = [
    [1, 1],
    [47, 3],
    [49, 256],
    [145, 257],
    [300, 513],
    [2048, 130],
    [97, 1030],
  ] as const;
  const SCALES = [
    [1, 0],
    [0.5, 0.25],
  ] as const;
  for (const level of SIMD_LEVELS) {
    for (const threads of NATIVE_THREADS) {
      it(`native ${level}/${threads}`, () => {
        const backend = loadNativeBackend({ simd: level, threads, precision: 'fp32' });
        const random = makeRandom(11);
        const failed: string[] = [];
        for (const [N, K] of SHAPES) {
          const W = floatSpan(backend, randomArray(random, N * K));
          const weights = backend.inferenceWeights([{ weight: W, groups: 1, rows: N, cols: K }]);
          expect(weights).not.toBe(null);
          for (const M of [41, 130]) {
            const A = randomArray(random, M * K),
              C0 = randomArray(random, M * N);
            for (const scale of SCALES) {
              const many = product(backend, M, N, K, scale, A, W, C0);
              for (const i of [0, M - 1]) {
                const row = product(
                  backend,
                  1,
                  N,
                  K,
                  scale,
                  A.subarray(i * K, (i + 1) * K),
                  W,
                  C0.subarray(i * N, (i + 1) * N),
                  (fn) => weights!.run(fn),
                );
                if (!sameBits(row, many.subarray(i * N, (i + 1) * N)))
                  failed.push(`N ${N} K ${K}, row ${i} of ${M}, alpha ${scale[0]} beta ${scale[1]}`);
              }
            }
          }
          weights!.dispose();
        }
        expect(failed).toEqual([]);
      });
    }
  }
});

describe.skipIf(SIMD_LEVELS.length < 2)('a snapshot packed for one SIMD level', () => {
  it('is not read by the kernels of another level (their panels differ)', () => {
    const [packedFor, runAt] = SIMD_LEVELS.slice(-2).reverse() as [SimdLevel, SimdLevel];
    const owner = loadNativeBackend({ simd: packedFor, threads: 1, precision: 'fp32' }),
      other = loadNativeBackend({ simd: runAt, threads: 1, precision: 'fp32' });
    const random = makeRandom(5);
    const N = 100,
      K = 300;
    const Wdata = randomArray(random, N * K),
      A = randomArray(random, K),
      C0 = new Float32Array(N);
    // One span for both backends (the native backends' spans are plain typed arrays): the snapshot is of it.
    const W = floatSpan(owner, Wdata);
    const weights = owner.inferenceWeights([{ weight: W, groups: 1, rows: N, cols: K }])!;
    const want = product(other, 1, N, K, [1, 0], A, W, C0);
    // run() makes the owner's snapshot current; the other backend's gemm then runs at its own level.
    const got = product(other, 1, N, K, [1, 0], A, W, C0, (fn) => weights.run(fn));
    weights.dispose();
    expect(sameBits(got, want)).toBe(true);
  });
});

describe('sampling with fp32 snapshots', () => {
  const vocab = Vocabulary.fromText('abcdefghijklmnopqrstuvwxyz .,\n');
  const model = (level: SimdLevel, threads: number): Model => {
    const m = new Model(loadNativeBackend({ simd: level, threads, precision: 'fp32' }), {
      cell: 'lstm',
      nonlinearity: 'tanh',
      hidden: 520, // past AVX-512's K block (512): the layer-2 input and head products take two
      layers: 2,
      embed: 0,
      vocabSize: vocab.size,
    });
    m.initialize(3);
    return m;
  };

  it('W_hh is left out (the recurrent loop reads it in place); the scalar level has no snapshot', () => {
    const m = model('scalar', 1);
    const matrices = inferenceMatrices(m);
    expect(matrices.map((x) => x.recurrent ?? false)).toEqual([true, true, false, false]);
    expect(m.backend.inferenceWeights!(matrices)).toBe(null);
    if (SIMD_LEVELS.length === 0) return;
    const simd = model(SIMD_LEVELS.at(-1)!, 1);
    expect(simd.backend.inferenceWeights!(inferenceMatrices(simd).filter((x) => x.recurrent))).toBe(null);
  });

  for (const level of SIMD_LEVELS) {
    it(`native ${level}/2: one character at a time with the snapshot = without, bit for bit`, () => {
      const m = model(level, 2);
      const ids = [3, 7, 1, 20, 0, 28, 14, 9];
      const logits = (withSnapshot: boolean): Float32Array => {
        const stream = new LanguageModelStream(m, { maxSteps: 1 });
        const state = stream.createState(),
          out = new Float32Array(ids.length * vocab.size);
        const weights = withSnapshot ? m.backend.inferenceWeights!(inferenceMatrices(m))! : null;
        ids.forEach((id, t) => {
          const step = () => stream.step([id], state).logits;
          out.set(weights ? weights.run(step) : step(), t * vocab.size);
        });
        weights?.dispose();
        stream.dispose();
        return out;
      };
      expect(sameBits(logits(true), logits(false))).toBe(true);
    });
  }

  it.skipIf(SIMD_LEVELS.length === 0)(
    'generate() samples with one snapshot per sample, the text it gives without one',
    () => {
      const m = model(SIMD_LEVELS.at(-1)!, 2);
      const backend = m.backend;
      const original = backend.inferenceWeights!.bind(backend);
      let made = 0,
        runs = 0,
        freed = 0;
      backend.inferenceWeights = (matrices) => {
        const weights = original(matrices)!;
        made++;
        return { run: (fn) => (runs++, weights.run(fn)), dispose: () => (freed++, weights.dispose()) };
      };
      const text = [...generate(m, vocab, { length: 40, seed: 4 })].map((c) => c[0]).join('');
      expect([made, runs, freed]).toEqual([1, 40, 1]);
      backend.inferenceWeights = () => null;
      expect([...generate(m, vocab, { length: 40, seed: 4 })].map((c) => c[0]).join('')).toBe(text);
    },
  );
});

describe('weight snapshot arguments', () => {
  it('the addon refuses bad matrices, handles and freed snapshots with the function name', () => {
    loadNativeBackend({ precision: 'fp32' }); // the addon configured for fp32 at its best level
    const addon = loadNativeAddon();
    const W = new Float32Array(12);
    expectError(
      () => addon.snapshotWeights([{ W, groups: 2, rows: 3, cols: 3 }]),
      RangeError,
      'snapshotWeights: W has 12 elements, expected groups·rows·cols = 18',
    );
    expectError(
      () => addon.snapshotWeights([{ W: [1, 2] as unknown as Float32Array, groups: 1, rows: 1, cols: 2 }]),
      TypeError,
      'snapshotWeights: expected a Float32Array for W but received Array',
    );
    expectError(
      () => addon.snapshotWeights([{ W, groups: 1, rows: 0, cols: 12 }]),
      RangeError,
      'snapshotWeights: expected an integer from 1 to 1073741824 for rows but received 0',
    );
    expectError(
      () => addon.useWeights({} as never),
      TypeError,
      'useWeights: expected a weight snapshot but received object',
    );
    if (SIMD_LEVELS.length === 0) return; // the scalar level makes no snapshot
    const snapshot = addon.snapshotWeights([{ W, groups: 1, rows: 4, cols: 3 }])!;
    addon.freeWeights(snapshot);
    expectError(() => addon.useWeights(snapshot), RangeError, 'useWeights: the snapshot has been freed');
  });
});
