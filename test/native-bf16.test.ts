// bf16 precision of the native backend (native/bf16.h):
// - the portable emulation (the oracle) on hand-worked cases: rounding ties, subnormals, the order in
//   which VDPBF16PS adds a pair's two products (runs wherever the addon loads);
// - the AVX-512 BF16 kernels against the emulation, BIT FOR BIT: GEMM (4 transposes, alpha/beta, awkward
//   and K-blocked shapes, 1/2/3 threads), the backend's gemm in bf16 precision;
// - the recurrent cells in bf16: the same bits on 1/2/3 threads, close to fp32; one-row GEMMs stay fp32;
// - one training step (forward + backward) of a 2-layer LSTM H128 in bf16 against fp32: loss within 1e-5
//   relative, the whole gradient within 1e-2 relative in norm (measured: 3.3e-7 and 2.4e-3).
// Tests that need the instruction are skipped, with the reason in their name, on a CPU without it.
import { describe, expect, it } from 'vitest';
import { type NativeAddon, type NativeBackend, loadNativeAddon, loadNativeBackend } from '../src/backend/native.js';
import { CELL_KINDS, cacheWidth, gatesOf } from '../src/backend/types.js';
import { Model } from '../src/model/model.js';
import { Workspace } from '../src/model/workspace.js';
import { expectClose, expectError, floatSpan, makeRandom } from './helpers.js';

let addon: NativeAddon | undefined;
try {
  addon = loadNativeAddon();
} catch {
  addon = undefined; // native-kernels.test.ts reports why (and fails unless RNNKIT_EXPECT_NO_NATIVE=1)
}
const bf16 = addon?.precisions().find((p) => p.name === 'bf16');
const noBf16 = !bf16?.available;
const skipReason = !addon ? 'the addon does not load' : noBf16 ? `bf16 unavailable: ${bf16?.reason}` : '';
const needsBf16 = noBf16 ? ` (skipped: ${skipReason})` : '';

const f32 = (x: number): number => Math.fround(x);
const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

function randomArray(random: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (random() * 2 - 1) * scale);
}

/** Indices where two float arrays differ in bits (the first few), for failure messages. */
function bitDifferences(a: Float32Array, b: Float32Array): string {
  const x = bits(a),
    y = bits(b);
  const bad: string[] = [];
  for (let i = 0; i < x.length && bad.length < 3; i++) if (x[i] !== y[i]) bad.push(`[${i}] ${a[i]} vs ${b[i]}`);
  return bad.join(', ');
}

