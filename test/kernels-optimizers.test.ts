// The optimizer kernels (sgdUpdate, adagradUpdate, momentumUpdate, rmspropUpdate, adamUpdate) on every backend
// configuration against the float64 reference (test/kernel-suite.ts), on awkward lengths and several settings,
// over a few steps; 600,017 elements are split over native threads. Then the table of bad arguments: the same
// messages on every backend, in the reference's order, and nothing written by a rejected call.
// Parity with torch.optim itself: optimizers-pytorch.test.ts.
// Tolerance: |backend − expected| <= 1e-6 + 1e-5·|expected| element-wise, on every state tensor after each step.
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Backend, type FloatSpan, Span } from '../src/backend/types.js';
import { expectError, floatSpan, makeRandom, randomValues } from './helpers.js';
import {
  type BadArgument,
  badArgumentSuite,
  compareWithReference,
  everyBackend,
  expectNativeLoads,
} from './kernel-suite.js';

expectNativeLoads();

const TOLERANCE = [1e-6, 1e-5] as const;
const LENGTHS = [1, 3, 17, 100, 257, 1000];

const positive = (random: () => number, n: number, scale: number): number[] =>
  Array.from({ length: n }, () => scale * (0.01 + random()));

/** `calls` updates from the same initial [param, grad, ...state] on a backend; every tensor after each call (grad must not change). */
function steps(
  arrays: number[][],
  names: string[],
  calls: number,
  update: (b: Backend, s: FloatSpan[], call: number) => void,
) {
  return ({ backend, floats }: { backend: Backend; floats: (...a: number[][]) => FloatSpan[] }) => {
    const spans = floats(...arrays);
    const results: Record<string, number[]> = {};
    for (let call = 0; call < calls; call++) {
      update(backend, spans, call);
      names.forEach((name, k) => (results[`${name} after call ${call + 1}`] = Array.from(spans[k]!.data)));
    }
    return results;
  };
}

