// Dropout draws the same mask on every backend (a counter-based hash of the seed and the element index):
// each backend configuration against the float64 reference (test/kernel-suite.ts) — the same elements kept,
// the same values up to float32 rounding — keeps about 1 − p of the elements, scales them by 1/(1 − p),
// and refuses probabilities outside [0, 1). multiply (dropout's backward) is in kernels-elementwise.
import { describe, expect, it } from 'vitest';
import { makeRandom, randomValues } from './helpers.js';
import {
  type BadArgument,
  badArgumentSuite,
  caseContext,
  compareWithReference,
  expectNativeLoads,
  kernelTargets,
} from './kernel-suite.js';

expectNativeLoads();

const nans = (n: number): number[] => new Array<number>(n).fill(NaN);

describe('dropout matches the float64 reference', () => {
  for (const [p, n, seed] of [
    [0, 17, 1],
    [0.25, 1000, 7],
    [0.5, 257, 0xffffffff],
    [0.9, 4099, 123456],
  ] as const) {
    it(`p = ${p} over ${n} elements (seed ${seed})`, async () => {
      const x = randomValues(makeRandom(n), n);
      await compareWithReference(
        ({ backend, floats }) => {
          const [input, mask, out] = floats(x, nans(n), nans(n));
          backend.dropout(input!, p, seed, mask!, out!);
          // which elements are kept must agree exactly
          return { kept: Array.from(mask!.data, (m) => (m === 0 ? 0 : 1)), mask: mask!, out: out!, x: input! };
        },
        [0, 1e-6],
        {
          per: { kept: [0, 0], x: [0, 0] },
          expected: ({ kept, mask }) => {
            const count = kept!.reduce((sum, k) => sum + k, 0);
            if (n >= 1000) expect(Math.abs(count / n - (1 - p))).toBeLessThan(0.05);
            for (const m of mask!) if (m !== 0) expect(m).toBeCloseTo(1 / (1 - p), 6); // stored in float32 by every backend
          },
        },
      );
    });
  }

  it('different seeds give different masks on every backend', async () => {
    for (const { name, backend } of await kernelTargets()) {
      const { floats } = caseContext(backend).context;
      const [x, mask1, out1, mask2, out2] = floats(
        new Array<number>(512).fill(1),
        nans(512),
        nans(512),
        nans(512),
        nans(512),
      );
      backend.dropout(x!, 0.5, 1, mask1!, out1!);
      backend.dropout(x!, 0.5, 2, mask2!, out2!);
      expect(Array.from(mask1!.data), name).not.toEqual(Array.from(mask2!.data));
    }
  });
});

/** dropout on four-element spans with this p and seed (x as the mask when `alias`). */
function dropoutCall(p: number, seed: number, alias = false): BadArgument[1] {
  return ({ backend, floats }) => {
    const [x, mask, out] = floats([1, 2, 3, 4], [0, 0, 0, 0], [0, 0, 0, 0]);
    return () => backend.dropout(x!, p, seed, alias ? x! : mask!, out!);
  };
}

const BAD_ARGUMENTS: BadArgument[] = [
  ['p 1', dropoutCall(1, 1), RangeError, 'dropout: expected a probability in [0, 1) for p but received 1'],
  ['p -0.1', dropoutCall(-0.1, 1), RangeError, 'dropout: expected a probability in [0, 1) for p but received -0.1'],
  ['p NaN', dropoutCall(NaN, 1), RangeError, 'dropout: expected a probability in [0, 1) for p but received NaN'],
  [
    'seed 1.5',
    dropoutCall(0.5, 1.5),
    RangeError,
    'dropout: expected an integer from 0 to 4294967295 for seed but received 1.5',
  ],
  [
    'seed -1',
    dropoutCall(0.5, -1),
    RangeError,
    'dropout: expected an integer from 0 to 4294967295 for seed but received -1',
  ],
  ['mask is x', dropoutCall(0.5, 1, true), RangeError, 'dropout: output mask overlaps x'],
];

badArgumentSuite('dropout', BAD_ARGUMENTS);
