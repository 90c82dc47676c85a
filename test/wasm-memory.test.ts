// The wasm backend's memory: growth keeps earlier buffers and their live views, spans from other backends
// are refused, validation errors are thrown before anything is written, and the loader explains failures.
import { beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Backend, type FloatSpan, Span, cacheWidth, gatesOf } from '../src/backend/types.js';
import { WasmBackend, loadWasmBackend, wasmRelaxedSimdSupported } from '../src/backend/wasm.js';
import { expectClose, floatSpan, intSpan, makeRandom, randomValues } from './helpers.js';

let wasm: Backend;
const ref = new ReferenceBackend();

beforeAll(async () => {
  wasm = await loadWasmBackend();
});

const MiB = 1 << 20;

describe('allocation and growth', () => {
  it('allocates zeroed, 16-byte aligned buffers', () => {
    for (const n of [0, 1, 3, 5, 17]) {
      const f = wasm.allocFloat(n);
      const i = wasm.allocInt(n);
      expect(f.length).toBe(n);
      expect(f.data.length).toBe(n);
      expect(f.data.byteOffset % 16).toBe(0);
      expect(i.data.byteOffset % 16).toBe(0);
      expect(Array.from(f.data).every((v) => v === 0)).toBe(true);
      expect(Array.from(i.data).every((v) => v === 0)).toBe(true);
    }
  });

  it('buffers do not overlap', () => {
    const a = wasm.allocFloat(5);
    const b = wasm.allocFloat(5);
    a.data.fill(1);
    b.data.fill(2);
    expect(Array.from(a.data)).toEqual([1, 1, 1, 1, 1]);
    expect(a.data.byteOffset + 20).toBeLessThanOrEqual(b.data.byteOffset);
  });

  it('keeps earlier contents and live views across growth, and kernels still compute', () => {
    const random = makeRandom(42);
    const M = 5,
      N = 17,
      K = 33;
    const aValues = randomValues(random, M * K).map(Math.fround);
    const A = floatSpan(wasm, aValues);
    const ids = intSpan(wasm, [3, 1, 4, 1, 5]);
    const before = A.buf.data;
    const beforeIds = ids.buf.data;
    expect(before.length).toBe(M * K);

    // Force several growths: each allocation is larger than anything allocated so far.
    const big: FloatSpan[] = [];
    for (const mib of [8, 24, 48]) {
      const buf = wasm.allocFloat((mib * MiB) / 4);
      buf.data[buf.length - 1] = mib;
      big.push(Span.of(buf));
    }
    // Growth replaced the ArrayBuffer: the old views are detached (length 0) ...
    expect(before.length).toBe(0);
    expect(beforeIds.length).toBe(0);
    // ... while the Buf getters give live views of the same contents.
    expectClose(A.buf.data, aValues, 0, 0, 'A after growth');
    expect(Array.from(ids.data)).toEqual([3, 1, 4, 1, 5]);
    expect(big.map((s) => s.data[s.length - 1])).toEqual([8, 24, 48]);
    expect(A.buf.data).toBe(A.buf.data); // the view is cached while memory does not grow

    // A kernel mixing a pre-growth input with post-growth buffers.
    const B = floatSpan(wasm, randomValues(random, K * N));
    const C = Span.of(wasm.allocFloat(M * N));
    wasm.gemm(false, false, M, N, K, 1, A, B, 0, C);
    const Cref = Span.of(ref.allocFloat(M * N));
    ref.gemm(false, false, M, N, K, 1, floatSpan(ref, aValues), floatSpan(ref, B.data), 0, Cref);
    expectClose(C.data, Cref.data, 1e-5, 1e-4, 'C after growth');

    // An embedding lookup from a pre-growth table with pre-growth ids into a post-growth output.
    const table = floatSpan(
      wasm,
      Array.from({ length: 6 * 3 }, (_, i) => i),
    );
    const out = Span.of(wasm.allocFloat(5 * 3));
    wasm.gatherRows(5, 3, ids, table, out);
    expect(Array.from(out.data)).toEqual([9, 10, 11, 3, 4, 5, 12, 13, 14, 3, 4, 5, 15, 16, 17]);
  });

  it('refuses allocations beyond the 4 GiB wasm32 address space with a clear error', () => {
    expect(() => wasm.allocFloat(2 ** 31 - 1)).toThrow(/allocFloat: .*exceed the 4 GiB address space/);
    expect(() => wasm.allocInt(-1)).toThrow(/allocInt: expected an integer >= 0 for length but received -1/);
    expect(() => wasm.allocFloat(1.5)).toThrow(RangeError);
    // The failed requests did not disturb the allocator.
    const a = wasm.allocFloat(4);
    a.data.set([1, 2, 3, 4]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4]);
  });
});