describe('optimizer kernels match the float64 reference', () => {
  for (const n of [...LENGTHS, 10_000]) {
    for (const weightDecay of [0, 0.01]) {
      it(`sgdUpdate and adagradUpdate n=${n} weightDecay=${weightDecay}`, async () => {
        const random = makeRandom(n * 2 + (weightDecay ? 1 : 0));
        const arrays = [randomValues(random, n), randomValues(random, n), positive(random, n, 1)];
        await compareWithReference(
          steps(arrays, ['param', 'grad', 'sum'], 4, (b, [p, g, sum], call) => {
            if (call < 3) b.adagradUpdate(p!, g!, sum!, 0.1, 1e-10, weightDecay);
            else b.sgdUpdate(p!, g!, 0.05, weightDecay);
          }),
          TOLERANCE,
        );
      });
    }
  }

  for (const n of LENGTHS) {
    for (const nesterov of [false, true]) {
      for (const dampening of [0, 0.1]) {
        for (const weightDecay of [0, 0.01]) {
          it(`momentumUpdate n=${n} momentum 0.9 nesterov=${nesterov} dampening=${dampening} weightDecay=${weightDecay}`, async () => {
            const random = makeRandom(1000 + n);
            // A stale random buffer: the first call (first = true) must ignore it, the next two accumulate.
            const arrays = [randomValues(random, n), randomValues(random, n), randomValues(random, n)];
            await compareWithReference(
              steps(arrays, ['param', 'grad', 'buf'], 3, (b, [p, g, buf], call) =>
                b.momentumUpdate(p!, g!, buf!, 0.1, 0.9, dampening, nesterov, weightDecay, call === 0),
              ),
              TOLERANCE,
            );
          });
        }
      }
    }
    it(`momentumUpdate n=${n} first = false from a given buffer`, async () => {
      const random = makeRandom(2000 + n);
      const arrays = [randomValues(random, n), randomValues(random, n), randomValues(random, n)];
      await compareWithReference(
        steps(arrays, ['param', 'grad', 'buf'], 2, (b, [p, g, buf]) =>
          b.momentumUpdate(p!, g!, buf!, 0.05, 0.9, 0, false, 0.01, false),
        ),
        TOLERANCE,
      );
    });

    for (const alpha of [0.99, 0.95]) {
      for (const weightDecay of [0, 0.01]) {
        it(`rmspropUpdate n=${n} alpha=${alpha} weightDecay=${weightDecay}`, async () => {
          const random = makeRandom(3000 + n);
          const arrays = [randomValues(random, n), randomValues(random, n), positive(random, n, 0.1)];
          await compareWithReference(
            steps(arrays, ['param', 'grad', 'sq'], 3, (b, [p, g, sq]) =>
              b.rmspropUpdate(p!, g!, sq!, 0.01, alpha, 1e-8, weightDecay),
            ),
            TOLERANCE,
          );
        });
      }
    }

    for (const decoupled of [false, true]) {
      for (const weightDecay of [0, 0.01]) {
        for (const step of [1, 2, 1000]) {
          it(`adamUpdate n=${n} ${decoupled ? 'adamw' : 'adam'} weightDecay=${weightDecay} steps ${step}..${step + 2}`, async () => {
            const random = makeRandom(4000 + n + step);
            // Step 1 starts from zero moments (as an optimizer does); later steps from some earlier state.
            const m = step === 1 ? new Array<number>(n).fill(0) : randomValues(random, n, 0.1);
            const v = step === 1 ? new Array<number>(n).fill(0) : positive(random, n, 0.01);
            const arrays = [randomValues(random, n), randomValues(random, n), m, v];
            await compareWithReference(
              steps(arrays, ['param', 'grad', 'm', 'v'], 3, (b, [p, g, ma, va], call) =>
                b.adamUpdate(p!, g!, ma!, va!, 0.01, 0.9, 0.999, 1e-8, weightDecay, decoupled, step + call),
              ),
              TOLERANCE,
            );
          });
        }
      }
    }
  }

  it('every update and sumSquares on 600,017 elements (split over native threads)', async () => {
    const n = 600_017,
      random = makeRandom(17);
    const arrays = [randomValues(random, n), randomValues(random, n), positive(random, n, 1), positive(random, n, 1)];
    await compareWithReference(
      ({ backend: b, floats }) => {
        const [p, g, s1, s2] = floats(...arrays);
        const norm = b.sumSquares(g!);
        b.adamUpdate(p!, g!, s1!, s2!, 1e-3, 0.9, 0.999, 1e-8, 0.01, false, 3);
        // the squares' states (rmsprop, adagrad) continue from v, which stays >= 0; momentum from m
        b.rmspropUpdate(p!, g!, s2!, 1e-3, 0.99, 1e-8, 0);
        b.momentumUpdate(p!, g!, s1!, 0.1, 0.9, 0, true, 0, false);
        b.adagradUpdate(p!, g!, s2!, 0.1, 1e-10, 0);
        b.sgdUpdate(p!, g!, 0.05, 0.01);
        return { norm, param: p!, s1: s1!, s2: s2! };
      },
      TOLERANCE,
      { per: { norm: [0, 1e-12] } },
    ); // float64 squares summed in another order
  });
});

// ---- bad arguments ------------------------------------------------------------------------------

/** A value of the wrong type, passed where the signature does not allow it. */
const any = (value: unknown): never => value as never;
const fill = (n: number): number[] => new Array<number>(n).fill(0.5);

/** [offset, length] ranges of one 64-float buffer of `b`: overlapping spans. */
function overlapping(b: Backend, ranges: [number, number][]): FloatSpan[] {
  const buf = b.allocFloat(64);
  buf.data.fill(0.5);
  return ranges.map(([offset, length]) => new Span(buf, offset, length));
}

type Update = (b: Backend, s: FloatSpan[]) => unknown;
/** The update on fresh spans of these lengths. */
const on =
  (lengths: number[], update: Update): BadArgument[1] =>
  ({ backend, floats }) => {
    const spans = floats(...lengths.map(fill));
    return () => update(backend, spans);
  };
/** The update on spans of one buffer at these [offset, length] ranges (in argument order): some overlap. */
const overlap =
  (ranges: [number, number][], update: (b: Backend, s: FloatSpan[]) => unknown): BadArgument[1] =>
  ({ backend }) => {
    const spans = overlapping(backend, ranges);
    return () => update(backend, spans);
  };

