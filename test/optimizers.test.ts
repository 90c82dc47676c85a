// The stateful optimizer kernels (momentumUpdate, rmspropUpdate, adamUpdate) on every backend:
//   1. against the reference backend (the oracle) on awkward lengths and several settings, over a few steps;
//   2. argument validation: the reference's messages, in the reference's order, on every backend, and
//      nothing is written by a rejected call;
//   3. parity with torch.optim: the trajectories recorded by test/fixtures/make_optim_fixtures.py (PyTorch
//      1.13, float32; run by hand, CI needs no PyTorch) replayed step by step through each backend's kernels
//      (SGD, SGD with momentum/nesterov/dampening, Adagrad, RMSprop, Adam, AdamW, with and without weight decay).
//
// Tolerance everywhere: |backend − expected| <= 1e-6 + 1e-5·|expected| element-wise, on the parameter after
// every step and on the state tensors. The backends compute in float32 (the reference in float64 with float32
// storage, PyTorch in float32), so this leaves a few float32 roundings of headroom per step.
// Set OPTIM_REPORT=1 to print the measured max differences per backend.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Backend, type F, Span } from '../src/backend/types.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { type ErrorClass, expectClose, expectError, floatSpan, makeRandom, randomValues } from './helpers.js';

const ABS = 1e-6;
const REL = 1e-5;
const LENGTHS = [1, 3, 17, 100, 257, 1000];

const reference = new ReferenceBackend();

// ---------------------------------------------------------------- measured differences (OPTIM_REPORT=1)

interface Stat {
  maxAbs: number;
  budget: number; // max |a − e| / (ABS + REL·|e|): 1 is the tolerance
}
const stats = new Map<string, Stat>();

function check(label: string, actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  const s = stats.get(label) ?? { maxAbs: 0, budget: 0 };
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i]! - expected[i]!);
    s.maxAbs = Math.max(s.maxAbs, d);
    s.budget = Math.max(s.budget, d / (ABS + REL * Math.abs(expected[i]!)));
  }
  stats.set(label, s);
  expectClose(actual, expected, ABS, REL, what);
}

afterAll(() => {
  if (process.env['OPTIM_REPORT'] !== '1' || stats.size === 0) return;
  const rows = [...stats].sort().map(([key, s]) => `${key.padEnd(32)}\t${s.maxAbs.toExponential(2)}\t${s.budget.toFixed(3)}`);
  console.log(['comparison\tmax abs\tfraction of tolerance', ...rows].join('\n'));
});

// ---------------------------------------------------------------- helpers

/**
 * Spans holding `arrays`, all in ONE buffer of `backend`, each at an odd offset with guard gaps between
 * them (so SIMD loops see unaligned views and must stop at the tail). `gaps()` checks the guards are intact.
 */
function spans(backend: Backend, arrays: ArrayLike<number>[]): { spans: F[]; gapsIntact: () => boolean } {
  const gap = 3, guard = -7777;
  let total = gap;
  for (const a of arrays) total += a.length + gap;
  const buf = backend.allocFloat(total);
  buf.data.fill(guard);
  const result: F[] = [];
  const gapRanges: [number, number][] = [[0, gap]];
  let offset = gap;
  for (const a of arrays) {
    const span = new Span(buf, offset, a.length);
    span.data.set(Array.from(a));
    result.push(span);
    offset += a.length;
    gapRanges.push([offset, offset + gap]);
    offset += gap;
  }
  const gapsIntact = (): boolean => gapRanges.every(([from, to]) => buf.data.subarray(from, to).every((x) => x === guard));
  return { spans: result, gapsIntact };
}

const positive = (random: () => number, n: number, scale: number): number[] => Array.from({ length: n }, () => scale * (0.01 + random()));

type Run = (b: Backend, s: F[], call: number) => void;

/**
 * Runs `calls` updates on `backend` and on the reference from the same initial `arrays` ([param, grad,
 * ...state]) and compares param and every state tensor after each call; grad must stay unchanged.
 */
