// Every kernel of the wasm backend against the f32 reference backend on the same inputs, for both builds
// (plain f32x4 SIMD and relaxed SIMD). Shapes mix 1, 3, 17, 33, 100, 257 and 513 so the f32x4 main loops,
// the 4×8 micro-tiles and their partial edge tiles, the packing tails and the K/M/N cache blocks
// (KC 256, MC 128, NC 2048 in assembly/gemm.ts) all run. Wasm outputs are sub-spans at an odd offset inside
// guarded buffers: loads and stores are unaligned, and the guards prove nothing is written outside the span.
import { setFlagsFromString } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Backend, CELL_KINDS, type CellKind, type F, type I, Span, cacheWidth, gatesOf } from '../src/backend/types.js';
import { WASM_BUILDS, type WasmBuild, loadWasmBackend, wasmRelaxedSimdSupported } from '../src/backend/wasm.js';
import { expectClose, floatSpan, intSpan, makeRandom, randomValues } from './helpers.js';

// Node 20 has relaxed SIMD behind a V8 flag: turn it on in this test process (a fork of its own) so the
// relaxed build is tested wherever V8 can run it at all.
if (!wasmRelaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
const BUILDS: WasmBuild[] = WASM_BUILDS.filter((build) => build === 'simd' || wasmRelaxedSimdSupported());
const FILES: Record<WasmBuild, string> = { simd: 'rnnkit.wasm', relaxed: 'rnnkit.relaxed.wasm' };

let wasm: Backend;
const ref = new ReferenceBackend();

it('runs the relaxed-SIMD build wherever V8 supports it', () => {
  expect(BUILDS).toEqual(wasmRelaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd']);
});

const PAD = 3;
const GUARD = 12345.5;

/** A wasm float span holding `values` at offset PAD inside a buffer whose PAD-element margins hold GUARD. */
function wspan(values: ArrayLike<number>): F {
  const buf = wasm.allocFloat(values.length + 2 * PAD);
  buf.data.fill(GUARD);
  const span = new Span(buf, PAD, values.length);
  span.data.set(Array.from(values));
  return span;
}

function wint(values: ArrayLike<number>): I {
  const buf = wasm.allocInt(values.length + 2 * PAD);
  buf.data.fill(-7);
  const span = new Span(buf, PAD, values.length);
  span.data.set(Array.from(values));
  return span;
}

function expectGuards(span: F, what: string): void {
  const d = span.buf.data;
  for (let i = 0; i < PAD; i++) {
    expect(d[span.offset - PAD + i], `${what}: guard before`).toBe(GUARD);
    expect(d[span.offset + span.length + i], `${what}: guard after`).toBe(GUARD);
  }
}

/** Both backends' spans for the same values. */
function both(values: ArrayLike<number>): { w: F; r: F } {
  return { w: wspan(values), r: floatSpan(ref, values) };
}

function bothInt(values: ArrayLike<number>): { w: I; r: I } {
  return { w: wint(values), r: intSpan(ref, values) };
}

function expectSame(pair: { w: F; r: F }, what: string, abs = 1e-5, rel = 1e-4): void {
  expectClose(pair.w.data, pair.r.data, abs, rel, what);
  expectGuards(pair.w, what);
}

function ids(random: () => number, n: number, limit: number): number[] {
  return Array.from({ length: n }, () => Math.floor(random() * limit));
}

describe.each(BUILDS)('%s build', (build) => {
  beforeAll(async () => {
    wasm = await loadWasmBackend({ build });
  });

  describe('gemm', () => {
    const shapes: [number, number, number][] = [
      [1, 1, 1], [3, 17, 33], [17, 33, 3], [33, 100, 17], [100, 3, 257], [4, 8, 1], [8, 16, 4],
      [257, 1, 5], [5, 257, 100], [9, 17, 300], [6, 40, 520], [2, 4, 0], [0, 3, 5],
      // Across the cache blocks: M > MC (128), K > KC (256), N > NC (4096), each with partial tiles.
      [513, 33, 257], [33, 513, 513], [5, 4103, 9], [4, 4099, 3], [257, 100, 1], [1, 3, 513],
      // Fewer than 4 rows: no packing (op(B) streamed per row), 16- and 4-column blocks and K tails.
      [1, 2057, 300], [2, 37, 513], [3, 100, 7], [3, 2057, 17],
    ];
    for (const [M, N, K] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          it(`M=${M} N=${N} K=${K} transA=${transA} transB=${transB}`, () => {
            const random = makeRandom(M * 7919 + N * 104729 + K * 31 + (transA ? 1 : 0) + (transB ? 2 : 0));
            const A = both(randomValues(random, M * K));
            const B = both(randomValues(random, K * N));
            // Sums of K products of values in [-1, 1]: f32 accumulation error grows like √K; up to K = 520 the
            // default tolerance holds.
            for (const [alpha, beta] of [[1, 0], [1, 1], [-0.7, 0.5]] as const) {
              const C = both(beta === 0 ? new Array<number>(M * N).fill(Number.NaN) : randomValues(random, M * N));
              wasm.gemm(transA, transB, M, N, K, alpha, A.w, B.w, beta, C.w);
              ref.gemm(transA, transB, M, N, K, alpha, A.r, B.r, beta, C.r);
              expectSame(C, `C (alpha ${alpha}, beta ${beta})`);
            }
            expectSame(A, 'A unchanged');
            expectSame(B, 'B unchanged');
          });
        }
      }
    }
  });

  describe('addBias and sumRows', () => {
    for (const [M, N] of [[1, 1], [3, 17], [17, 3], [33, 100], [2, 257], [100, 33], [5, 0], [0, 5]] as const) {
      it(`M=${M} N=${N}`, () => {
        const random = makeRandom(M * 1000 + N);
        const bias = both(randomValues(random, N));
        const C = both(randomValues(random, M * N));
        wasm.addBias(M, N, bias.w, C.w);
        ref.addBias(M, N, bias.r, C.r);
        expectSame(C, 'addBias C');
        const out = both(randomValues(random, N));
        wasm.sumRows(M, N, C.w, out.w);
        ref.sumRows(M, N, C.r, out.r);
        expectSame(out, 'sumRows out');
      });
    }
  });

  describe('gather and scatter', () => {
    // The column kernels go through a transposed copy of W when n >= columns and R·columns fits the GEMM's
    // 4 MiB scratch ([257, 513, 89]: the one-hot LSTM input), else gather lane by lane ([3, 17, 5], [1100, 1100, 1000]).
    for (const [n, D, rows] of [[1, 1, 1], [3, 17, 5], [17, 3, 4], [33, 100, 7], [100, 257, 3], [0, 5, 2], [257, 513, 89], [1100, 1100, 1000]] as const) {
      it(`rows: n=${n} D=${D} table rows=${rows} (repeated ids)`, () => {
        const random = makeRandom(n * 31 + D);
        const id = bothInt(ids(random, n, rows));
        const table = both(randomValues(random, rows * D));
        const out = both(new Array<number>(n * D).fill(Number.NaN));
        wasm.gatherRows(n, D, id.w, table.w, out.w);
        ref.gatherRows(n, D, id.r, table.r, out.r);
        expectSame(out, 'gatherRows out', 0, 0);
        const dOut = both(randomValues(random, n * D));
        wasm.scatterAddRows(n, D, id.w, dOut.w, table.w);
        ref.scatterAddRows(n, D, id.r, dOut.r, table.r);
        expectSame(table, 'scatterAddRows dTable');
      });

      it(`columns: n=${n} R=${D} W columns=${rows} (repeated ids)`, () => {
        const random = makeRandom(n * 37 + D);
        const R = D, cols = rows;
        const id = bothInt(ids(random, n, cols));
        const W = both(randomValues(random, R * cols));
        const out = both(new Array<number>(n * R).fill(Number.NaN));
        wasm.gatherColumns(n, R, id.w, W.w, out.w);
        ref.gatherColumns(n, R, id.r, W.r, out.r);
        expectSame(out, 'gatherColumns out', 0, 0);
        const dOut = both(randomValues(random, n * R));
        wasm.scatterAddColumns(n, R, id.w, dOut.w, W.w);
        ref.scatterAddColumns(n, R, id.r, dOut.r, W.r);
        expectSame(W, 'scatterAddColumns dW');
      });
    }

    it('accumulates every repeat of one id', () => {
      const id = bothInt([1, 1, 1, 0, 1]);
      const table = both([0, 0, 10, 20]);
      const dOut = both([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      wasm.scatterAddRows(5, 2, id.w, dOut.w, table.w);
      expect(Array.from(table.w.data)).toEqual([7, 8, 10 + 1 + 3 + 5 + 9, 20 + 2 + 4 + 6 + 10]);
    });
  });

  describe('cells', () => {
    // B = 6, 5: a full and a partial 4-row tile of the packed W_hh; B < 4: W_hh unpacked; H = 257, 513:
    // K blocks of 256 in the packed W_hh (forward K = H, backward K = G·H) and partial 8-column panels.
    const sizes: [number, number, number][] = [[1, 1, 1], [1, 3, 17], [4, 2, 3], [3, 5, 33], [2, 2, 100], [2, 3, 257], [2, 6, 257], [2, 5, 513], [3, 1, 257], [2, 3, 513]];
    for (const kind of CELL_KINDS) {
      for (const [T, B, H] of sizes) {
        it(`${kind} T=${T} B=${B} H=${H}: forward and backward`, () => runCell(kind, T, B, H, 1));
      }
      it(`${kind} T=3 B=2 H=19: saturated gates (pre-activations up to ±40)`, () => runCell(kind, 3, 2, 19, 40));
    }

    function runCell(kind: CellKind, T: number, B: number, H: number, xScale: number): void {
      const random = makeRandom(T * 1009 + B * 101 + H + CELL_KINDS.indexOf(kind) * 7 + xScale);
      const G = gatesOf(kind), GH = G * H, CW = cacheWidth(kind) * H;
      const hasC = kind === 'lstm';
      const wScale = 1.5 / Math.sqrt(H);
      const xProj = both(randomValues(random, T * B * GH, xScale));
      const wHh = both(randomValues(random, GH * H, wScale));
      const bIh = both(randomValues(random, GH, 0.5));
      const bHh = both(randomValues(random, GH, 0.5));
      const hsInit = [...randomValues(random, B * H), ...new Array<number>(T * B * H).fill(Number.NaN)];
      const hs = both(hsInit);
      const cs = both(hasC ? [...randomValues(random, B * H), ...new Array<number>(T * B * H).fill(Number.NaN)] : []);
      const cache = both(new Array<number>(T * B * CW).fill(Number.NaN));
      const forward = (be: Backend, s: 'w' | 'r'): void =>
        be.cellForward(kind, T, B, H, xProj[s], wHh[s], bIh[s], bHh[s], hs[s], cs[s], cache[s]);
      forward(wasm, 'w');
      forward(ref, 'r');
      expectSame(hs, 'hs');
      expectSame(cs, 'cs');
      expectSame(cache, 'cache');
      for (const input of [xProj, wHh, bIh, bHh]) expectGuards(input.w, 'inputs');

      // Backward on identical forward state (the reference's), so the two runs are independent of
      // forward rounding (relu's derivative at 0 would otherwise differ).
      hs.w.data.set(hs.r.data);
      cs.w.data.set(cs.r.data);
      cache.w.data.set(cache.r.data);
      const dhs = both(randomValues(random, T * B * H));
      const dhN = both(randomValues(random, B * H));
      const dcN = both(hasC ? randomValues(random, B * H) : []);
      const nan = (n: number): number[] => new Array<number>(n).fill(Number.NaN);
      const dGx = both(nan(T * B * GH));
      const dGh = both(nan(T * B * GH));
      const dh0 = both(nan(B * H));
      const dc0 = both(nan(hasC ? B * H : 0));
      const dbIh = both(randomValues(random, GH)), dbHh = both(randomValues(random, GH)); // accumulate
      const backward = (be: Backend, s: 'w' | 'r'): void =>
        be.cellBackward(kind, T, B, H, wHh[s], hs[s], cs[s], cache[s], dhs[s], dhN[s], dcN[s], dGx[s], dGh[s], dh0[s], dc0[s], dbIh[s], dbHh[s]);
      backward(wasm, 'w');
      backward(ref, 'r');
      expectSame(dGx, 'dGx');
      expectSame(dGh, 'dGh');
      expectSame(dbIh, 'dbIh');
      expectSame(dbHh, 'dbHh');
      expectSame(dh0, 'dh0');
      expectSame(dc0, 'dc0');
      expectSame(dhN, 'dhN unchanged', 0, 0);
      expectSame(dcN, 'dcN unchanged', 0, 0);
    }

    it('all cell kinds are covered', () => {
      expect(CELL_KINDS).toEqual(['rnn_tanh', 'rnn_relu', 'lstm', 'gru'] satisfies CellKind[]);
    });
  });

  describe('softmaxCrossEntropy', () => {
    for (const [N, V] of [[1, 1], [3, 3], [17, 33], [33, 17], [5, 257], [100, 100], [0, 3]] as const) {
      it(`N=${N} V=${V}, with and without dLogits, -1 targets skipped`, () => {
        const random = makeRandom(N * 977 + V);
        const logits = both(randomValues(random, N * V, 6));
        const targets = bothInt(Array.from({ length: N }, (_, i) => (i % 4 === 1 ? -1 : Math.floor(random() * V))));
        const scale = N > 0 ? 1 / N : 1;
        const lossRef = ref.softmaxCrossEntropy(N, V, logits.r, targets.r, scale, null);
        const lossNoGrad = wasm.softmaxCrossEntropy(N, V, logits.w, targets.w, scale, null);
        const dLogits = both(new Array<number>(N * V).fill(Number.NaN));
        const lossWithGrad = wasm.softmaxCrossEntropy(N, V, logits.w, targets.w, scale, dLogits.w);
        ref.softmaxCrossEntropy(N, V, logits.r, targets.r, scale, dLogits.r);
        // One f32 exp/log per element and row: 1e-5 absolute per row.
        const tolerance = 1e-5 * N + 1e-5 * Math.abs(lossRef);
        expect(Math.abs(lossNoGrad - lossRef)).toBeLessThanOrEqual(tolerance);
        expect(Math.abs(lossWithGrad - lossRef)).toBeLessThanOrEqual(tolerance);
        expectSame(dLogits, 'dLogits');
        expectSame(logits, 'logits unchanged', 0, 0);
      });
    }

    it('an all-skipped batch has loss 0 and zero gradients', () => {
      const logits = both([1, 2, 3, 4, 5, 6]);
      const targets = bothInt([-1, -1]);
      const d = both(new Array<number>(6).fill(Number.NaN));
      expect(wasm.softmaxCrossEntropy(2, 3, logits.w, targets.w, 1, d.w)).toBe(0);
      expect(Array.from(d.w.data)).toEqual([0, 0, 0, 0, 0, 0]);
    });

    it('stays finite for large logits', () => {
      const logits = both([1000, -1000, 999, 0, 88, 89]);
      const targets = bothInt([2, 0]);
      const d = both(new Array<number>(6).fill(0));
      const loss = wasm.softmaxCrossEntropy(2, 3, logits.w, targets.w, 0.5, d.w);
      expect(Math.abs(loss - ref.softmaxCrossEntropy(2, 3, logits.r, targets.r, 0.5, d.r))).toBeLessThan(1e-4);
      expectSame(d, 'dLogits');
    });
  });

  describe('elementwise and optimizer kernels', () => {
    for (const n of [0, 1, 3, 17, 33, 100, 257]) {
      it(`clipValue, sumSquares, scale on ${n} values`, () => {
        const random = makeRandom(n + 5);
        const values = randomValues(random, n, 3);
        if (n >= 3) values.splice(0, 2, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
        const x = both(values);
        wasm.clipValue(x.w, 1.25);
        ref.clipValue(x.r, 1.25);
        expectSame(x, 'clipValue', 0, 0);
        const ss = wasm.sumSquares(x.w);
        expect(Math.abs(ss - ref.sumSquares(x.r))).toBeLessThanOrEqual(1e-12 * Math.max(1, ss));
        wasm.scale(x.w, -0.37);
        ref.scale(x.r, -0.37);
        expectSame(x, 'scale');
      });

      it(`adagradUpdate and sgdUpdate on ${n} values`, () => {
        const random = makeRandom(n + 11);
        const param = both(randomValues(random, n));
        const grad = both(randomValues(random, n));
        const sum = both(randomValues(random, n).map(Math.abs));
        for (const wd of [0, 0.01]) {
          wasm.adagradUpdate(param.w, grad.w, sum.w, 0.1, 1e-10, wd);
          ref.adagradUpdate(param.r, grad.r, sum.r, 0.1, 1e-10, wd);
          expectSame(param, `adagrad param (wd ${wd})`);
          expectSame(sum, `adagrad sum (wd ${wd})`);
          wasm.sgdUpdate(param.w, grad.w, 0.05, wd);
          ref.sgdUpdate(param.r, grad.r, 0.05, wd);
          expectSame(param, `sgd param (wd ${wd})`);
        }
        expectSame(grad, 'grad unchanged', 0, 0);
      });
    }

    it('clipValue keeps NaN', () => {
      const x = wspan([Number.NaN, 2, -2, 0.5, Number.NaN]);
      wasm.clipValue(x, 1);
      expect(Array.from(x.data)).toEqual([Number.NaN, 1, -1, 0.5, Number.NaN]);
    });

    it('sumSquares accumulates in float64', () => {
      // 2^24 + 1 is not representable in f32: an f32 accumulator would lose the ones.
      const x = wspan([4096, ...new Array<number>(7).fill(1)]);
      expect(wasm.sumSquares(x)).toBe(4096 * 4096 + 7);
    });
  });

  describe('vector exp, tanh and sigmoid (the activations export)', () => {
    // The module itself, without the backend: `activations(fn, n, x, out)` evaluates the f32x4 functions the
    // kernels use (fn 0 exp, 1 tanh, 2 sigmoid) over n floats, the last n % 4 through the splatted-lane path.
    type Raw = { memory: { buffer: ArrayBuffer; grow(pages: number): number }; heapBase(): number; activations(fn: number, n: number, x: number, out: number): void };
    let raw: Raw;

    beforeAll(async () => {
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(new URL(`../build/wasm/${FILES[build]}`, import.meta.url));
      const api = (globalThis as unknown as { WebAssembly: { instantiate(b: Uint8Array, i: object): Promise<{ instance: { exports: unknown } }> } }).WebAssembly;
      raw = (await api.instantiate(new Uint8Array(bytes), {})).instance.exports as Raw;
    });

    /** Max relative error (in units of 2^-23) of f over the grid, against f64 Math, for |expected| >= 1e-30;
     *  max absolute error below that. */
    function measure(fn: number, xs: number[], exact: (x: number) => number): { ulps: number; at: number; tinyAbs: number } {
      const n = xs.length;
      const base = Math.ceil(raw.heapBase() / 16) * 16;
      const need = base + 8 * n + 64 - raw.memory.buffer.byteLength;
      if (need > 0) raw.memory.grow(Math.ceil(need / 65536));
      const x = new Float32Array(raw.memory.buffer, base, n);
      x.set(xs);
      raw.activations(fn, n, base, base + 4 * n + 16 - ((4 * n) % 16));
      const out = new Float32Array(raw.memory.buffer, base + 4 * n + 16 - ((4 * n) % 16), n);
      let ulps = 0, at = 0, tinyAbs = 0;
      for (let i = 0; i < n; i++) {
        const want = exact(x[i]!);
        const err = Math.abs(out[i]! - want);
        if (Math.abs(want) >= 1e-30) {
          const u = err / Math.abs(want) / 2 ** -23;
          if (!(u <= ulps)) { ulps = u; at = x[i]!; }
        } else if (!(err <= tinyAbs)) {
          tinyAbs = err;
        }
      }
      return { ulps, at, tinyAbs };
    }

    const grid = (lo: number, hi: number, n: number): number[] => Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

    it('exp: <= 2 units of 2^-23 relative error over [-87.3, 88]', () => {
      const r = measure(0, [...grid(-87.3, 88, 200_001), 0, -0, 1e-8, -1e-8], Math.exp);
      expect(r.ulps, `worst at ${r.at}`).toBeLessThanOrEqual(2);
    });

    it('tanh: <= 2 units relative error over [-12, 12] and exact signs and limits', () => {
      const r = measure(1, [...grid(-12, 12, 200_003), ...grid(-0.7, 0.7, 10_001), 1e-20, -1e-20, 0.625, -0.625], Math.tanh);
      expect(r.ulps, `worst at ${r.at}`).toBeLessThanOrEqual(2);
      const edge = measure(1, [50, -50, 1e4, -1e4, 89, -89], Math.tanh);
      expect(edge.ulps).toBe(0);
    });

    it('sigmoid: <= 2 units relative error over [-80, 80], tiny absolute error beyond', () => {
      const r = measure(2, [...grid(-80, 80, 200_001), 0], sigmoid);
      expect(r.ulps, `worst at ${r.at}`).toBeLessThanOrEqual(2);
      const far = measure(2, [-100, -1000, -1e30, 100, 1000, 1e30], sigmoid);
      expect(far.ulps).toBe(0);
      expect(far.tinyAbs).toBeLessThan(1e-37);
    });

    it('NaN stays NaN', () => {
      for (const fn of [0, 1, 2]) {
        const base = Math.ceil(raw.heapBase() / 16) * 16;
        const x = new Float32Array(raw.memory.buffer, base, 5);
        x.set([Number.NaN, 1, Number.NaN, 2, Number.NaN]);
        raw.activations(fn, 5, base, base + 32);
        const out = new Float32Array(raw.memory.buffer, base + 32, 5);
        expect([0, 2, 4].map((i) => Number.isNaN(out[i]!))).toEqual([true, true, true]);
        expect([1, 3].map((i) => Number.isNaN(out[i]!))).toEqual([false, false]);
      }
    });
  });

  it('info', () => {
    expect(wasm.info()).toEqual({ name: 'wasm', dtype: 'f32', simd: build === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd128', threads: 1 });
    expect(wasm.name).toBe('wasm');
    expect(wasm.dtype).toBe('f32');
  });
});
