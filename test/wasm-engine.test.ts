// The wasm module itself, for both builds (plain f32x4 SIMD and relaxed SIMD): the vectorised exp, tanh and
// sigmoid meet their stated accuracy, and info() names the build. Its kernels against the reference are in
// the cross-backend suite (test/kernels-*.test.ts); memory and validation in wasm-memory.test.ts.
import { setFlagsFromString } from 'node:v8';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/types.js';
import { WASM_BUILDS, type WasmBuild, loadWasmBackend, wasmRelaxedSimdSupported } from '../src/backend/wasm.js';

// Node 20 has relaxed SIMD behind a V8 flag: turn it on in this test process (a fork of its own) so the
// relaxed build is tested wherever V8 can run it at all.
if (!wasmRelaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
const BUILDS: WasmBuild[] = WASM_BUILDS.filter((build) => build === 'simd' || wasmRelaxedSimdSupported());
const FILES: Record<WasmBuild, string> = { simd: 'rnnkit.wasm', relaxed: 'rnnkit.relaxed.wasm' };

let wasm: Backend;

it('runs the relaxed-SIMD build wherever V8 supports it', () => {
  expect(BUILDS).toEqual(wasmRelaxedSimdSupported() ? ['simd', 'relaxed'] : ['simd']);
});

describe.each(BUILDS)('%s build', (build) => {
  beforeAll(async () => {
    wasm = await loadWasmBackend({ build });
  });

  describe('vector exp, tanh and sigmoid (the activations export)', () => {
    // The module itself, without the backend: `activations(fn, n, x, out)` evaluates the f32x4 functions the
    // kernels use (fn 0 exp, 1 tanh, 2 sigmoid) over n floats, the last n % 4 through the splatted-lane path.
    type Raw = {
      memory: { buffer: ArrayBuffer; grow(pages: number): number };
      heapBase(): number;
      activations(fn: number, n: number, x: number, out: number): void;
    };
    let raw: Raw;

    beforeAll(async () => {
      const { readFile } = await import('node:fs/promises');
      const bytes = await readFile(new URL(`../build/wasm/${FILES[build]}`, import.meta.url));
      const api = (
        globalThis as unknown as {
          WebAssembly: {
            instantiate(b: Uint8Array, i: object): Promise<{ instance: { exports: unknown } }>;
            Memory: new (d: { initial: number; maximum: number; shared: boolean }) => unknown;
          };
        }
      ).WebAssembly;
      // The module imports its memory, declared shared (see asconfig.json).
      const memory = new api.Memory({ initial: 1, maximum: 65536, shared: true });
      raw = (await api.instantiate(new Uint8Array(bytes), { env: { memory } })).instance.exports as Raw;
    });

    /** Max relative error (in units of 2^-23) of f over the grid, against f64 Math, for |expected| >= 1e-30;
     *  max absolute error below that. */
    function measure(
      fn: number,
      xs: number[],
      exact: (x: number) => number,
    ): { ulps: number; at: number; tinyAbs: number } {
      const n = xs.length;
      const base = Math.ceil(raw.heapBase() / 16) * 16;
      const need = base + 8 * n + 64 - raw.memory.buffer.byteLength;
      if (need > 0) raw.memory.grow(Math.ceil(need / 65536));
      const x = new Float32Array(raw.memory.buffer, base, n);
      x.set(xs);
      raw.activations(fn, n, base, base + 4 * n + 16 - ((4 * n) % 16));
      const out = new Float32Array(raw.memory.buffer, base + 4 * n + 16 - ((4 * n) % 16), n);
      let ulps = 0,
        at = 0,
        tinyAbs = 0;
      for (let i = 0; i < n; i++) {
        const want = exact(x[i]!);
        const err = Math.abs(out[i]! - want);
        if (Math.abs(want) >= 1e-30) {
          const u = err / Math.abs(want) / 2 ** -23;
          if (!(u <= ulps)) {
            ulps = u;
            at = x[i]!;
          }
        } else if (!(err <= tinyAbs)) {
          tinyAbs = err;
        }
      }
      return { ulps, at, tinyAbs };
    }

    const grid = (lo: number, hi: number, n: number): number[] =>
      Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
    const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

    it('exp: <= 2 units of 2^-23 relative error over [-87.3, 88]', () => {
      const r = measure(0, [...grid(-87.3, 88, 200_001), 0, -0, 1e-8, -1e-8], Math.exp);
      expect(r.ulps, `worst at ${r.at}`).toBeLessThanOrEqual(2);
    });

    it('tanh: <= 2 units relative error over [-12, 12] and exact signs and limits', () => {
      const r = measure(
        1,
        [...grid(-12, 12, 200_003), ...grid(-0.7, 0.7, 10_001), 1e-20, -1e-20, 0.625, -0.625],
        Math.tanh,
      );
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
    expect(wasm.info()).toEqual({
      name: 'wasm',
      dtype: 'f32',
      simd: build === 'relaxed' ? 'wasm-relaxed-simd' : 'wasm-simd128',
      threads: 1,
    });
    expect(wasm.name).toBe('wasm');
    expect(wasm.dtype).toBe('f32');
  });
});