function compareWithReference(label: string, backend: Backend, arrays: number[][], names: string[], calls: number, run: Run): void {
  const mine = spans(backend, arrays), theirs = spans(reference, arrays);
  for (let call = 0; call < calls; call++) {
    run(backend, mine.spans, call);
    run(reference, theirs.spans, call);
    names.forEach((name, k) => {
      if (name === 'grad') return;
      check(label, mine.spans[k]!.data, theirs.spans[k]!.data, `${name} after call ${call + 1}`);
    });
  }
  expectClose(mine.spans[1]!.data, Float32Array.from(arrays[1]!), 0, 0, 'grad unchanged');
  expect(mine.gapsIntact(), 'guard elements around the spans unchanged').toBe(true);
}

const loaded = new Map<string, Backend>();
beforeAll(async () => {
  for (const name of TESTED_BACKENDS) loaded.set(name, await BACKEND_FACTORIES[name]());
});
const backendOf = (name: string): Backend => loaded.get(name)!;

// ---------------------------------------------------------------- 1. every backend against the reference

describe.each(TESTED_BACKENDS)('optimizer kernels on %s match the reference', (name) => {
  const label = `${name} vs reference`;

  describe('momentumUpdate', () => {
    for (const n of LENGTHS) {
      for (const nesterov of [false, true]) {
        for (const dampening of [0, 0.1]) {
          for (const weightDecay of [0, 0.01]) {
            it(`n=${n} momentum 0.9 nesterov=${nesterov} dampening=${dampening} weightDecay=${weightDecay}`, () => {
              const random = makeRandom(1000 + n);
              // A stale random buffer: the first call (first = true) must ignore it, the next two accumulate.
              const arrays = [randomValues(random, n), randomValues(random, n), randomValues(random, n)];
              compareWithReference(label, backendOf(name), arrays, ['param', 'grad', 'buf'], 3, (b, [p, g, buf], call) =>
                b.momentumUpdate(p!, g!, buf!, 0.1, 0.9, dampening, nesterov, weightDecay, call === 0));
            });
          }
        }
      }
      it(`n=${n} first = false from a given buffer`, () => {
        const random = makeRandom(2000 + n);
        const arrays = [randomValues(random, n), randomValues(random, n), randomValues(random, n)];
        compareWithReference(label, backendOf(name), arrays, ['param', 'grad', 'buf'], 2, (b, [p, g, buf]) =>
          b.momentumUpdate(p!, g!, buf!, 0.05, 0.9, 0, false, 0.01, false));
      });
    }
  });

  describe('rmspropUpdate', () => {
    for (const n of LENGTHS) {
      for (const alpha of [0.99, 0.95]) {
        for (const weightDecay of [0, 0.01]) {
          it(`n=${n} alpha=${alpha} weightDecay=${weightDecay}`, () => {
            const random = makeRandom(3000 + n);
            const arrays = [randomValues(random, n), randomValues(random, n), positive(random, n, 0.1)];
            compareWithReference(label, backendOf(name), arrays, ['param', 'grad', 'sq'], 3, (b, [p, g, sq]) =>
              b.rmspropUpdate(p!, g!, sq!, 0.01, alpha, 1e-8, weightDecay));
          });
        }
      }
    }
  });

  describe('adamUpdate', () => {
    for (const n of LENGTHS) {
      for (const decoupled of [false, true]) {
        for (const weightDecay of [0, 0.01]) {
          for (const step of [1, 2, 1000]) {
            it(`n=${n} ${decoupled ? 'adamw' : 'adam'} weightDecay=${weightDecay} steps ${step}..${step + 2}`, () => {
              const random = makeRandom(4000 + n + step);
              // Step 1 starts from zero moments (as an optimizer does); later steps from some earlier state.
              const m = step === 1 ? new Array<number>(n).fill(0) : randomValues(random, n, 0.1);
              const v = step === 1 ? new Array<number>(n).fill(0) : positive(random, n, 0.01);
              const arrays = [randomValues(random, n), randomValues(random, n), m, v];
              compareWithReference(label, backendOf(name), arrays, ['param', 'grad', 'm', 'v'], 3, (b, [p, g, ma, va], call) =>
                b.adamUpdate(p!, g!, ma!, va!, 0.01, 0.9, 0.999, 1e-8, weightDecay, decoupled, step + call));
            });
          }
        }
      }
    }
  });
});