/** `key` of `o` when given (even undefined or null), else `otherwise`. */
const given = <T extends object>(o: T, key: keyof T, otherwise: unknown): never => any(key in o ? o[key] : otherwise);
const momentum =
  (flags: { lr?: number; dampening?: number; nesterov?: unknown; first?: unknown } = {}): Update =>
  (b, [p, g, buf]) =>
    b.momentumUpdate(
      p!,
      g!,
      buf!,
      flags.lr ?? 0.1,
      0.9,
      flags.dampening ?? 0,
      given(flags, 'nesterov', false),
      0,
      given(flags, 'first', true),
    );
const rmsprop =
  (lr = 0.01, weightDecay = 0): Update =>
  (b, [p, g, sq]) =>
    b.rmspropUpdate(p!, g!, sq!, lr, 0.99, 1e-8, weightDecay);
const adam =
  (o: { lr?: number; beta2?: number; decoupled?: unknown; step?: unknown } = {}): Update =>
  (b, [p, g, m, v]) =>
    b.adamUpdate(
      p!,
      g!,
      m!,
      v!,
      o.lr ?? 0.01,
      0.9,
      o.beta2 ?? 0.999,
      1e-8,
      0,
      given(o, 'decoupled', false),
      given(o, 'step', 1),
    );

const BAD_ARGUMENTS: BadArgument[] = [
  // wrong lengths
  [
    'momentum: buf short',
    on([4, 4, 3], momentum()),
    RangeError,
    'momentumUpdate: buf has 3 elements, expected 4 like param',
  ],
  [
    'momentum: grad long',
    on([4, 5, 4], momentum()),
    RangeError,
    'momentumUpdate: grad has 5 elements, expected 4 like param',
  ],
  [
    'rmsprop: sq short',
    on([17, 17, 16], rmsprop()),
    RangeError,
    'rmspropUpdate: sq has 16 elements, expected 17 like param',
  ],
  ['adam: v long', on([4, 4, 4, 5], adam()), RangeError, 'adamUpdate: v has 5 elements, expected 4 like param'],
  ['adam: m empty', on([4, 4, 0, 4], adam()), RangeError, 'adamUpdate: m has 0 elements, expected 4 like param'],
  [
    'adagrad: sum short',
    on([4, 4, 3], (b, [p, g, s]) => b.adagradUpdate(p!, g!, s!, 0.1, 1e-10, 0)),
    RangeError,
    'adagradUpdate: sum has 3 elements, expected 4 like param',
  ],
  [
    'adagrad: grad short',
    on([4, 3, 4], (b, [p, g, s]) => b.adagradUpdate(p!, g!, s!, 0.1, 1e-10, 0)),
    RangeError,
    'adagradUpdate: grad has 3 elements, expected 4 like param',
  ],
  [
    'sgd: grad long',
    on([4, 5], (b, [p, g]) => b.sgdUpdate(p!, g!, 0.1, 0)),
    RangeError,
    'sgdUpdate: grad has 5 elements, expected 4 like param',
  ],
  // non-finite numbers
  [
    'momentum: lr NaN',
    on([4, 4, 4], momentum({ lr: NaN })),
    RangeError,
    'momentumUpdate: expected a finite number for lr but received NaN',
  ],
  [
    'momentum: dampening Infinity',
    on([4, 4, 4], momentum({ dampening: Infinity })),
    RangeError,
    'momentumUpdate: expected a finite number for dampening but received Infinity',
  ],
  [
    'rmsprop: lr NaN',
    on([4, 4, 4], rmsprop(NaN)),
    RangeError,
    'rmspropUpdate: expected a finite number for lr but received NaN',
  ],
  [
    'rmsprop: weightDecay undefined',
    on([4, 4, 4], (b, [p, g, sq]) => b.rmspropUpdate(p!, g!, sq!, 0.01, 0.99, 1e-8, any(undefined))),
    RangeError,
    'rmspropUpdate: expected a finite number for weightDecay but received undefined',
  ],
  [
    'adam: lr NaN',
    on([4, 4, 4, 4], adam({ lr: NaN })),
    RangeError,
    'adamUpdate: expected a finite number for lr but received NaN',
  ],
  [
    'adam: beta2 -Infinity',
    on([4, 4, 4, 4], adam({ beta2: -Infinity, decoupled: true })),
    RangeError,
    'adamUpdate: expected a finite number for beta2 but received -Infinity',
  ],
  [
    'adagrad: lr Infinity',
    on([3, 3, 3], (b, [p, g, s]) => b.adagradUpdate(p!, g!, s!, Infinity, 1e-10, 0)),
    RangeError,
    'adagradUpdate: expected a finite number for lr but received Infinity',
  ],
  [
    'sgd: weightDecay NaN',
    on([4, 4], (b, [p, g]) => b.sgdUpdate(p!, g!, 0.1, NaN)),
    RangeError,
    'sgdUpdate: expected a finite number for weightDecay but received NaN',
  ],
  // aliasing among param, grad and state
  [
    'momentum: param overlapping buf',
    overlap(
      [
        [0, 4],
        [20, 4],
        [3, 4],
      ],
      momentum(),
    ),
    RangeError,
    'momentumUpdate: output param overlaps buf',
  ],
  [
    'momentum: grad is buf',
    overlap(
      [
        [30, 4],
        [10, 4],
        [10, 4],
      ],
      momentum(),
    ),
    RangeError,
    'momentumUpdate: output grad overlaps buf',
  ],
  [
    'rmsprop: param overlapping sq',
    overlap(
      [
        [4, 5],
        [20, 5],
        [0, 5],
      ],
      rmsprop(),
    ),
    RangeError,
    'rmspropUpdate: output param overlaps sq',
  ],
  [
    'adam: param overlapping m',
    overlap(
      [
        [2, 8],
        [20, 8],
        [9, 8],
        [40, 8],
      ],
      adam(),
    ),
    RangeError,
    'adamUpdate: output param overlaps m',
  ],
  [
    'adam: m overlapping v',
    overlap(
      [
        [20, 8],
        [30, 8],
        [0, 8],
        [7, 8],
      ],
      adam(),
    ),
    RangeError,
    'adamUpdate: output m overlaps v',
  ],
  [
    'adam: param overlapping v',
    overlap(
      [
        [22, 3],
        [30, 3],
        [40, 3],
        [20, 3],
      ],
      adam({ decoupled: true }),
    ),
    RangeError,
    'adamUpdate: output param overlaps v',
  ],
  [
    'adagrad: param overlapping sum',
    overlap(
      [
        [0, 4],
        [20, 4],
        [3, 4],
      ],
      (b, [p, g, s]) => b.adagradUpdate(p!, g!, s!, 0.1, 1e-10, 0),
    ),
    RangeError,
    'adagradUpdate: output param overlaps sum',
  ],
  [
    'sgd: param overlapping grad',
    overlap(
      [
        [0, 4],
        [3, 4],
      ],
      (b, [p, g]) => b.sgdUpdate(p!, g!, 0.1, 0),
    ),
    RangeError,
    'sgdUpdate: output param overlaps grad',
  ],
  // flags and step
  [
    'momentum: nesterov 1',
    on([4, 4, 4], momentum({ nesterov: 1 })),
    TypeError,
    'momentumUpdate: expected a boolean for nesterov but received 1',
  ],
  [
    'momentum: first "yes"',
    on([4, 4, 4], momentum({ first: 'yes' })),
    TypeError,
    'momentumUpdate: expected a boolean for first but received yes',
  ],
  [
    'momentum: first undefined',
    on([4, 4, 4], momentum({ first: undefined })),
    TypeError,
    'momentumUpdate: expected a boolean for first but received undefined',
  ],
  [
    'adam: decoupled 0',
    on([4, 4, 4, 4], adam({ decoupled: 0 })),
    TypeError,
    'adamUpdate: expected a boolean for decoupled but received 0',
  ],
  [
    'adam: decoupled null',
    on([4, 4, 4, 4], adam({ decoupled: null })),
    TypeError,
    'adamUpdate: expected a boolean for decoupled but received null',
  ],
  ...(
    [
      [0, '0'],
      [1.5, '1.5'],
      [-1, '-1'],
      [NaN, 'NaN'],
      ['2', '2'],
      [2 ** 31, '2147483648'],
    ] as const
  ).map(([step, shown]): BadArgument => [
    `adam: step ${shown}`,
    on([4, 4, 4, 4], adam({ step })),
    RangeError,
    `adamUpdate: expected an integer >= 1 for step but received ${shown}`,
  ]),
  // several problems at once: the reference's order (lengths, numbers, aliasing, flags, step)
  [
    'adam: length before number',
    on([4, 4, 3, 4], adam({ lr: NaN, decoupled: 0, step: 0 })),
    RangeError,
    'adamUpdate: m has 3 elements, expected 4 like param',
  ],
  [
    'adam: number before aliasing',
    overlap(
      [
        [0, 4],
        [20, 4],
        [0, 4],
        [30, 4],
      ],
      adam({ lr: NaN, decoupled: 0, step: 0 }),
    ),
    RangeError,
    'adamUpdate: expected a finite number for lr but received NaN',
  ],
  [
    'adam: aliasing before flag',
    overlap(
      [
        [0, 4],
        [20, 4],
        [0, 4],
        [30, 4],
      ],
      adam({ decoupled: 0, step: 0 }),
    ),
    RangeError,
    'adamUpdate: output param overlaps m',
  ],
  [
    'adam: flag before step',
    on([4, 4, 4, 4], adam({ decoupled: 0, step: 0 })),
    TypeError,
    'adamUpdate: expected a boolean for decoupled but received 0',
  ],
  [
    'momentum: aliasing before flag',
    overlap(
      [
        [1, 4],
        [20, 4],
        [0, 4],
      ],
      momentum({ nesterov: 1 }),
    ),
    RangeError,
    'momentumUpdate: output param overlaps buf',
  ],
  [
    'momentum: nesterov before first',
    on([4, 4, 4], momentum({ nesterov: 1, first: 2 })),
    TypeError,
    'momentumUpdate: expected a boolean for nesterov but received 1',
  ],
];