describe('foreign spans', () => {
  it('rejects spans of the reference backend', () => {
    const mine = Span.of(wasm.allocFloat(4));
    const theirs = floatSpan(ref, [1, 2, 3, 4]);
    expect(() => wasm.gemm(false, false, 2, 2, 2, 1, theirs, mine, 0, Span.of(wasm.allocFloat(4)))).toThrow(
      new TypeError("gemm: A is not a float buffer of this wasm backend (allocate it with this backend's allocFloat)"),
    );
    expect(() => wasm.scale(theirs, 2)).toThrow(TypeError);
    expect(Array.from(theirs.data)).toEqual([1, 2, 3, 4]);
  });

  it('rejects spans of another wasm backend instance', async () => {
    const other = await loadWasmBackend();
    const theirs = floatSpan(other, [1, 2, 3]);
    const mine = floatSpan(wasm, [1, 2, 3]);
    expect(() => wasm.sgdUpdate(mine, theirs, 0.1, 0)).toThrow(
      /sgdUpdate: grad is not a float buffer of this wasm backend/,
    );
    expect(() => wasm.sumSquares(theirs)).toThrow(/sumSquares: x is not a float buffer of this wasm backend/);
    expect(Array.from(mine.data)).toEqual([1, 2, 3]);
    expect(other.sumSquares(theirs)).toBe(14);
  });

  it("rejects float and int buffers in each other's place", () => {
    const floats = wasm.allocFloat(3);
    floats.data.set([0, 1, 2]);
    const asIds = Span.of(floats) as unknown as Span<Int32Array>;
    const table = floatSpan(wasm, [1, 2, 3, 4, 5, 6]);
    const out = Span.of(wasm.allocFloat(6));
    expect(() => wasm.gatherRows(3, 2, asIds, table, out)).toThrow(
      /gatherRows: ids is not an int buffer of this wasm backend/,
    );
    const ints = Span.of(wasm.allocInt(6)) as unknown as FloatSpan;
    expect(() => wasm.clipValue(ints, 1)).toThrow(/clipValue: x is not a float buffer/);
  });
});

