// gemm on every backend configuration against the float64 reference (test/kernel-suite.ts): all four
// transposes, three alpha/beta pairs (beta 0 over a NaN-filled C: old NaNs must not leak), awkward shapes
// and shapes that cross every engine's cache blocks — native: K blocks of 256/512 (AVX2/AVX-512), row blocks
// past 144/192, the few-rows transposed kernel's K blocks (> 512, > 2048), N split over threads, GEMV (M = 1);
// wasm (assembly/gemm.ts): KC 256, MC 128, NC 4096 with partial tiles, and fewer than 4 rows (no packing).
import { describe, it } from 'vitest';
import { type BadArgument, badArgumentSuite, compareWithReference, expectNativeLoads } from './kernel-suite.js';
import { makeRandom, randomValues } from './helpers.js';

expectNativeLoads();

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [3, 17, 33],
  [17, 3, 1],
  [17, 33, 3],
  [33, 100, 17],
  [100, 1, 257],
  [100, 3, 257],
  [257, 33, 3],
  [1, 257, 100],
  [17, 33, 257],
  [3, 3, 0],
  [0, 5, 3],
  [5, 0, 3],
  [2, 4, 0],
  [0, 3, 5],
  [4, 8, 1],
  [8, 16, 4],
  [257, 1, 5],
  [5, 257, 100],
  [9, 17, 300],
  [6, 40, 520],
  [3, 100, 7],
  // native blocks and splits
  [17, 3, 513],
  [1, 513, 3],
  [513, 17, 1],
  [32, 300, 600],
  [200, 100, 300],
  [150, 260, 40],
  [7, 1000, 100],
  [3, 17, 2100],
  [130, 70, 520],
  [32, 2048, 512],
  [1, 700, 300],
  [1, 9, 1000],
  // wasm blocks: M > MC, K > KC, N > NC, each with partial tiles; fewer than 4 rows
  [513, 33, 257],
  [33, 513, 513],
  [5, 4103, 9],
  [4, 4099, 3],
  [257, 100, 1],
  [1, 3, 513],
  [1, 2057, 300],
  [2, 37, 513],
  [3, 2057, 17],
];

const nans = (n: number): number[] => new Array<number>(n).fill(NaN);

describe('gemm matches the float64 reference', () => {
  for (const [M, N, K] of SHAPES) {
    // The cell shape (33M multiply-adds): NT only, alpha 1, beta 0 (the reference is slow).
    const big = M * N * K > 2e7;
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        if (big && (transA || !transB)) continue;
        it(`${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} M=${M} N=${N} K=${K}`, async () => {
          const random = makeRandom(M * 7 + N * 131 + K * 3 + (transA ? 1 : 0) + (transB ? 2 : 0));
          const a = randomValues(random, M * K),
            b = randomValues(random, K * N);
          const pairs: [number, number][] = big
            ? [[1, 0]]
            : [
                [1, 0],
                [1, 1],
                [-0.75, 0.5],
              ];
          const cs = pairs.map(([, beta]) => (beta === 0 ? nans(M * N) : randomValues(random, M * N)));
          // |error| grows like sqrt(K): sums of K products of values in [-1, 1]
          await compareWithReference(
            ({ backend, floats }) => {
              const [A, B, ...C] = floats(a, b, ...cs);
              pairs.forEach(([alpha, beta], i) => backend.gemm(transA, transB, M, N, K, alpha, A!, B!, beta, C[i]!));
              return {
                A: A!,
                B: B!,
                ...Object.fromEntries(C.map((c, i) => [`C (alpha ${pairs[i]![0]}, beta ${pairs[i]![1]})`, c])),
              };
            },
            [1e-5 * Math.max(1, Math.sqrt(K) / 4), 1e-4],
            { per: { A: [0, 0], B: [0, 0] } },
          );
        });
      }
    }
  }
});

const GEMM_BAD_ARGUMENTS: BadArgument[] = [
  [
    'A too short',
    ({ backend, floats }) => {
      const [A, B, C] = floats(nans(5), nans(6), nans(4));
      return () => backend.gemm(false, false, 2, 2, 3, 1, A!, B!, 0, C!);
    },
    RangeError,
    'gemm: A has 5 elements, expected 6',
  ],
  [
    'C too long',
    ({ backend, floats }) => {
      const [A, B, C] = floats(nans(6), nans(6), nans(5));
      return () => backend.gemm(true, true, 2, 2, 3, 1, A!, B!, 0, C!);
    },
    RangeError,
    'gemm: C has 5 elements, expected 4',
  ],
  [
    'M not an integer',
    ({ backend, floats }) => {
      const [A, B, C] = floats(nans(6), nans(6), nans(4));
      return () => backend.gemm(false, false, 1.5, 2, 3, 1, A!, B!, 0, C!);
    },
    RangeError,
    'gemm: expected an integer >= 0 for M but received 1.5',
  ],
  [
    'N negative',
    ({ backend, floats }) => {
      const [A, B, C] = floats(nans(6), nans(6), nans(4));
      return () => backend.gemm(false, false, 2, -1, 3, 1, A!, B!, 0, C!);
    },
    RangeError,
    'gemm: expected an integer >= 0 for N but received -1',
  ],
  [
    'K NaN',
    ({ backend, floats }) => {
      const [A, B, C] = floats(nans(6), nans(6), nans(4));
      return () => backend.gemm(false, false, 2, 2, NaN, 1, A!, B!, 0, C!);
    },
    RangeError,
    'gemm: expected an integer >= 0 for K but received NaN',
  ],
  [
    'alpha NaN',
    ({ backend, floats }) => {
      const [A, B, C] = floats(nans(6), nans(6), nans(4));
      return () => backend.gemm(false, false, 2, 2, 3, NaN, A!, B!, 0, C!);
    },
    RangeError,
    'gemm: expected a finite number for alpha but received NaN',
  ],
  [
    'beta infinite',
    ({ backend, floats }) => {
      const [A, B, C] = floats(nans(6), nans(6), nans(4));
      return () => backend.gemm(false, false, 2, 2, 3, 1, A!, B!, Infinity, C!);
    },
    RangeError,
    'gemm: expected a finite number for beta but received Infinity',
  ],
  [
    'transA not a boolean',
    ({ backend, floats }) => {
      const [A, B, C] = floats(nans(6), nans(6), nans(4));
      return () => backend.gemm(0 as never, false, 2, 2, 3, 1, A!, B!, 0, C!);
    },
    TypeError,
    'gemm: transA and transB must be booleans',
  ],
  [
    'M·K past 2^32',
    ({ backend, floats }) => {
      const [A, B, C] = floats([], [], []);
      return () => backend.gemm(false, false, 65536, 0, 65536, 1, A!, B!, 0, C!);
    },
    RangeError,
    'gemm: A has 0 elements, expected 4294967296',
  ],
  [
    'C overlapping A',
    ({ backend, floats }) => {
      const [A, B] = floats(nans(6), nans(6));
      return () => backend.gemm(false, false, 2, 2, 3, 1, A!, B!, 0, A!.sub(2, 4));
    },
    RangeError,
    'gemm: output C overlaps A',
  ],
];

badArgumentSuite('gemm', GEMM_BAD_ARGUMENTS);