badArgumentSuite('optimizer updates', BAD_ARGUMENTS);

describe('optimizer kernels after bad arguments', () => {
  it('accept adjacent spans of one buffer on every backend', async () => {
    for (const { backend } of await everyBackend()) {
      const buf = backend.allocFloat(16);
      buf.data.fill(0.5);
      const [p, g, m, v] = [0, 4, 8, 12].map((o) => new Span(buf, o, 4));
      expect(() => backend.adamUpdate(p!, g!, m!, v!, 0.01, 0.9, 0.999, 1e-8, 0, false, 1)).not.toThrow();
    }
  });

  it('reject buffers a backend does not own / of the wrong dtype', async () => {
    const foreign = new ReferenceBackend({ dtype: 'f64' });
    for (const { name, backend: b } of await everyBackend()) {
      if (name === 'reference') continue;
      const message =
        name === 'wasm'
          ? "adamUpdate: v is not a float buffer of this wasm backend (allocate it with this backend's allocFloat)"
          : 'adamUpdate: expected a Float32Array for v but received Float64Array';
      const s = (backend: Backend): FloatSpan => floatSpan(backend, fill(4));
      expectError(
        () => b.adamUpdate(s(b), s(b), s(b), s(foreign), 0.01, 0.9, 0.999, 1e-8, 0, false, 1),
        TypeError,
        message,
      );
    }
  });

  it('still work after all those rejections', async () => {
    for (const { name, backend: b } of await everyBackend()) {
      const [p, g, buf] = [floatSpan(b, [1, 1]), floatSpan(b, [1, -2]), floatSpan(b, [0, 0])];
      b.momentumUpdate(p, g, buf, 0.5, 0.9, 0, false, 0, true);
      expect(Array.from(p.data), name).toEqual([0.5, 2]);
      expect(Array.from(buf.data), name).toEqual([1, -2]);
    }
  });
});
