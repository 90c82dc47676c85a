// addBias (C += bias broadcast over rows) and sumRows (out += Σ rows: the bias gradient) on every backend
// configuration against the float64 reference (test/kernel-suite.ts). [300, 257]: sumRows splits over threads.
import { describe, it } from 'vitest';
import { makeRandom, randomValues } from './helpers.js';
import { type BadArgument, badArgumentSuite, compareWithReference, expectNativeLoads } from './kernel-suite.js';

expectNativeLoads();

const SHAPES: [number, number][] = [
  [1, 1],
  [3, 17],
  [17, 3],
  [33, 100],
  [2, 257],
  [100, 33],
  [17, 257],
  [5, 0],
  [0, 5],
  [4, 0],
  [300, 257],
];

describe('addBias and sumRows match the float64 reference', () => {
  for (const [M, N] of SHAPES) {
    it(`M=${M} N=${N}`, async () => {
      const random = makeRandom(M * 1000 + N);
      const bias = randomValues(random, N),
        c = randomValues(random, M * N),
        out = randomValues(random, N);
      await compareWithReference(
        ({ backend, floats }) => {
          const [b, C, sum] = floats(bias, c, out);
          backend.addBias(M, N, b!, C!);
          backend.sumRows(M, N, C!, sum!);
          return { bias: b!, 'addBias C': C!, 'sumRows out': sum! };
        },
        [1e-5, 1e-4],
        { per: { bias: [0, 0] } },
      );
    });
  }
});

const BAD_ARGUMENTS: BadArgument[] = [
  [
    'addBias: bias too short',
    ({ backend, floats }) => {
      const [bias, C] = floats([1, 2], [1, 2, 3, 4, 5, 6]);
      return () => backend.addBias(2, 3, bias!, C!);
    },
    RangeError,
    'addBias: bias has 2 elements, expected 3',
  ],
  [
    'addBias: C overlapping bias',
    ({ backend, floats }) => {
      const [C] = floats([1, 2, 3, 4]);
      return () => backend.addBias(2, 2, C!.sub(0, 2), C!);
    },
    RangeError,
    'addBias: output C overlaps bias',
  ],
  [
    'sumRows: out too short',
    ({ backend, floats }) => {
      const [A, out] = floats([1, 2, 3, 4, 5, 6], [0, 0]);
      return () => backend.sumRows(2, 3, A!, out!);
    },
    RangeError,
    'sumRows: out has 2 elements, expected 3',
  ],
  [
    'sumRows: out is A',
    ({ backend, floats }) => {
      const [A] = floats([1, 2, 3, 4]);
      return () => backend.sumRows(1, 4, A!, A!);
    },
    RangeError,
    'sumRows: output out overlaps A',
  ],
];

badArgumentSuite('addBias and sumRows', BAD_ARGUMENTS);
