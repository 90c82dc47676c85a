// Every kernel of the native backend against the float32 reference backend on the same inputs, on
// awkward shapes. Tolerance: abs 1e-5 + rel 1e-4 (expectClose's default) unless noted.
// If the addon cannot be loaded these tests FAIL, unless RNNKIT_EXPECT_NO_NATIVE=1 says that this
// machine is not expected to have it (then they are skipped).
import { describe, expect, it } from 'vitest';
import { type NativeBackend, loadNativeAddon, loadNativeBackend } from '../src/backend/native.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Backend, CELL_KINDS, type CellKind, type F, type I, Span, cacheWidth, gatesOf } from '../src/backend/types.js';
import { expectClose, guardedSpans, makeRandom, randomValues } from './helpers.js';

const expectNoNative = process.env['RNNKIT_EXPECT_NO_NATIVE'] === '1';
let loaded: NativeBackend | undefined;
let loadError: unknown;
try {
  loaded = loadNativeBackend();
} catch (error) {
  loadError = error;
}

it.skipIf(expectNoNative && !loaded)('loads the native addon and passes its self-check', () => {
  if (!loaded) throw loadError;
  // the best SIMD level this CPU supports and the hardware's thread count (unless RNNKIT_SIMD / RNNKIT_THREADS say otherwise)
  const info = loaded.info();
  expect(info).toMatchObject({ name: 'native', dtype: 'f32' });
  expect(info.simd).toBe(process.env['RNNKIT_SIMD'] || loadNativeAddon().simdLevels().at(-1));
  expect(Number.isInteger(info.threads) && info.threads >= 1).toBe(true);
  expect(() => loaded!.selfCheck()).not.toThrow();
});


function ints(backend: Backend, values: ArrayLike<number>): I {
  const buf = backend.allocInt(values.length + 2);
  buf.data.fill(1 << 30);
  const span = new Span(buf, 1, values.length);
  span.data.set(Array.from(values));
  return span;
}

const nanArray = (n: number): number[] => new Array<number>(n).fill(NaN);
const randomInts = (random: () => number, n: number, limit: number): number[] => Array.from({ length: n }, () => Math.floor(random() * limit));

