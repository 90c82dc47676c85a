// softmaxCrossEntropy on every backend configuration against the float64 reference (test/kernel-suite.ts):
// with and without dLogits, rows whose target is -1 skipped, two scales; [300, 257] splits over native
// threads by rows (the row losses are summed in row order: the same bits on 1, 2 and 3 threads).
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

const SHAPES: [N: number, V: number][] = [
  [1, 1],
  [4, 1],
  [3, 3],
  [3, 17],
  [17, 3],
  [17, 33],
  [33, 17],
  [33, 100],
  [5, 257],
  [100, 100],
  [100, 257],
  [0, 3],
  [0, 5],
  [300, 257],
];
const nans = (n: number): number[] => new Array<number>(n).fill(NaN);

describe('softmaxCrossEntropy matches the float64 reference', () => {
  for (const [N, V] of SHAPES) {
    for (const scale of [1, 1 / Math.max(N, 1)]) {
      it(`N=${N} V=${V} scale=${scale.toPrecision(3)}, with and without dLogits, -1 targets`, async () => {
        const random = makeRandom(N * 3 + V * 101);
        const logits = randomValues(random, N * V, 6);
        const targets = Array.from({ length: N }, (_, i) => (i % 4 === 1 ? -1 : Math.floor(random() * V)));
        await compareWithReference(
          ({ backend, floats, ints }) => {
            const [x, d] = floats(logits, nans(N * V));
            const [t] = ints(targets);
            const loss = backend.softmaxCrossEntropy(N, V, x!, t!, scale, d!);
            const lossOnly = backend.softmaxCrossEntropy(N, V, x!, t!, scale, null);
            return { loss, 'loss without dLogits': lossOnly, dLogits: d!, logits: x! };
          },
          [1e-5, 1e-4],
          {
            // a sum over N rows: one float32 exp and log per row
            per: {
              loss: [1e-5 * Math.max(N, 1), 1e-5],
              'loss without dLogits': [1e-5 * Math.max(N, 1), 1e-5],
              logits: [0, 0],
            },
          },
        );
      });
    }
  }

  it('stays finite for large logits', async () => {
    await compareWithReference(
      ({ backend, floats, ints }) => {
        const [x, d] = floats([1000, -1000, 999, 0, 88, 89], nans(6));
        const [t] = ints([2, 0]);
        return { loss: backend.softmaxCrossEntropy(2, 3, x!, t!, 0.5, d!), dLogits: d! };
      },
      [1e-4, 1e-5],
    );
  });

  it('an all-skipped batch has loss 0 and zero gradients on every backend', async () => {
    for (const { name, backend } of [{ name: 'reference', backend: reference64 }, ...(await kernelTargets())]) {
      const { floats, ints } = caseContext(backend).context;
      const [x, d] = floats([1, 2, 3, 4, 5, 6], nans(6));
      expect(backend.softmaxCrossEntropy(2, 3, x!, ints([-1, -1])[0]!, 1, d!), name).toBe(0);
      expect(Array.from(d!.data), name).toEqual([0, 0, 0, 0, 0, 0]);
    }
  });
});

const BAD_ARGUMENTS: BadArgument[] = [
  [
    'V 0',
    ({ backend, floats, ints }) => {
      const [x] = floats([]);
      return () => backend.softmaxCrossEntropy(1, 0, x!, ints([0])[0]!, 1, null);
    },
    RangeError,
    'softmaxCrossEntropy: expected an integer >= 1 for V but received 0',
  ],
  [
    'dLogits too short',
    ({ backend, floats, ints }) => {
      const [x, d] = floats(nans(6), nans(5));
      return () => backend.softmaxCrossEntropy(2, 3, x!, ints([0, 1])[0]!, 1, d!);
    },
    RangeError,
    'softmaxCrossEntropy: dLogits has 5 elements, expected 6',
  ],
  [
    'a target V',
    ({ backend, floats, ints }) => {
      const [x] = floats(nans(10));
      return () => backend.softmaxCrossEntropy(2, 5, x!, ints([-1, 5])[0]!, 1, null);
    },
    RangeError,
    'softmaxCrossEntropy: id 5 at position 1 is outside [-1, 5)',
  ],
  [
    'a target -2',
    ({ backend, floats, ints }) => {
      const [x] = floats(nans(10));
      return () => backend.softmaxCrossEntropy(2, 5, x!, ints([-2, 0])[0]!, 1, null);
    },
    RangeError,
    'softmaxCrossEntropy: id -2 at position 0 is outside [-1, 5)',
  ],
  [
    'a target 2^31 - 1',
    ({ backend, floats, ints }) => {
      const [x] = floats(nans(5));
      return () => backend.softmaxCrossEntropy(1, 5, x!, ints([2 ** 31 - 1])[0]!, 1, null);
    },
    RangeError,
    'softmaxCrossEntropy: id 2147483647 at position 0 is outside [-1, 5)',
  ],
  [
    'N·V past 2^53',
    ({ backend, floats, ints }) => {
      const [x] = floats([1]);
      return () => backend.softmaxCrossEntropy(2 ** 31 - 1, 2 ** 31 - 1, x!, ints([0])[0]!, 1, null);
    },
    RangeError,
    `softmaxCrossEntropy: logits has 1 elements, expected ${(2 ** 31 - 1) ** 2}`,
  ],
  [
    'scale NaN',
    ({ backend, floats, ints }) => {
      const [x] = floats(nans(6));
      return () => backend.softmaxCrossEntropy(2, 3, x!, ints([0, 0])[0]!, NaN, null);
    },
    RangeError,
    'softmaxCrossEntropy: expected a finite number for scale but received NaN',
  ],
  [
    'dLogits is logits',
    ({ backend, floats, ints }) => {
      const [x] = floats(nans(6));
      return () => backend.softmaxCrossEntropy(2, 3, x!, ints([0, 1])[0]!, 1, x!);
    },
    RangeError,
    'softmaxCrossEntropy: output dLogits overlaps logits',
  ],
];

badArgumentSuite('softmaxCrossEntropy', BAD_ARGUMENTS);
