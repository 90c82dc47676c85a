// Label smoothing in the loss kernel (softmaxCrossEntropy's labelSmoothing ε): PyTorch's
// nn.CrossEntropyLoss(ignore_index=PAD, label_smoothing=ε) fixtures (test/fixtures/make_label_smoothing_fixtures.py)
// on every backend, random cases on every backend configuration against the float64 reference, ε = 0 giving
// exactly the unsmoothed kernel's results, and the bad values of ε.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectClose, makeRandom, randomValues } from './helpers.js';
import {
  type BadArgument,
  badArgumentSuite,
  caseContext,
  compareWithReference,
  everyBackend,
  expectNativeLoads,
  kernelTargets,
  reference64,
} from './kernel-suite.js';

expectNativeLoads();

interface Fixture {
  name: string;
  N: number;
  V: number;
  epsilon: number;
  logits: number[];
  targetsRnnkit: number[];
  counted: number;
  loss: number;
  lossSum: number;
  dLogits: number[];
}

const DIR = join(import.meta.dirname, 'fixtures', 'pytorch-label-smoothing');
const fixtures: Fixture[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));
const nans = (n: number): number[] => new Array<number>(n).fill(NaN);

describe('label smoothing equals PyTorch (CrossEntropyLoss with ignore_index and label_smoothing)', () => {
  it('has its 6 fixtures', () => expect(fixtures.length).toBe(6));
  for (const fx of fixtures) {
    it(`${fx.name}: the mean loss, the summed loss and the gradient on every backend`, async () => {
      const { N, V } = fx;
      const backends = [{ name: 'reference f64', backend: reference64 }, ...(await everyBackend())];
      for (const { name, backend } of backends) {
        const { floats, ints } = caseContext(backend).context;
        const [x, d] = floats(fx.logits, nans(N * V));
        const [t] = ints(fx.targetsRnnkit);
        // PyTorch's mean: the sum scaled by 1 / (rows not ignored).
        const sum = backend.softmaxCrossEntropy(N, V, x!, t!, 1 / fx.counted, d!, fx.epsilon);
        expect(Math.abs(sum - fx.lossSum), `${name}: summed loss ${sum} vs ${fx.lossSum}`).toBeLessThan(
          2e-5 * Math.max(1, Math.abs(fx.lossSum)),
        );
        expect(Math.abs(sum / fx.counted - fx.loss), `${name}: mean loss`).toBeLessThan(2e-5 * Math.max(1, fx.loss));
        expectClose(d!.data, fx.dLogits, 1e-6, 1e-4, `${name}: dLogits`);
      }
    });
  }
});

describe('label smoothing matches the float64 reference on every backend configuration', () => {
  const SHAPES: [N: number, V: number, eps: number][] = [
    [1, 1, 0.1],
    [3, 17, 0.1],
    [17, 43, 0.2],
    [33, 100, 0.05],
    [300, 257, 0.1],
    [5, 9, 1],
    [0, 3, 0.5],
  ];
  for (const [N, V, eps] of SHAPES) {
    it(`N=${N} V=${V} ε=${eps}`, async () => {
      const random = makeRandom(N * 7 + V * 13);
      const logits = randomValues(random, N * V, 6);
      const targets = Array.from({ length: N }, (_, i) => (i % 5 === 2 ? -1 : Math.floor(random() * V)));
      await compareWithReference(
        ({ backend, floats, ints }) => {
          const [x, d] = floats(logits, nans(N * V));
          const [t] = ints(targets);
          const loss = backend.softmaxCrossEntropy(N, V, x!, t!, 1 / Math.max(N, 1), d!, eps);
          const lossOnly = backend.softmaxCrossEntropy(N, V, x!, t!, 1, null, eps);
          return { loss, lossOnly, dLogits: d!, logits: x! };
        },
        [1e-5, 1e-4],
        { per: { loss: [1e-5 * Math.max(N, 1), 1e-5], lossOnly: [1e-5 * Math.max(N, 1), 1e-5], logits: [0, 0] } },
      );
    });
  }

  it('ε = 0 gives the same bits as no ε on every backend', async () => {
    const random = makeRandom(5);
    const logits = randomValues(random, 7 * 19, 5);
    const targets = [1, -1, 18, 0, 3, 3, 7];
    for (const { name, backend } of [{ name: 'reference f64', backend: reference64 }, ...(await kernelTargets())]) {
      const run = (eps?: number) => {
        const { floats, ints } = caseContext(backend).context;
        const [x, d] = floats(logits, nans(7 * 19));
        const loss = backend.softmaxCrossEntropy(7, 19, x!, ints(targets)[0]!, 0.25, d!, eps);
        return [loss, ...d!.data];
      };
      expect(run(0), name).toEqual(run());
    }
  });
});

const BAD_ARGUMENTS: BadArgument[] = [
  ...[-0.1, 1.5, NaN, Infinity].map((eps): BadArgument => [
    `labelSmoothing ${eps}`,
    ({ backend, floats, ints }) => {
      const [x, d] = floats(nans(6), nans(6));
      return () => backend.softmaxCrossEntropy(2, 3, x!, ints([0, 1])[0]!, 1, d!, eps);
    },
    RangeError,
    `softmaxCrossEntropy: expected a number in [0, 1] for labelSmoothing but received ${eps}`,
  ]),
  [
    'labelSmoothing as a string',
    ({ backend, floats, ints }) => {
      const [x] = floats(nans(6));
      return () => backend.softmaxCrossEntropy(2, 3, x!, ints([0, 1])[0]!, 1, null, '0.1' as unknown as number);
    },
    RangeError,
    'softmaxCrossEntropy: expected a number in [0, 1] for labelSmoothing but received 0.1',
  ],
];

badArgumentSuite('softmaxCrossEntropy with label smoothing', BAD_ARGUMENTS);