describe.skipIf(!addon)('bf16 emulation (the oracle)', () => {
  const gemm1 = (a: number[], b: number[], c = 0, beta = 0, alpha = 1): number => {
    const C = Float32Array.of(c);
    addon!.bf16Gemm(
      'emulated',
      false,
      false,
      1,
      1,
      a.length,
      alpha,
      Float32Array.from(a),
      Float32Array.from(b),
      beta,
      C,
    );
    return C[0]!;
  };

  it('rounds the operands to the nearest bf16, ties to even', () => {
    expect(gemm1([1 + 2 ** -8], [1])).toBe(1); // halfway between 1 and 1 + 2^-7: to even (1)
    expect(gemm1([1 + 3 * 2 ** -8], [1])).toBe(1 + 2 ** -6); // halfway: to even (1 + 2^-6)
    expect(gemm1([1 + 2 ** -8 + 2 ** -20], [1])).toBe(1 + 2 ** -7); // above halfway: up
    expect(gemm1([f32(0.1)], [f32(0.1)])).toBe(f32(0.10009765625 * 0.10009765625)); // bf16(0.1) = 0.10009765625
  });

  it('adds the odd product of a pair before the even one, each rounded to fp32', () => {
    // acc = 2^24 (spacing 2), even product 2, odd product 1. Odd first: 2^24 + 1 ties to 2^24, then + 2.
    // Even first would end at 2^24 + 4.
    expect(gemm1([2, 1], [1, 1], 2 ** 24, 1)).toBe(2 ** 24 + 2);
    // Swapping the pair swaps the order: odd 2 first → 2^24 + 2, + 1 → tie → 2^24 + 4.
    expect(gemm1([1, 2], [1, 1], 2 ** 24, 1)).toBe(2 ** 24 + 4);
  });

  it('reads subnormals as zero and flushes subnormal results', () => {
    expect(gemm1([1.5e-39], [1e30])).toBe(0); // a subnormal operand rounds to 0
    expect(gemm1([2 ** -100], [2 ** -40])).toBe(0); // 2^-140 is subnormal in fp32: flushed
    expect(gemm1([1], [0], 1e-40, 1)).toBe(0); // a subnormal accumulator reads as zero
  });

  it('pads an odd K with zero, starts from beta·C and scales op(A) by alpha before rounding', () => {
    expect(gemm1([3, 5, 7], [1, 1, 1])).toBe(15);
    expect(gemm1([3], [4], 10, 0.5)).toBe(17);
    expect(gemm1([1 + 2 ** -8], [1], 0, 0, 1 + 2 ** -8)).toBe(1 + 2 ** -7); // (1+2^-8)^2 rounds up
  });

  it('computes a product close to float64 on the rounded inputs (a sanity check of the loops)', () => {
    const random = makeRandom(5);
    const M = 7,
      N = 9,
      K = 33;
    const A = randomArray(random, M * K),
      B = randomArray(random, K * N);
    const C = new Float32Array(M * N);
    addon!.bf16Gemm('emulated', false, false, M, N, K, 1, A, B, 0, C);
    const round = (x: number): number => {
      const v = new Float32Array([x]),
        u = new Uint32Array(v.buffer);
      u[0] = ((u[0]! + 0x7fff + ((u[0]! >>> 16) & 1)) >>> 16) << 16;
      return v[0]!;
    };
    const want = Array.from({ length: M * N }, (_, ij) => {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += round(A[Math.floor(ij / N) * K + k]!) * round(B[k * N + (ij % N)]!);
      return sum;
    });
    expectClose(C, want, 1e-5, 1e-5, 'emulated bf16 gemm');
  });

  it('rejects bad arguments with the function name', () => {
    const a = new Float32Array(6);
    expectError(
      () => addon!.bf16Gemm('fast' as 'kernel', false, false, 2, 3, 1, 1, a, a, 0, a),
      TypeError,
      'bf16Gemm: expected emulated, kernel or weights for impl but received fast',
    );
    expectError(
      () => addon!.bf16Gemm('emulated', false, false, 2, 3, 2, 1, a, a.slice(), 0, new Float32Array(6)),
      RangeError,
      'bf16Gemm: A has 6 elements, expected 4',
    );
    expectError(
      () => addon!.bf16Gemm('emulated', false, false, 2, 3, 3, 1, a, new Float32Array(9), 0, a),
      RangeError,
      'bf16Gemm: C overlaps A',
    );
  });
});