// ---------------------------------------------------------------- 2. validation


/** A value of the wrong type, passed where the signature does not allow it. */
const any = (value: unknown): never => value as never;

describe.each(TESTED_BACKENDS)('optimizer kernels on %s reject bad arguments with the reference messages', (name) => {
  const fs = (b: Backend, n: number, fill = 0.5): F => floatSpan(b, new Array<number>(n).fill(fill));
  /** [offset, length] ranges of one 64-float buffer: overlapping spans. */
  const overlapping = (b: Backend, ranges: [number, number][]): F[] => {
    const buf = b.allocFloat(64);
    buf.data.fill(0.5);
    return ranges.map(([offset, length]) => new Span(buf, offset, length));
  };

  /** Fails with exactly this class and message, on this backend and on the reference, and writes nothing. */
  function rejects(setup: (b: Backend) => [F[], () => unknown], type: ErrorClass, message: string): void {
    for (const b of [backendOf(name), reference]) {
      const [written, call] = setup(b);
      expectError(call, type, message);
      for (const s of written) expect(Array.from(s.data).every((x) => x === 0.5), 'nothing written').toBe(true);
    }
  }

  it('wrong lengths', () => {
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 3)];
      return [s, () => b.momentumUpdate(s[0]!, s[1]!, s[2]!, 0.1, 0.9, 0, false, 0, true)];
    }, RangeError, 'momentumUpdate: buf has 3 elements, expected 4 like param');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 5), fs(b, 4)];
      return [s, () => b.momentumUpdate(s[0]!, s[1]!, s[2]!, 0.1, 0.9, 0, false, 0, true)];
    }, RangeError, 'momentumUpdate: grad has 5 elements, expected 4 like param');
    rejects((b) => {
      const s = [fs(b, 17), fs(b, 17), fs(b, 16)];
      return [s, () => b.rmspropUpdate(s[0]!, s[1]!, s[2]!, 0.01, 0.99, 1e-8, 0)];
    }, RangeError, 'rmspropUpdate: sq has 16 elements, expected 17 like param');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4), fs(b, 5)];
      return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, 0.01, 0.9, 0.999, 1e-8, 0, false, 1)];
    }, RangeError, 'adamUpdate: v has 5 elements, expected 4 like param');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 0), fs(b, 4)];
      return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, 0.01, 0.9, 0.999, 1e-8, 0, false, 1)];
    }, RangeError, 'adamUpdate: m has 0 elements, expected 4 like param');
  });

  it('non-finite numbers', () => {
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.momentumUpdate(s[0]!, s[1]!, s[2]!, NaN, 0.9, 0, false, 0, true)];
    }, RangeError, 'momentumUpdate: expected a finite number for lr but received NaN');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.momentumUpdate(s[0]!, s[1]!, s[2]!, 0.1, 0.9, Infinity, false, 0, true)];
    }, RangeError, 'momentumUpdate: expected a finite number for dampening but received Infinity');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.rmspropUpdate(s[0]!, s[1]!, s[2]!, NaN, 0.99, 1e-8, 0)];
    }, RangeError, 'rmspropUpdate: expected a finite number for lr but received NaN');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.rmspropUpdate(s[0]!, s[1]!, s[2]!, 0.01, 0.99, 1e-8, any(undefined))];
    }, RangeError, 'rmspropUpdate: expected a finite number for weightDecay but received undefined');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, NaN, 0.9, 0.999, 1e-8, 0, false, 1)];
    }, RangeError, 'adamUpdate: expected a finite number for lr but received NaN');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, 0.01, 0.9, -Infinity, 1e-8, 0, true, 1)];
    }, RangeError, 'adamUpdate: expected a finite number for beta2 but received -Infinity');
  });

  it('aliasing among param, grad and state', () => {
    rejects((b) => {
      const [p, buf] = overlapping(b, [[0, 4], [3, 4]]);
      return [[p!, buf!], () => b.momentumUpdate(p!, fs(b, 4), buf!, 0.1, 0.9, 0, false, 0, true)];
    }, RangeError, 'momentumUpdate: output param overlaps buf');
    rejects((b) => {
      const [g, buf] = overlapping(b, [[10, 4], [10, 4]]);
      return [[g!], () => b.momentumUpdate(fs(b, 4), g!, buf!, 0.1, 0.9, 0, false, 0, true)];
    }, RangeError, 'momentumUpdate: output grad overlaps buf');
    rejects((b) => {
      const [sq, p] = overlapping(b, [[0, 5], [4, 5]]);
      return [[p!, sq!], () => b.rmspropUpdate(p!, fs(b, 5), sq!, 0.01, 0.99, 1e-8, 0)];
    }, RangeError, 'rmspropUpdate: output param overlaps sq');
    rejects((b) => {
      const [p, m] = overlapping(b, [[2, 8], [9, 8]]);
      return [[p!, m!], () => b.adamUpdate(p!, fs(b, 8), m!, fs(b, 8), 0.01, 0.9, 0.999, 1e-8, 0, false, 1)];
    }, RangeError, 'adamUpdate: output param overlaps m');
    rejects((b) => {
      const [m, v] = overlapping(b, [[0, 8], [7, 8]]);
      return [[m!, v!], () => b.adamUpdate(fs(b, 8), fs(b, 8), m!, v!, 0.01, 0.9, 0.999, 1e-8, 0, false, 1)];
    }, RangeError, 'adamUpdate: output m overlaps v');
    rejects((b) => {
      const [v, p] = overlapping(b, [[20, 3], [22, 3]]);
      return [[p!, v!], () => b.adamUpdate(p!, fs(b, 3), fs(b, 3), v!, 0.01, 0.9, 0.999, 1e-8, 0, true, 1)];
    }, RangeError, 'adamUpdate: output param overlaps v');
  });

  it('accepts adjacent spans of one buffer', () => {
    const b = backendOf(name);
    const buf = b.allocFloat(16);
    buf.data.fill(0.5);
    const [p, g, m, v] = [0, 4, 8, 12].map((o) => new Span(buf, o, 4));
    expect(() => b.adamUpdate(p!, g!, m!, v!, 0.01, 0.9, 0.999, 1e-8, 0, false, 1)).not.toThrow();
  });

  it('non-boolean flags', () => {
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.momentumUpdate(s[0]!, s[1]!, s[2]!, 0.1, 0.9, 0, any(1), 0, true)];
    }, TypeError, 'momentumUpdate: expected a boolean for nesterov but received 1');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.momentumUpdate(s[0]!, s[1]!, s[2]!, 0.1, 0.9, 0, false, 0, any('yes'))];
    }, TypeError, 'momentumUpdate: expected a boolean for first but received yes');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.momentumUpdate(s[0]!, s[1]!, s[2]!, 0.1, 0.9, 0, false, 0, any(undefined))];
    }, TypeError, 'momentumUpdate: expected a boolean for first but received undefined');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, 0.01, 0.9, 0.999, 1e-8, 0, any(0), 1)];
    }, TypeError, 'adamUpdate: expected a boolean for decoupled but received 0');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, 0.01, 0.9, 0.999, 1e-8, 0, any(null), 1)];
    }, TypeError, 'adamUpdate: expected a boolean for decoupled but received null');
  });

  it('step not an integer >= 1', () => {
    for (const [step, shown] of [[0, '0'], [1.5, '1.5'], [-1, '-1'], [NaN, 'NaN'], ['2', '2'], [2 ** 31, '2147483648']] as const) {
      rejects((b) => {
        const s = [fs(b, 4), fs(b, 4), fs(b, 4), fs(b, 4)];
        return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, 0.01, 0.9, 0.999, 1e-8, 0, false, any(step))];
      }, RangeError, `adamUpdate: expected an integer >= 1 for step but received ${shown}`);
    }
  });

  it('checks in the reference order: lengths, numbers, aliasing, flags, step', () => {
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 3), fs(b, 4)];
      return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, NaN, 0.9, 0.999, 1e-8, 0, any(0), 0)];
    }, RangeError, 'adamUpdate: m has 3 elements, expected 4 like param');
    rejects((b) => {
      const [p, m] = overlapping(b, [[0, 4], [0, 4]]);
      return [[p!], () => b.adamUpdate(p!, fs(b, 4), m!, fs(b, 4), NaN, 0.9, 0.999, 1e-8, 0, any(0), 0)];
    }, RangeError, 'adamUpdate: expected a finite number for lr but received NaN');
    rejects((b) => {
      const [p, m] = overlapping(b, [[0, 4], [0, 4]]);
      return [[p!], () => b.adamUpdate(p!, fs(b, 4), m!, fs(b, 4), 0.01, 0.9, 0.999, 1e-8, 0, any(0), 0)];
    }, RangeError, 'adamUpdate: output param overlaps m');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.adamUpdate(s[0]!, s[1]!, s[2]!, s[3]!, 0.01, 0.9, 0.999, 1e-8, 0, any(0), 0)];
    }, TypeError, 'adamUpdate: expected a boolean for decoupled but received 0');
    rejects((b) => {
      const [buf, p] = overlapping(b, [[0, 4], [1, 4]]);
      return [[p!], () => b.momentumUpdate(p!, fs(b, 4), buf!, 0.1, 0.9, 0, any(1), 0, true)];
    }, RangeError, 'momentumUpdate: output param overlaps buf');
    rejects((b) => {
      const s = [fs(b, 4), fs(b, 4), fs(b, 4)];
      return [s, () => b.momentumUpdate(s[0]!, s[1]!, s[2]!, 0.1, 0.9, 0, any(1), 0, any(2))];
    }, TypeError, 'momentumUpdate: expected a boolean for nesterov but received 1');
  });

  it.runIf(name !== 'reference')('rejects buffers it does not own / of the wrong dtype', () => {
    const b = backendOf(name);
    const foreign = new ReferenceBackend({ dtype: 'f64' });
    const message = name === 'wasm'
      ? 'adamUpdate: v is not a float buffer of this wasm backend (allocate it with this backend\'s allocFloat)'
      : 'adamUpdate: expected a Float32Array for v but received Float64Array';
    expectError(() => b.adamUpdate(fs(b, 4), fs(b, 4), fs(b, 4), fs(foreign, 4), 0.01, 0.9, 0.999, 1e-8, 0, false, 1), TypeError, message);
  });

  it('still works after all those rejections', () => {
    const b = backendOf(name);
    const [p, g, buf] = [fs(b, 2, 1), floatSpan(b, [1, -2]), fs(b, 2, 0)];
    b.momentumUpdate(p!, g!, buf!, 0.5, 0.9, 0, false, 0, true);
    expect(Array.from(p!.data)).toEqual([0.5, 2]);
    expect(Array.from(buf!.data)).toEqual([1, -2]);
  });
});