describe.skipIf(!loaded)('native kernels match the reference backend', () => {
  const native = loaded!;
  const ref = new ReferenceBackend();

  describe('gemm', () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1], [3, 17, 33], [17, 3, 1], [33, 100, 17], [100, 1, 257], [257, 33, 3], [1, 257, 100], [17, 33, 257],
      [3, 3, 0], [0, 5, 3], [5, 0, 3],
    ];
    for (const [M, N, K] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          it(`${transA ? 'T' : 'N'}${transB ? 'T' : 'N'} M=${M} N=${N} K=${K}`, () => {
            const random = makeRandom(M * 1000 + N * 10 + K + (transA ? 7 : 0) + (transB ? 13 : 0));
            for (const [alpha, beta] of [[1, 0], [1, 1], [-0.75, 0.5]] as const) {
              const a = randomValues(random, M * K), b = randomValues(random, K * N);
              // beta 0 must overwrite C, NaNs included
              const c = beta === 0 ? nanArray(M * N) : randomValues(random, M * N);
              const [nA, nB, nC] = guardedSpans(native, a, b, c);
              const [rA, rB, rC] = guardedSpans(ref, a, b, c);
              native.gemm(transA, transB, M, N, K, alpha, nA!, nB!, beta, nC!);
              ref.gemm(transA, transB, M, N, K, alpha, rA!, rB!, beta, rC!);
              expectClose(nC!.data, rC!.data, 1e-5, 1e-4, `C (alpha ${alpha}, beta ${beta})`);
              expectClose(nA!.data, Float32Array.from(a), 0, 0, 'A unchanged');
              expect(nC!.buf.data[nC!.offset + M * N]).toBe(-7777);
            }
          });
        }
      }
    }
  });

  describe('addBias and sumRows', () => {
    for (const [M, N] of [[1, 1], [3, 17], [100, 33], [17, 257], [0, 5], [4, 0]] as const) {
      it(`M=${M} N=${N}`, () => {
        const random = makeRandom(M * 31 + N);
        const bias = randomValues(random, N), c = randomValues(random, M * N), out = randomValues(random, N);
        const [nBias, nC, nOut] = guardedSpans(native, bias, c, out);
        const [rBias, rC, rOut] = guardedSpans(ref, bias, c, out);
        native.addBias(M, N, nBias!, nC!);
        ref.addBias(M, N, rBias!, rC!);
        expectClose(nC!.data, rC!.data, 1e-5, 1e-4, 'addBias C');
        native.sumRows(M, N, nC!, nOut!);
        ref.sumRows(M, N, rC!, rOut!);
        expectClose(nOut!.data, rOut!.data, 1e-5, 1e-4, 'sumRows out');
      });
    }
  });

  describe('gather and scatter with repeated ids', () => {
    // [n, width, table rows (or columns)]: few rows so that ids repeat. The column kernels go through a
    // transposed table when n >= columns ([5, 40, 9]: in place); the last is big enough for them to split
    // the width over two threads (at a width that is not a multiple of 16).
    for (const [n, width, count] of [[1, 1, 1], [3, 17, 2], [17, 3, 5], [100, 33, 7], [33, 257, 3], [0, 4, 2], [5, 40, 9], [300, 517, 89]] as const) {
      it(`rows: n=${n} D=${width} R=${count}`, () => {
        const random = makeRandom(n * 97 + width * 5 + count);
        const ids = randomInts(random, n, count);
        if (n >= 3) ids[1] = ids[0]!; // at least one repeat
        const table = randomValues(random, count * width), dTable = randomValues(random, count * width), dOut = randomValues(random, n * width);
        const [nTable, nOut, nDOut, nDTable] = guardedSpans(native, table, nanArray(n * width), dOut, dTable);
        const [rTable, rOut, rDOut, rDTable] = guardedSpans(ref, table, nanArray(n * width), dOut, dTable);
        native.gatherRows(n, width, ints(native, ids), nTable!, nOut!);
        ref.gatherRows(n, width, ints(ref, ids), rTable!, rOut!);
        expectClose(nOut!.data, rOut!.data, 0, 0, 'gatherRows out');
        native.scatterAddRows(n, width, ints(native, ids), nDOut!, nDTable!);
        ref.scatterAddRows(n, width, ints(ref, ids), rDOut!, rDTable!);
        expectClose(nDTable!.data, rDTable!.data, 1e-5, 1e-4, 'scatterAddRows dTable');
      });
      it(`columns: n=${n} R=${width} C=${count}`, () => {
        const random = makeRandom(n * 89 + width * 3 + count);
        const ids = randomInts(random, n, count);
        if (n >= 3) ids[2] = ids[0]!;
        const W = randomValues(random, width * count), dW = randomValues(random, width * count), dOut = randomValues(random, n * width);
        const [nW, nOut, nDOut, nDW] = guardedSpans(native, W, nanArray(n * width), dOut, dW);
        const [rW, rOut, rDOut, rDW] = guardedSpans(ref, W, nanArray(n * width), dOut, dW);
        native.gatherColumns(n, width, ints(native, ids), nW!, nOut!);
        ref.gatherColumns(n, width, ints(ref, ids), rW!, rOut!);
        expectClose(nOut!.data, rOut!.data, 0, 0, 'gatherColumns out');
        native.scatterAddColumns(n, width, ints(native, ids), nDOut!, nDW!);
        ref.scatterAddColumns(n, width, ints(ref, ids), rDOut!, rDW!);
        expectClose(nDW!.data, rDW!.data, 1e-5, 1e-4, 'scatterAddColumns dW');
      });
    }
  });

  describe('cellForward and cellBackward', () => {
    const shapes: [number, number, number][] = [[1, 1, 1], [1, 3, 17], [5, 1, 3], [4, 3, 33], [3, 2, 100], [2, 3, 257], [17, 2, 5]];
    for (const kind of CELL_KINDS) {
      for (const [T, B, H] of shapes) {
        it(`${kind} T=${T} B=${B} H=${H}`, () => {
          checkCell(kind, T, B, H);
        });
      }
    }

    function checkCell(kind: CellKind, T: number, B: number, H: number): void {
      const random = makeRandom(T * 7919 + B * 104729 + H * 13 + CELL_KINDS.indexOf(kind));
      const G = gatesOf(kind), GH = G * H, CW = cacheWidth(kind) * H, lstm = kind === 'lstm';
      const xProj = randomValues(random, T * B * GH), wHh = randomValues(random, GH * H, 1.5 / Math.sqrt(H));
      const bIh = randomValues(random, GH, 0.2), bHh = randomValues(random, GH, 0.2);
      const hs = [...randomValues(random, B * H), ...nanArray(T * B * H)];
      const cs = lstm ? [...randomValues(random, B * H, 2), ...nanArray(T * B * H)] : null;
      const cache = nanArray(T * B * CW);

      // forward on the same inputs
      const [nx, nw, nbi, nbh, nhs, ncs, ncache] = guardedSpans(native, xProj, wHh, bIh, bHh, hs, cs, cache);
      const [rx, rw, rbi, rbh, rhs, rcs, rcache] = guardedSpans(ref, xProj, wHh, bIh, bHh, hs, cs, cache);
      native.cellForward(kind, T, B, H, nx!, nw!, nbi!, nbh!, nhs!, ncs!, ncache!);
      ref.cellForward(kind, T, B, H, rx!, rw!, rbi!, rbh!, rhs!, rcs!, rcache!);
      expectClose(nhs!.data, rhs!.data, 1e-5, 1e-4, 'hs');
      expectClose(ncs!.data, rcs!.data, 1e-5, 1e-4, 'cs');
      expectClose(ncache!.data, rcache!.data, 1e-5, 1e-4, 'cache');

      // backward on the same inputs (the reference's forward results), outputs pre-filled with NaN
      const dhs = randomValues(random, T * B * H), dhN = randomValues(random, B * H), dcN = lstm ? randomValues(random, B * H) : null;
      const hsR = Array.from(rhs!.data), csR = lstm ? Array.from(rcs!.data) : null, cacheR = Array.from(rcache!.data);
      const outs = [nanArray(T * B * GH), nanArray(T * B * GH), nanArray(B * H), lstm ? nanArray(B * H) : null];
      const [nw2, nhs2, ncs2, ncache2, ndhs, ndhN, ndcN, ndGx, ndGh, ndh0, ndc0] = guardedSpans(native, wHh, hsR, csR, cacheR, dhs, dhN, dcN, ...outs);
      const [rw2, rhs2, rcs2, rcache2, rdhs, rdhN, rdcN, rdGx, rdGh, rdh0, rdc0] = guardedSpans(ref, wHh, hsR, csR, cacheR, dhs, dhN, dcN, ...outs);
      native.cellBackward(kind, T, B, H, nw2!, nhs2!, ncs2!, ncache2!, ndhs!, ndhN!, ndcN!, ndGx!, ndGh!, ndh0!, ndc0!);
      ref.cellBackward(kind, T, B, H, rw2!, rhs2!, rcs2!, rcache2!, rdhs!, rdhN!, rdcN!, rdGx!, rdGh!, rdh0!, rdc0!);
      expectClose(ndGx!.data, rdGx!.data, 1e-5, 1e-4, 'dGx');
      expectClose(ndGh!.data, rdGh!.data, 1e-5, 1e-4, 'dGh');
      expectClose(ndh0!.data, rdh0!.data, 1e-5, 1e-4, 'dh0');
      expectClose(ndc0!.data, rdc0!.data, 1e-5, 1e-4, 'dc0');
      expectClose(ndhN!.data, Float32Array.from(dhN), 0, 0, 'dhN unchanged');
      expect(ndc0!.buf.data[ndc0!.offset + ndc0!.length]).toBe(-7777);
    }

    it('a forward + backward chain on native alone matches the same chain on the reference (lstm, gru)', () => {
      for (const kind of ['lstm', 'gru'] as const) {
        const T = 6, B = 2, H = 9, G = gatesOf(kind), CW = cacheWidth(kind) * H, lstm = kind === 'lstm';
        const random = makeRandom(kind === 'lstm' ? 41 : 43);
        const inputs = [randomValues(random, T * B * G * H), randomValues(random, G * H * H, 0.5), randomValues(random, G * H, 0.1), randomValues(random, G * H, 0.1)];
        const results = [native, ref].map((backend) => {
          const [x, w, bi, bh, hs, cs, cache, dhs, dhN, dcN, dGx, dGh, dh0, dc0] = guardedSpans(
            backend, ...inputs, new Array((T + 1) * B * H).fill(0.1), lstm ? new Array((T + 1) * B * H).fill(-0.1) : null,
            new Array(T * B * CW).fill(0), new Array(T * B * H).fill(0.3), new Array(B * H).fill(0), lstm ? new Array(B * H).fill(0) : null,
            new Array(T * B * G * H).fill(0), new Array(T * B * G * H).fill(0), new Array(B * H).fill(0), lstm ? new Array(B * H).fill(0) : null,
          );
          backend.cellForward(kind, T, B, H, x!, w!, bi!, bh!, hs!, cs!, cache!);
          backend.cellBackward(kind, T, B, H, w!, hs!, cs!, cache!, dhs!, dhN!, dcN!, dGx!, dGh!, dh0!, dc0!);
          return [hs!, dGx!, dGh!, dh0!, dc0!].map((s) => Array.from(s.data));
        });
        results[0]!.forEach((values, i) => expectClose(values, results[1]![i]!, 1e-5, 1e-4, `${kind} output ${i}`));
      }
    });
  });

  describe('softmaxCrossEntropy', () => {
    // [300, 257] is split over two threads by rows
    for (const [N, V] of [[1, 1], [3, 17], [17, 3], [33, 100], [100, 257], [4, 1], [0, 5], [300, 257]] as const) {
      it(`N=${N} V=${V} with and without dLogits, with -1 targets`, () => {
        const random = makeRandom(N * 3 + V * 101);
        const logits = randomValues(random, N * V, 4);
        const targets = randomInts(random, N, V).map((t, i) => (i % 4 === 1 ? -1 : t));
        for (const scale of [1, 1 / Math.max(N, 1)]) {
          const [nLogits, nD] = guardedSpans(native, logits, nanArray(N * V));
          const [rLogits, rD] = guardedSpans(ref, logits, nanArray(N * V));
          const nLoss = native.softmaxCrossEntropy(N, V, nLogits!, ints(native, targets), scale, nD!);
          const rLoss = ref.softmaxCrossEntropy(N, V, rLogits!, ints(ref, targets), scale, rD!);
          // a sum over N rows: abs 1e-5 per row
          expectClose([nLoss], [rLoss], 1e-5 * Math.max(N, 1), 1e-5, 'loss');
          expectClose(nD!.data, rD!.data, 1e-5, 1e-4, 'dLogits');
          const lossOnly = native.softmaxCrossEntropy(N, V, nLogits!, ints(native, targets), scale, null);
          expect(lossOnly).toBeCloseTo(nLoss, 10);
        }
      });
    }

    it('gives the same bits on 1 and 2 threads (row losses summed in row order)', () => {
      const N = 300, V = 257, random = makeRandom(4242);
      const logits = randomValues(random, N * V, 4), targets = randomInts(random, N, V);
      const results = [1, 2].map((threads) => {
        const backend = loadNativeBackend({ threads });
        const [x, d] = guardedSpans(backend, logits, nanArray(N * V));
        return { loss: backend.softmaxCrossEntropy(N, V, x!, ints(backend, targets), 1 / N, d!), d: Array.from(d!.data) };
      });
      expect(results[1]!.loss).toBe(results[0]!.loss);
      expect(results[1]!.d).toEqual(results[0]!.d);
    });

    it('skips every row whose target is -1 (zero loss, zero gradient rows)', () => {
      const [logits, d] = guardedSpans(native, [1, 2, 3, 4, 5, 6], nanArray(6));
      expect(native.softmaxCrossEntropy(2, 3, logits!, ints(native, [-1, -1]), 1, d!)).toBe(0);
      expect(Array.from(d!.data)).toEqual([0, 0, 0, 0, 0, 0]);
    });
  });

  describe('clipValue, sumSquares, scale', () => {
    for (const n of [0, 1, 3, 17, 257, 10_000]) {
      it(`n=${n}`, () => {
        const random = makeRandom(n + 5);
        const values = randomValues(random, n, 3);
        for (const limit of [1, 0.5, 0, -0.5]) {
          const [nx] = guardedSpans(native, values);
          const [rx] = guardedSpans(ref, values);
          native.clipValue(nx!, limit);
          ref.clipValue(rx!, limit);
          expectClose(nx!.data, rx!.data, 0, 0, `clipValue limit ${limit}`);
        }
        const [nx] = guardedSpans(native, values);
        const [rx] = guardedSpans(ref, values);
        // both add the exact float64 squares; native sums vector lanes apart (another order): 1e-13 relative
        const sum = ref.sumSquares(rx!);
        expect(Math.abs(native.sumSquares(nx!) - sum)).toBeLessThanOrEqual(1e-13 * sum);
        for (const s of [-1.5, 0, 0.1]) {
          native.scale(nx!, s);
          ref.scale(rx!, s);
          expectClose(nx!.data, rx!.data, 1e-6, 1e-6, `scale ${s}`);
        }
      });
    }

    it('clipValue keeps NaN and clamps infinities, like the reference', () => {
      const values = [NaN, Infinity, -Infinity, 0.25];
      const [nx] = guardedSpans(native, values);
      const [rx] = guardedSpans(ref, values);
      native.clipValue(nx!, 1);
      ref.clipValue(rx!, 1);
      expect(Array.from(nx!.data)).toEqual(Array.from(rx!.data));
      expect(Array.from(nx!.data)).toEqual([NaN, 1, -1, 0.25]);
    });
  });

  describe('optimizer updates', () => {
    for (const n of [1, 3, 17, 257, 1000]) {
      for (const weightDecay of [0, 0.01]) {
        it(`adagradUpdate and sgdUpdate n=${n} weightDecay=${weightDecay}`, () => {
          const random = makeRandom(n * 2 + (weightDecay ? 1 : 0));
          const param = randomValues(random, n), grad = randomValues(random, n);
          const sum = Array.from({ length: n }, () => 0.01 + random());
          const [np, ng, ns] = guardedSpans(native, param, grad, sum);
          const [rp, rg, rs] = guardedSpans(ref, param, grad, sum);
          for (let step = 0; step < 3; step++) {
            native.adagradUpdate(np!, ng!, ns!, 0.1, 1e-10, weightDecay);
            ref.adagradUpdate(rp!, rg!, rs!, 0.1, 1e-10, weightDecay);
          }
          expectClose(np!.data, rp!.data, 1e-5, 1e-4, 'adagrad param');
          expectClose(ns!.data, rs!.data, 1e-5, 1e-4, 'adagrad sum');
          expectClose(ng!.data, Float32Array.from(grad), 0, 0, 'grad unchanged');
          native.sgdUpdate(np!, ng!, 0.05, weightDecay);
          ref.sgdUpdate(rp!, rg!, 0.05, weightDecay);
          expectClose(np!.data, rp!.data, 1e-5, 1e-4, 'sgd param');
        });
      }
    }

    it('sumSquares and every update give the same bits on 1 and 2 threads at a size that is split (n = 600,017)', () => {
      const n = 600_017, random = makeRandom(17);
      const param = randomValues(random, n), grad = randomValues(random, n), state = randomValues(random, n).map(Math.abs);
      const results = [1, 2].map((threads) => {
        const b = loadNativeBackend({ threads });
        const [p, g, s1, s2] = guardedSpans(b, param, grad, state, state);
        const norm = b.sumSquares(g!);
        b.adamUpdate(p!, g!, s1!, s2!, 1e-3, 0.9, 0.999, 1e-8, 0.01, false, 3);
        b.rmspropUpdate(p!, g!, s1!, 1e-3, 0.99, 1e-8, 0);
        b.momentumUpdate(p!, g!, s2!, 0.1, 0.9, 0, true, 0, false);
        b.adagradUpdate(p!, g!, s1!, 0.1, 1e-10, 0);
        b.sgdUpdate(p!, g!, 0.05, 0.01);
        return { norm, p: Buffer.from(p!.data.slice().buffer), s1: Buffer.from(s1!.data.slice().buffer), s2: Buffer.from(s2!.data.slice().buffer) };
      });
      expect(results[1]!.norm).toBe(results[0]!.norm);
      expect(results[0]!.norm).toBeCloseTo(grad.reduce((sum, x) => sum + Math.fround(x) ** 2, 0), 6);
      for (const key of ['p', 's1', 's2'] as const) expect(results[1]![key].equals(results[0]![key]), key).toBe(true);
    });
  });
});