describe('validation before any write', () => {
  /** A wasm span filled with a sentinel, to prove a failed call wrote nothing. */
  function sentinel(n: number): FloatSpan {
    const s = Span.of(wasm.allocFloat(n));
    s.data.fill(-99);
    return s;
  }
  const untouched = (s: FloatSpan): boolean => Array.from(s.data).every((v) => v === -99);

  it('gemm: wrong lengths and aliasing', () => {
    const A = floatSpan(wasm, [1, 2, 3, 4, 5, 6]);
    const B = floatSpan(wasm, [1, 2, 3, 4, 5, 6]);
    const C = sentinel(4);
    expect(() => wasm.gemm(false, false, 2, 2, 2, 1, A, B, 0, C)).toThrow(
      new RangeError('gemm: A has 6 elements, expected 4'),
    );
    expect(() => wasm.gemm(false, false, 2, 2, 3, 1, A, B, 0, sentinel(5))).toThrow(
      /gemm: C has 5 elements, expected 4/,
    );
    expect(() => wasm.gemm(false, false, 2, 2, 3, Number.NaN, A, B, 0, C)).toThrow(
      /gemm: expected a finite number for alpha/,
    );
    expect(untouched(C)).toBe(true);
    const shared = wasm.allocFloat(10);
    const out = new Span(shared, 4, 4);
    expect(() => wasm.gemm(false, false, 2, 2, 3, 1, new Span(shared, 0, 6), B, 0, out)).toThrow(
      'gemm: output C overlaps A',
    );
    expect(Array.from(shared.data)).toEqual(new Array<number>(10).fill(0));
  });

  it('gather/scatter: out-of-range and negative ids', () => {
    const table = floatSpan(wasm, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // 5 rows of 2
    const out = sentinel(4);
    expect(() => wasm.gatherRows(2, 2, intSpan(wasm, [0, 5]), table, out)).toThrow(
      new RangeError('gatherRows: id 5 at position 1 is outside [0, 5)'),
    );
    expect(() => wasm.gatherRows(2, 2, intSpan(wasm, [-1, 0]), table, out)).toThrow(
      /id -1 at position 0 is outside \[0, 5\)/,
    );
    expect(untouched(out)).toBe(true);
    const dTable = sentinel(10);
    expect(() => wasm.scatterAddRows(2, 2, intSpan(wasm, [4, 7]), floatSpan(wasm, [1, 1, 1, 1]), dTable)).toThrow(
      /scatterAddRows: id 7 at position 1/,
    );
    expect(untouched(dTable)).toBe(true);
    const dW = sentinel(10); // R = 2 rows of 5 columns
    expect(() => wasm.scatterAddColumns(1, 2, intSpan(wasm, [5]), floatSpan(wasm, [1, 1]), dW)).toThrow(
      /scatterAddColumns: id 5 at position 0 is outside \[0, 5\)/,
    );
    expect(() => wasm.gatherColumns(1, 3, intSpan(wasm, [0]), dW, sentinel(3))).toThrow(
      /gatherColumns: table of 10 elements is not a whole number of 3-element columns/,
    );
    expect(untouched(dW)).toBe(true);
  });

  it('softmaxCrossEntropy: targets outside [-1, V) and aliasing', () => {
    const logits = floatSpan(wasm, [1, 2, 3, 4, 5, 6]);
    const d = sentinel(6);
    expect(() => wasm.softmaxCrossEntropy(2, 3, logits, intSpan(wasm, [0, 3]), 1, d)).toThrow(
      /softmaxCrossEntropy: id 3 at position 1 is outside \[-1, 3\)/,
    );
    expect(() => wasm.softmaxCrossEntropy(2, 3, logits, intSpan(wasm, [-2, 0]), 1, d)).toThrow(/id -2 at position 0/);
    expect(untouched(d)).toBe(true);
    expect(() => wasm.softmaxCrossEntropy(2, 3, logits, intSpan(wasm, [0, 1]), 1, logits)).toThrow(
      'softmaxCrossEntropy: output dLogits overlaps logits',
    );
    expect(Array.from(logits.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('cells: wrong kinds, lengths and aliasing', () => {
    const H = 3,
      B = 2,
      T = 2;
    const zeros = (n: number): FloatSpan => Span.of(wasm.allocFloat(n));
    const hs = sentinel((T + 1) * B * H);
    expect(() =>
      wasm.cellForward(
        'lstmx' as never,
        T,
        B,
        H,
        zeros(T * B * H),
        zeros(H * H),
        zeros(H),
        zeros(H),
        hs,
        zeros(0),
        zeros(0),
      ),
    ).toThrow(new TypeError('cellForward: unknown cell kind lstmx (expected one of rnn_tanh, rnn_relu, lstm, gru)'));
    expect(() =>
      wasm.cellForward(
        'gru',
        T,
        B,
        H,
        zeros(T * B * H),
        zeros(9 * H),
        zeros(9),
        zeros(9),
        hs,
        zeros(0),
        zeros(T * B * 4 * H),
      ),
    ).toThrow(/cellForward: xProj has 12 elements, expected 36/);
    expect(() =>
      wasm.cellForward(
        'rnn_tanh',
        0,
        B,
        H,
        zeros(0),
        zeros(H * H),
        zeros(H),
        zeros(H),
        zeros(B * H),
        zeros(0),
        zeros(0),
      ),
    ).toThrow(/cellForward: expected an integer >= 1 for T but received 0/);
    expect(untouched(hs)).toBe(true);
    // cache overlapping hs.
    const shared = wasm.allocFloat(64);
    shared.data.fill(-99);
    const xProj = zeros(T * B * 4 * H);
    expect(() =>
      wasm.cellForward(
        'lstm',
        T,
        B,
        H,
        xProj,
        zeros(4 * H * H),
        zeros(4 * H),
        zeros(4 * H),
        new Span(shared, 0, (T + 1) * B * H),
        zeros((T + 1) * B * H),
        new Span(shared, 10, T * B * 4 * H),
      ),
    ).toThrow('cellForward: output hs overlaps cache');
    expect(Array.from(shared.data).every((v) => v === -99)).toBe(true);
    const dh0 = sentinel(B * H);
    expect(() =>
      wasm.cellBackward(
        'rnn_tanh',
        T,
        B,
        H,
        zeros(H * H),
        zeros((T + 1) * B * H),
        zeros(0),
        zeros(0),
        zeros(T * B * H),
        zeros(B * H),
        zeros(3),
        zeros(T * B * H),
        zeros(T * B * H),
        dh0,
        zeros(0),
      ),
    ).toThrow(/cellBackward: dcN has 3 elements, expected 0/);
    expect(untouched(dh0)).toBe(true);
  });

  it('optimizer updates: mismatched lengths, bad numbers, aliasing', () => {
    const p = sentinel(5);
    expect(() => wasm.adagradUpdate(p, floatSpan(wasm, [1, 2, 3, 4]), sentinel(5), 0.1, 1e-10, 0)).toThrow(
      new RangeError('adagradUpdate: grad has 4 elements, expected 5 like param'),
    );
    expect(() => wasm.sgdUpdate(p, floatSpan(wasm, [1, 2, 3, 4, 5]), Number.POSITIVE_INFINITY, 0)).toThrow(
      /sgdUpdate: expected a finite number for lr/,
    );
    expect(() => wasm.sgdUpdate(p, p, 0.1, 0)).toThrow('sgdUpdate: output param overlaps grad');
    expect(() => wasm.scale(p, Number.NaN)).toThrow(/scale: expected a finite number for s/);
    expect(() => wasm.clipValue(p, Number.NaN)).toThrow(/clipValue: expected a finite number for limit/);
    expect(untouched(p)).toBe(true);
  });
});

describe('loader', () => {
  it('explains an invalid module', async () => {
    await expect(loadWasmBackend({ bytes: new Uint8Array([1, 2, 3, 4]) })).rejects.toThrow(
      /wasm backend: rnnkit.wasm is not a valid WebAssembly module .*run npm run build:wasm/,
    );
  });

  it('explains a module without the kernels', async () => {
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    await expect(loadWasmBackend({ bytes: empty })).rejects.toThrow(
      /wasm backend: rnnkit.wasm lacks the export\(s\) memory, heapBase, gemmScratchBytes, setGemmScratch, gemm, .*stale build.*npm run build:wasm/,
    );
  });

  it('accepts the bytes directly (the browser path)', async () => {
    const { readFile } = await import('node:fs/promises');
    const bytes = new Uint8Array(await readFile(new URL('../build/wasm/rnnkit.wasm', import.meta.url)));
    const backend = await loadWasmBackend({ bytes });
    const x = floatSpan(backend, [3, 4]);
    expect(backend.sumSquares(x)).toBe(25);
  });

  it('refuses an unknown build', async () => {
    await expect(loadWasmBackend({ build: 'avx' as never })).rejects.toThrow(
      new TypeError('wasm backend: build must be auto, simd, relaxed; got "avx"'),
    );
  });

  it('takes the relaxed-SIMD build exactly when the runtime supports it, the plain one otherwise', async () => {
    const { setFlagsFromString } = await import('node:v8');
    // Node 20 without the V8 flag: no relaxed SIMD, so 'auto' is the plain build and asking for relaxed explains why not.
    if (!wasmRelaxedSimdSupported()) {
      expect((await loadWasmBackend()).info().simd).toBe('wasm-simd128');
      await expect(loadWasmBackend({ build: 'relaxed' })).rejects.toThrow(
        /relaxed-SIMD build needs a runtime with relaxed SIMD .*--experimental-wasm-relaxed-simd/,
      );
      setFlagsFromString('--experimental-wasm-relaxed-simd');
    }
    if (!wasmRelaxedSimdSupported()) return; // a V8 without relaxed SIMD at all
    expect((await loadWasmBackend()).info().simd).toBe('wasm-relaxed-simd');
    expect((await loadWasmBackend({ build: 'relaxed' })).info().simd).toBe('wasm-relaxed-simd');
    expect((await loadWasmBackend({ build: 'simd' })).info().simd).toBe('wasm-simd128');
  });
});

describe('kernels never allocate', () => {
  // The GEMM's scratch (4 MiB of packed B, also the cells' packed W_hh) is allocated when the backend is made,
  // so a view taken before any kernel call stays attached (sampling keeps workspace.ids.data across forward()).
  for (const [kind, H, B] of [
    ['lstm', 512, 4],
    ['lstm', 513, 4],
    ['gru', 300, 6],
    ['rnn_tanh', 40, 2],
  ] as const) {
    it(`${kind} H=${H} B=${B}: cellForward and cellBackward leave memory and earlier views as they were`, async () => {
      const backend = await loadWasmBackend({ build: 'simd' });
      const T = 2,
        G = gatesOf(kind),
        CW = cacheWidth(kind) * H,
        hasC = kind === 'lstm';
      const f = (n: number): FloatSpan => Span.of(backend.allocFloat(n));
      const xProj = f(T * B * G * H),
        wHh = f(G * H * H),
        bIh = f(G * H),
        bHh = f(G * H);
      const hs = f((T + 1) * B * H),
        cs = f(hasC ? (T + 1) * B * H : 0),
        cache = f(T * B * CW);
      const dhs = f(T * B * H),
        dhN = f(B * H),
        dcN = f(hasC ? B * H : 0),
        dGx = f(T * B * G * H),
        dGh = f(T * B * G * H);
      const dh0 = f(B * H),
        dc0 = f(hasC ? B * H : 0);
      const view = hs.data;
      const w = backend as WasmBackend;
      const bytes = w.bytesAllocated,
        memoryBytes = w.memory.buffer.byteLength;
      backend.cellForward(kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache);
      backend.cellBackward(kind, T, B, H, wHh, hs, cs, cache, dhs, dhN, dcN, dGx, dGh, dh0, dc0);
      backend.gemm(false, true, T * B, G * H, H, 1, hs.sub(0, T * B * H), wHh, 0, dGx);
      expect(w.bytesAllocated).toBe(bytes);
      expect(w.memory.buffer.byteLength).toBe(memoryBytes);
      expect(view.length).toBe((T + 1) * B * H);
    });
  }
});