// ---------------------------------------------------------------- 3. parity with torch.optim

interface OptimCase {
  name: string;
  optimizer: 'sgd' | 'adagrad' | 'rmsprop' | 'adam' | 'adamw';
  options: {
    lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weight_decay?: number;
    eps?: number; alpha?: number; betas?: [number, number];
  };
  params: number[][]; // [steps][N]: the parameter after each step
  state: Record<string, number[]>; // by torch's names
}
interface OptimFixture {
  torch: string;
  N: number;
  steps: number;
  param0: number[];
  grads: number[][];
  cases: OptimCase[];
}

const fixture = JSON.parse(readFileSync(resolve(import.meta.dirname, 'fixtures', 'pytorch', 'optim.json'), 'utf8')) as OptimFixture;

/** rnnkit's state buffers for a case, by torch's state names, and one step through the kernels. */
function optimizerFor(c: OptimCase): { state: string[]; step: (b: Backend, p: F, g: F, s: F[], step: number) => void } {
  const o = c.options, wd = o.weight_decay ?? 0;
  switch (c.optimizer) {
    case 'sgd':
      if (!o.momentum) return { state: [], step: (b, p, g) => b.sgdUpdate(p, g, o.lr, wd) };
      return {
        state: ['momentum_buffer'],
        step: (b, p, g, [buf], t) => b.momentumUpdate(p, g, buf!, o.lr, o.momentum!, o.dampening ?? 0, o.nesterov ?? false, wd, t === 1),
      };
    case 'adagrad':
      return { state: ['sum'], step: (b, p, g, [sum]) => b.adagradUpdate(p, g, sum!, o.lr, o.eps ?? 1e-10, wd) };
    case 'rmsprop':
      return { state: ['square_avg'], step: (b, p, g, [sq]) => b.rmspropUpdate(p, g, sq!, o.lr, o.alpha ?? 0.99, o.eps ?? 1e-8, wd) };
    case 'adam':
    case 'adamw': {
      const [beta1, beta2] = o.betas ?? [0.9, 0.999];
      const decay = o.weight_decay ?? (c.optimizer === 'adamw' ? 0.01 : 0); // torch's defaults
      return {
        state: ['exp_avg', 'exp_avg_sq'],
        step: (b, p, g, [m, v], t) => b.adamUpdate(p, g, m!, v!, o.lr, beta1, beta2, o.eps ?? 1e-8, decay, c.optimizer === 'adamw', t),
      };
    }
  }
}

