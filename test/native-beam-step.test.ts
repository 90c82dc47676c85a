// The native paths of a beam search step (B·K rows, T = 1) have the bits of the paths they replace:
// - a cell step over >= 128 streams multiplies W_hh with one GEMM split by rows (native/cells.cc); each stream's
//   results equal those of the same streams stepped in chunks of fewer than 128 (the per-part transposed
//   products), bit for bit, for every cell, SIMD level and thread count;
// - a many-row product with an fp32 snapshot in use reads the snapshot's panels instead of packing B
//   (native/gemm.cc, decoding's inferenceWeights): the same bits as packing per call.
// The kernel suites compare both paths with the float64 reference (kernels-cells, kernels-sequences).
import { describe, expect, it } from 'vitest';
import { loadNativeBackend } from '../src/backend/native.js';
import { CELL_KINDS, type CellKind, cacheWidth, gatesOf } from '../src/backend/types.js';
import { floatSpan, makeRandom } from './helpers.js';
import { NATIVE_LEVELS, NATIVE_THREADS, expectNativeLoads } from './kernel-suite.js';

expectNativeLoads();

const SIMD_LEVELS = NATIVE_LEVELS.filter((level) => level !== 'scalar');
const random = makeRandom(3);
const values = (n: number): Float32Array => Float32Array.from({ length: n }, () => random() * 2 - 1);
const bits = (a: Float32Array): number[] => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('a cell step over many streams (one GEMM) equals the same streams in small chunks, bit for bit', () => {
  const B = 150,
    H = 40;
  for (const level of SIMD_LEVELS) {
    for (const threads of NATIVE_THREADS) {
      it.each(CELL_KINDS)(`native ${level}/${threads}: %s`, (kind: CellKind) => {
        const backend = loadNativeBackend({ simd: level, threads, precision: 'fp32' });
        const GH = gatesOf(kind) * H,
          CW = cacheWidth(kind) * H,
          lstm = kind === 'lstm';
        const xProj = values(B * GH),
          wHh = floatSpan(backend, values(GH * H)),
          bIh = floatSpan(backend, values(GH)),
          bHh = floatSpan(backend, values(GH)),
          h0 = values(B * H),
          c0 = values(B * H);
        // Streams [b0, b1) stepped alone: their h_1, c_1 and cache rows.
        const step = (b0: number, b1: number): Float32Array[] => {
          const n = b1 - b0;
          const hs = floatSpan(backend, [...h0.subarray(b0 * H, b1 * H), ...new Float32Array(n * H)]);
          const cs = floatSpan(backend, lstm ? [...c0.subarray(b0 * H, b1 * H), ...new Float32Array(n * H)] : []);
          const cache = floatSpan(backend, new Float32Array(n * CW));
          const x = floatSpan(backend, xProj.subarray(b0 * GH, b1 * GH));
          backend.cellForward(kind, 1, n, H, x, wHh, bIh, bHh, hs, cs, cache);
          return [hs.data.slice(n * H), cs.data.slice(n * H), cache.data.slice()].map((a) => Float32Array.from(a));
        };
        const whole = step(0, B);
        const chunks = [step(0, 70), step(70, B)];
        whole.forEach((part, i) => {
          const joined = Float32Array.from([...chunks[0]![i]!, ...chunks[1]![i]!]);
          expect(bits(part)).toEqual(bits(joined));
        });
      });
    }
  }
});

describe('a many-row product with an fp32 snapshot in use has the bits of packing per call', () => {
  // N and K past the panel widths and K blocks; M >= 128 takes the packed path (split by rows).
  const SHAPES = [
    [130, 1024, 320],
    [320, 97, 513],
    [200, 49, 256],
  ] as const;
  for (const level of SIMD_LEVELS) {
    for (const threads of NATIVE_THREADS) {
      it(`native ${level}/${threads}`, () => {
        const backend = loadNativeBackend({ simd: level, threads, precision: 'fp32' });
        for (const [M, N, K] of SHAPES) {
          const W = floatSpan(backend, values(N * K)),
            A = floatSpan(backend, values(M * K)),
            C0 = values(M * N);
          const weights = backend.inferenceWeights([{ weight: W, groups: 1, rows: N, cols: K }])!;
          const product = (run: (fn: () => void) => void): Float32Array => {
            const C = floatSpan(backend, C0);
            run(() => backend.gemm(false, true, M, N, K, 0.5, A, W, 0.25, C));
            return Float32Array.from(C.data);
          };
          const packedPerCall = product((fn) => fn());
          const fromSnapshot = product((fn) => weights.run(fn));
          weights.dispose();
          expect(bits(fromSnapshot), `M ${M} N ${N} K ${K}`).toEqual(bits(packedPerCall));
        }
      });
    }
  }
});
