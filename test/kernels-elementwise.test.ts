// clipValue, sumSquares, scale and multiply on every backend configuration against the float64 reference
// (test/kernel-suite.ts), on lengths around the vector widths and one that native splits over threads.
import { describe, expect, it } from 'vitest';
import { makeRandom, randomValues } from './helpers.js';
import {
  type BadArgument,
  badArgumentSuite,
  caseContext,
  compareWithReference,
  expectNativeLoads,
  kernelTargets,
  reference64,
} from './kernel-suite.js';

expectNativeLoads();

// (sumSquares split over native threads: the 600,017-element case of kernels-optimizers)
const LENGTHS = [0, 1, 3, 17, 33, 100, 257, 10_000];

describe('clipValue, sumSquares, scale and multiply match the float64 reference', () => {
  for (const n of LENGTHS) {
    it(`n=${n}`, async () => {
      const random = makeRandom(n + 5);
      const values = randomValues(random, n, 3),
        other = randomValues(random, n, 2);
      if (n >= 3) values.splice(0, 2, Infinity, -Infinity);
      await compareWithReference(
        ({ backend, floats }) => {
          const [x, y, product, ...clipped] = floats(
            values,
            other,
            new Array<number>(n).fill(NaN),
            values,
            values,
            values,
            values,
          );
          const limits = [1.25, 0.5, 0, -0.5];
          limits.forEach((limit, i) => backend.clipValue(clipped[i]!, limit));
          backend.clipValue(x!, 1);
          const sum = backend.sumSquares(x!); // both add float64 squares, in another order: 1e-12 relative
          backend.multiply(x!, y!, product!);
          backend.scale(x!, -0.37);
          const scaled = [x!];
          for (const s of [-1.5, 0, 0.1]) {
            backend.scale(clipped[0]!, s);
            scaled.push(clipped[0]!);
          }
          return {
            ...Object.fromEntries(
              limits.map((limit, i) => [`clipValue ${limit}`, i === 0 ? clipped[1]! : clipped[i]!]),
            ),
            sumSquares: sum,
            multiply: product!,
            scale: x!,
            'scale -1.5, 0, 0.1': clipped[0]!,
            y: y!,
          };
        },
        [1e-6, 1e-6],
        {
          per: {
            'clipValue 0.5': [0, 0],
            'clipValue 0': [0, 0],
            'clipValue -0.5': [0, 0],
            sumSquares: [0, 1e-12],
            y: [0, 0],
          },
        },
      );
    });
  }

  it('clipValue keeps NaN and clamps infinities; sumSquares accumulates in float64, on every backend', async () => {
    for (const { name, backend } of [{ name: 'reference', backend: reference64 }, ...(await kernelTargets())]) {
      const { floats } = caseContext(backend).context;
      const [x, big] = floats([NaN, Infinity, -Infinity, 0.25, NaN], [4096, 1, 1, 1, 1, 1, 1, 1]);
      backend.clipValue(x!, 1);
      expect(Array.from(x!.data), name).toEqual([NaN, 1, -1, 0.25, NaN]);
      // 2^24 + 7 is not representable in float32: a float32 accumulator would lose the ones
      expect(backend.sumSquares(big!), name).toBe(4096 * 4096 + 7);
    }
  });
});

const BAD_ARGUMENTS: BadArgument[] = [
  [
    'clipValue: limit NaN',
    ({ backend, floats }) =>
      () =>
        backend.clipValue(floats([1, 2])[0]!, NaN),
    RangeError,
    'clipValue: expected a finite number for limit but received NaN',
  ],
  [
    'clipValue: limit -Infinity',
    ({ backend, floats }) =>
      () =>
        backend.clipValue(floats([1, 2])[0]!, -Infinity),
    RangeError,
    'clipValue: expected a finite number for limit but received -Infinity',
  ],
  [
    'scale: s -Infinity',
    ({ backend, floats }) =>
      () =>
        backend.scale(floats([1, 2])[0]!, -Infinity),
    RangeError,
    'scale: expected a finite number for s but received -Infinity',
  ],
  [
    'multiply: out too short',
    ({ backend, floats }) => {
      const [a, b, out] = floats([1, 2], [3, 4], [0]);
      return () => backend.multiply(a!, b!, out!);
    },
    RangeError,
    'multiply: out has 1 elements, expected 2',
  ],
];

badArgumentSuite('clipValue, sumSquares, scale, multiply', BAD_ARGUMENTS);