describe('torch.optim fixtures', () => {
  it('were written by PyTorch and cover every optimizer setting', () => {
    expect(fixture.torch).toMatch(/^\d+\.\d+/);
    expect(fixture.grads).toHaveLength(fixture.steps);
    expect(fixture.param0).toHaveLength(fixture.N);
    expect(fixture.cases.map((c) => c.name)).toEqual([
      'sgd-plain', 'sgd-plain-wd0.01', 'sgd-momentum0.9', 'sgd-momentum0.9-nesterov', 'sgd-momentum0.9-dampening0.1',
      'sgd-momentum0.9-wd0.01', 'sgd-momentum0.9-nesterov-wd0.01', 'adagrad', 'adagrad-wd0.01',
      'rmsprop-alpha0.99', 'rmsprop-alpha0.95', 'rmsprop-alpha0.99-wd0.01', 'adam', 'adam-wd0.01', 'adamw-wd0', 'adamw-wd0.01',
    ]);
    for (const c of fixture.cases) {
      expect(c.params).toHaveLength(fixture.steps);
      expect(Object.keys(c.state).sort()).toEqual(optimizerFor(c).state.slice().sort());
    }
  });
});

const PARITY_VARIANTS = [...TESTED_BACKENDS, 'reference-f64'] as const;

describe.each(PARITY_VARIANTS)(`torch.optim (PyTorch ${fixture.torch}) parity on %s`, (name) => {
  const backend = (): Backend => (name === 'reference-f64' ? new ReferenceBackend({ dtype: 'f64' }) : backendOf(name));

  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s: the parameter after each of the steps and the final state', (_, c) => {
    const b = backend();
    const { state, step } = optimizerFor(c);
    const N = fixture.N;
    const { spans: [p, g, ...s] } = spans(b, [fixture.param0, new Array<number>(N).fill(0), ...state.map(() => new Array<number>(N).fill(0))]);
    const label = `${name} vs torch ${c.optimizer}`;
    for (let t = 1; t <= fixture.steps; t++) {
      g!.data.set(fixture.grads[t - 1]!);
      step(b, p!, g!, s, t);
      check(label, p!.data, c.params[t - 1]!, `${c.name}: param after step ${t}`);
    }
    state.forEach((stateName, k) => check(label, s[k]!.data, c.state[stateName]!, `${c.name}: ${stateName} after step ${fixture.steps}`));
  });
});
