// Parity with torch.optim: the trajectories recorded by test/fixtures/make_optim_fixtures.py (PyTorch 1.13,
// float32; run by hand, CI needs no PyTorch) replayed step by step through each backend's kernels (SGD, SGD
// with momentum/nesterov/dampening, Adagrad, RMSprop, Adam, AdamW, with and without weight decay). The
// kernels against the reference backend and their bad arguments: kernels-optimizers.test.ts.
//
// Tolerance everywhere: |backend − expected| <= 1e-6 + 1e-5·|expected| element-wise, on the parameter after
// every step and on the state tensors. The backends compute in float32 (the reference in float64 with float32
// storage, PyTorch in float32), so this leaves a few float32 roundings of headroom per step.
// Set OPTIM_REPORT=1 to print the measured max differences per backend.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend, FloatSpan } from '../src/backend/types.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { expectClose, guardedSpans } from './helpers.js';

const ABS = 1e-6;
const REL = 1e-5;

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
  const rows = [...stats]
    .sort()
    .map(([key, s]) => `${key.padEnd(32)}\t${s.maxAbs.toExponential(2)}\t${s.budget.toFixed(3)}`);
  console.log(['comparison\tmax abs\tfraction of tolerance', ...rows].join('\n'));
});

const loaded = new Map<string, Backend>();
beforeAll(async () => {
  for (const name of TESTED_BACKENDS) loaded.set(name, await BACKEND_FACTORIES[name]());
});
const backendOf = (name: string): Backend => loaded.get(name)!;

// ---------------------------------------------------------------- 3. parity with torch.optim

interface OptimCase {
  name: string;
  optimizer: 'sgd' | 'adagrad' | 'rmsprop' | 'adam' | 'adamw';
  options: {
    lr: number;
    momentum?: number;
    dampening?: number;
    nesterov?: boolean;
    weight_decay?: number;
    eps?: number;
    alpha?: number;
    betas?: [number, number];
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

const fixture = JSON.parse(
  readFileSync(resolve(import.meta.dirname, 'fixtures', 'pytorch', 'optim.json'), 'utf8'),
) as OptimFixture;

/** rnnkit's state buffers for a case, by torch's state names, and one step through the kernels. */
function optimizerFor(c: OptimCase): {
  state: string[];
  step: (b: Backend, p: FloatSpan, g: FloatSpan, s: FloatSpan[], step: number) => void;
} {
  const o = c.options,
    wd = o.weight_decay ?? 0;
  switch (c.optimizer) {
    case 'sgd':
      if (!o.momentum) return { state: [], step: (b, p, g) => b.sgdUpdate(p, g, o.lr, wd) };
      return {
        state: ['momentum_buffer'],
        step: (b, p, g, [buf], t) =>
          b.momentumUpdate(p, g, buf!, o.lr, o.momentum!, o.dampening ?? 0, o.nesterov ?? false, wd, t === 1),
      };
    case 'adagrad':
      return { state: ['sum'], step: (b, p, g, [sum]) => b.adagradUpdate(p, g, sum!, o.lr, o.eps ?? 1e-10, wd) };
    case 'rmsprop':
      return {
        state: ['square_avg'],
        step: (b, p, g, [sq]) => b.rmspropUpdate(p, g, sq!, o.lr, o.alpha ?? 0.99, o.eps ?? 1e-8, wd),
      };
    case 'adam':
    case 'adamw': {
      const [beta1, beta2] = o.betas ?? [0.9, 0.999];
      const decay = o.weight_decay ?? (c.optimizer === 'adamw' ? 0.01 : 0); // torch's defaults
      return {
        state: ['exp_avg', 'exp_avg_sq'],
        step: (b, p, g, [m, v], t) =>
          b.adamUpdate(p, g, m!, v!, o.lr, beta1, beta2, o.eps ?? 1e-8, decay, c.optimizer === 'adamw', t),
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
      'sgd-plain',
      'sgd-plain-wd0.01',
      'sgd-momentum0.9',
      'sgd-momentum0.9-nesterov',
      'sgd-momentum0.9-dampening0.1',
      'sgd-momentum0.9-wd0.01',
      'sgd-momentum0.9-nesterov-wd0.01',
      'adagrad',
      'adagrad-wd0.01',
      'rmsprop-alpha0.99',
      'rmsprop-alpha0.95',
      'rmsprop-alpha0.99-wd0.01',
      'adam',
      'adam-wd0.01',
      'adamw-wd0',
      'adamw-wd0.01',
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

  it.each(fixture.cases.map((c) => [c.name, c] as const))(
    '%s: the parameter after each of the steps and the final state',
    (_, c) => {
      const b = backend();
      const { state, step } = optimizerFor(c);
      const N = fixture.N;
      const [p, g, ...s] = guardedSpans(
        b,
        fixture.param0,
        new Array<number>(N).fill(0),
        ...state.map(() => new Array<number>(N).fill(0)),
      );
      const label = `${name} vs torch ${c.optimizer}`;
      for (let t = 1; t <= fixture.steps; t++) {
        g!.data.set(fixture.grads[t - 1]!);
        step(b, p!, g!, s, t);
        check(label, p!.data, c.params[t - 1]!, `${c.name}: param after step ${t}`);
      }
      state.forEach((stateName, k) =>
        check(label, s[k]!.data, c.state[stateName]!, `${c.name}: ${stateName} after step ${fixture.steps}`),
      );
    },
  );
});