describe.skipIf(!addon || noBf16)(`AVX-512 BF16 kernels against the emulation, bit for bit${needsBf16}`, () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1],
    [1, 50, 7],
    [7, 1, 33],
    [8, 48, 64],
    [9, 49, 65],
    [13, 97, 1],
    [3, 17, 2],
    [127, 130, 3],
    [128, 47, 129],
    [200, 100, 1030],
    [31, 300, 2049],
    [0, 5, 3],
    [5, 0, 3],
    [4, 6, 0],
  ];
  const scalars: [number, number][] = [
    [1, 0],
    [1, 1],
    [0.5, -2],
    [-1.25, 0.75],
  ];

  it('gemm, 4 transposes, alpha/beta, awkward and K-blocked shapes, on 1, 2 and 3 threads', () => {
    let cases = 0;
    for (const [M, N, K] of shapes) {
      for (const [transA, transB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ] as const) {
        for (const [alpha, beta] of scalars) {
          const random = makeRandom(M * 131 + N * 7 + K);
          const A = randomArray(random, M * K),
            B = randomArray(random, K * N, 3),
            C0 = randomArray(random, M * N);
          const want = C0.slice();
          addon!.bf16Gemm('emulated', transA, transB, M, N, K, alpha, A, B, beta, want);
          for (const threads of [1, 2, 3]) {
            addon!.configure({ threads });
            const got = C0.slice();
            addon!.bf16Gemm('kernel', transA, transB, M, N, K, alpha, A, B, beta, got);
            expect(
              bitDifferences(got, want),
              `M=${M} N=${N} K=${K} transA=${transA} transB=${transB} alpha=${alpha} beta=${beta} threads=${threads}`,
            ).toBe('');
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(shapes.length * 16 * 3);
  });

  it('the backend gemm in bf16 precision is the bf16 GEMM (and differs from fp32)', () => {
    const M = 65,
      N = 70,
      K = 301;
    const { A, B, got, plain } = bf16AndFp32Gemm(M, N, K, 3);
    const want = new Float32Array(M * N);
    addon!.bf16Gemm('emulated', false, true, M, N, K, 1, A, B, 0, want);
    expect(bitDifferences(got, want)).toBe('');
    expect(bitDifferences(plain, want)).not.toBe(''); // fp32 really is a different computation
    expectClose(got, plain, 0.05, 0.02, 'bf16 vs fp32 product');
  });
});

/** C = A·Bᵀ for random A [M,K], B [N,K] on the native backend in bf16 (`got`) and in fp32 (`plain`). */
function bf16AndFp32Gemm(
  M: number,
  N: number,
  K: number,
  seed: number,
): { A: Float32Array; B: Float32Array; got: Float32Array; plain: Float32Array } {
  const random = makeRandom(seed);
  const A = randomArray(random, M * K),
    B = randomArray(random, N * K);
  const [got, plain] = (['bf16', 'fp32'] as const).map((precision) => {
    const backend = loadNativeBackend({ precision, threads: 2 });
    expect(backend.info().precision).toBe(precision);
    const C = floatSpan(backend, new Float32Array(M * N));
    backend.gemm(false, true, M, N, K, 1, floatSpan(backend, A), floatSpan(backend, B), 0, C);
    return C.data as Float32Array;
  });
  return { A, B, got: got!, plain: plain! };
}

describe.skipIf(!addon || noBf16)(`where bf16 does not pay, products stay fp32${needsBf16}`, () => {
  it('a GEMM with fewer than 8 rows (sampling) gives the fp32 bits', () => {
    const { got, plain } = bf16AndFp32Gemm(7, 300, 130, 9);
    expect(bitDifferences(got, plain)).toBe('');
  });
});

describe.skipIf(!addon || noBf16)(`cells in bf16${needsBf16}`, () => {
  function runCells(kind: string, T: number, B: number, H: number, threads: number, precision: 'fp32' | 'bf16') {
    addon!.configure({ threads, precision });
    const G = gatesOf(kind as never),
      CW = cacheWidth(kind as never);
    const random = makeRandom(17 + H);
    const xProj = randomArray(random, T * B * G * H),
      wHh = randomArray(random, G * H * H, 1 / Math.sqrt(H));
    const bIh = randomArray(random, G * H, 0.1),
      bHh = randomArray(random, G * H, 0.1);
    const lstm = kind === 'lstm';
    const hs = new Float32Array((T + 1) * B * H),
      cs = new Float32Array(lstm ? (T + 1) * B * H : 0);
    hs.set(randomArray(random, B * H, 0.5));
    const cache = new Float32Array(T * B * CW * H);
    addon!.cellForward(kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache);
    const dhs = randomArray(random, T * B * H),
      dhN = randomArray(random, B * H),
      dcN = randomArray(random, lstm ? B * H : 0);
    const dGx = new Float32Array(T * B * G * H),
      dGh = new Float32Array(T * B * G * H);
    const dh0 = new Float32Array(B * H),
      dc0 = new Float32Array(lstm ? B * H : 0),
      dbIh = new Float32Array(G * H),
      dbHh = new Float32Array(G * H);
    addon!.cellBackward(kind, T, B, H, wHh, hs, cs, cache, dhs, dhN, dcN, dGx, dGh, dh0, dc0, dbIh, dbHh);
    addon!.configure({ precision: 'fp32' });
    return { hs, dh0, dGh };
  }

  // (B, H): a small W_hh (split by streams) and a large one (split by units, with a barrier per step).
  for (const [B, H] of [
    [24, 40],
    [5, 260],
  ] as const) {
    for (const kind of CELL_KINDS) {
      it(`${kind} B=${B} H=${H}: the same bits on 1, 2 and 3 threads, within bf16 error of fp32`, () => {
        const T = 5;
        const one = runCells(kind, T, B, H, 1, 'bf16');
        for (const threads of [2, 3]) {
          const many = runCells(kind, T, B, H, threads, 'bf16');
          expect(bitDifferences(many.hs, one.hs), `h, ${threads} threads`).toBe('');
          expect(bitDifferences(many.dh0, one.dh0), `dh0, ${threads} threads`).toBe('');
          expect(bitDifferences(many.dGh, one.dGh), `dGh, ${threads} threads`).toBe('');
        }
        const fp32 = runCells(kind, T, B, H, 1, 'fp32');
        expect(bitDifferences(one.hs, fp32.hs)).not.toBe(''); // the products really ran in bf16
        expectClose(one.hs, fp32.hs, 2e-2, 2e-2, 'h in bf16 vs fp32');
        expectClose(one.dh0, fp32.dh0, 5e-2, 5e-2, 'dh0 in bf16 vs fp32');
      });
    }
  }
});

describe.skipIf(!addon || noBf16)(`one training step of a 2-layer LSTM, bf16 against fp32${needsBf16}`, () => {
  function step(backend: NativeBackend) {
    const V = 40,
      T = 32,
      B = 16;
    const model = new Model(backend, {
      cell: 'lstm',
      nonlinearity: 'tanh',
      hidden: 128,
      layers: 2,
      embed: 0,
      vocabSize: V,
    });
    model.initialize(7);
    const ws = new Workspace(model, T, B, { dropout: 0 });
    const random = makeRandom(11);
    ws.ids.data.set(Array.from({ length: T * B }, () => Math.floor(random() * V)));
    ws.targets.data.set(Array.from({ length: T * B }, () => Math.floor(random() * V)));
    ws.resetState();
    const loss = ws.forward(T, true) / (T * B);
    model.zeroGrads();
    ws.backward(T);
    return { loss, grads: Float64Array.from(model.grads.all.data) };
  }

  it('loss within 1e-5 and the whole gradient within 1e-2 (relative, in norm)', () => {
    const bf = step(loadNativeBackend({ precision: 'bf16', threads: 2 }));
    const fp = step(loadNativeBackend({ precision: 'fp32', threads: 2 }));
    expect(Math.abs(bf.loss - fp.loss) / fp.loss).toBeLessThan(1e-5);
    expect(bf.loss).not.toBe(fp.loss);
    let diff = 0,
      norm = 0;
    for (let i = 0; i < fp.grads.length; i++) {
      diff += (bf.grads[i]! - fp.grads[i]!) ** 2;
      norm += fp.grads[i]! ** 2;
    }
    expect(Math.sqrt(diff / norm)).toBeLessThan(1e-2);
    expect(diff).toBeGreaterThan(0); // the products really ran in bf16
  });
});

describe.skipIf(!addon)('choosing the precision', () => {
  it('rejects an unknown precision from the option and from RNNKIT_PRECISION', () => {
    expectError(
      () => loadNativeBackend({ precision: 'fp16' as 'fp32' }),
      RangeError,
      'loadNativeBackend: expected one of fp32, bf16, auto for precision but received fp16',
    );
    const saved = process.env['RNNKIT_PRECISION'];
    process.env['RNNKIT_PRECISION'] = 'half';
    try {
      expectError(
        () => loadNativeBackend(),
        RangeError,
        'loadNativeBackend: expected one of fp32, bf16, auto for precision (RNNKIT_PRECISION) but received half',
      );
    } finally {
      if (saved === undefined) delete process.env['RNNKIT_PRECISION'];
      else process.env['RNNKIT_PRECISION'] = saved;
    }
  });

  it('fp32 by default; auto is bf16 exactly where the CPU has it', () => {
    expect(loadNativeBackend({ precision: undefined }).info().precision).toBe(
      process.env['RNNKIT_PRECISION'] === 'bf16' ? 'bf16' : 'fp32',
    );
    expect(loadNativeBackend({ precision: 'auto' }).info().precision).toBe(noBf16 ? 'fp32' : 'bf16');
  });

  it.skipIf(!noBf16)('asking for bf16 on a CPU without it says why', () => {
    expect(() => loadNativeBackend({ precision: 'bf16' })).toThrow(/configure: precision bf16 is not available: /);
  });
});
