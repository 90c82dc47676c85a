// The CTC loss kernel (Backend.ctcLoss): PyTorch's nn.CTCLoss fixtures (test/fixtures/make_ctc_fixtures.py)
// on every backend; wasm and native (every SIMD level × 1, 2 and 3 threads) against the float64 reference
// on random cases through test/kernel-suite.ts (NaN-filled outputs and workspaces, guards around every span,
// native results bit-identical across thread counts); finite differences on the float64 reference;
// impossible alignments (infinite, or zero with zeroInfinity, never NaN); one table of bad arguments.
import { readFileSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Backend, ctcWorkspaceSize } from '../src/backend/types.js';
import { checkGradient, expectClose, makeRandom, randomValues } from './helpers.js';
import {
  type BadArgument,
  type CaseContext,
  badArgumentSuite,
  caseContext,
  compareWithReference,
  everyBackend,
  expectNativeLoads,
  reference64,
} from './kernel-suite.js';

expectNativeLoads();

const ref64 = reference64;
const expectNoNative = process.env['RNNKIT_EXPECT_NO_NATIVE'] === '1';
const nans = (n: number): number[] => new Array<number>(n).fill(NaN);

interface CtcCase {
  T: number;
  B: number;
  C: number;
  S: number;
  logits: number[];
  targets: number[];
  inputLengths: number[];
  targetLengths: number[];
  zeroInfinity: boolean;
}

interface CtcResult {
  loss: number;
  losses: number[];
  dLogits: number[];
}

/** One ctcLoss call through the suite's context (every span guarded, every output and the workspace starting
 *  as NaN, the guards checked after), as plain numbers. */
function runCtc(backend: Backend, c: CtcCase): CtcResult {
  const { context, checkGuards } = caseContext(backend);
  const got = ctcOutputs(context, c);
  checkGuards(`${backend.name} guards`);
  return { loss: got.loss, losses: Array.from(got.losses.data), dLogits: Array.from(got.dLogits.data) };
}

// ---- PyTorch fixtures -------------------------------------------------------------------------------

const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'pytorch-ctc');
const number = (v: number | string): number => (v === 'Infinity' ? Infinity : (v as number));

interface Fixture extends CtcCase {
  name: string;
  loss: number | string;
  losses: (number | string)[];
  dLogits: number[];
}

const fixtures: Fixture[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(resolve(FIXTURES, f), 'utf8')) as Fixture);

describe('ctcLoss matches PyTorch nn.CTCLoss (blank 0, mean, log_softmax fused)', () => {
  it('covers batch 1 and 5, repeats, an empty target and an impossible alignment with and without zero_infinity', () => {
    expect(fixtures.map((f) => f.name)).toEqual(
      expect.arrayContaining([
        'batch1-repeats',
        'batch1-long',
        'batch5-uneven',
        'batch5-digits',
        'impossible-zero-infinity-false',
        'impossible-zero-infinity-true',
      ]),
    );
    expect(fixtures.some((f) => f.targetLengths.includes(0))).toBe(true);
    expect(fixtures.some((f) => f.losses.includes('Infinity'))).toBe(true);
  });
  // PyTorch is the oracle here, so the float64 reference runs too, next to every backend of everyBackend().
  const backends: [string, () => Promise<Backend | undefined>][] = [
    ['reference f64', async () => ref64],
    ...['reference f32', 'wasm', 'native'].map((name): [string, () => Promise<Backend | undefined>] => [
      name,
      async () => (await everyBackend()).find((b) => b.name === name.split(' ')[0])?.backend,
    ]),
  ];
  for (const f of fixtures) {
    for (const [name, make] of backends) {
      it.skipIf(name === 'native' && expectNoNative)(`${f.name} on ${name}`, async () => {
        const backend = await make();
        if (!backend) throw new Error(`${name}: this backend did not load`);
        const got = runCtc(backend, f);
        const losses = f.losses.map(number);
        expect(
          got.losses.map((v) => v === Infinity),
          'infinite losses',
        ).toEqual(losses.map((v) => v === Infinity));
        expectClose(got.losses.filter(Number.isFinite), losses.filter(Number.isFinite), 1e-5, 2e-5, 'losses');
        if (number(f.loss) === Infinity) expect(got.loss).toBe(Infinity);
        else expectClose([got.loss], [number(f.loss)], 1e-5, 2e-5, 'loss');
        expectClose(got.dLogits, f.dLogits, 2e-6, 1e-4, 'dLogits');
        expect(got.dLogits.some(Number.isNaN), 'NaN in dLogits').toBe(false);
      });
    }
  }
});

// ---- every backend against the float64 reference ----------------------------------------------------

/** A random case: logits uniform ±scale (float32 values), labels with deliberate repeats. */
function randomCase(
  seed: number,
  T: number,
  C: number,
  inputLengths: number[],
  targetLengths: number[],
  scale = 3,
  zeroInfinity = false,
): CtcCase {
  const random = makeRandom(seed);
  const B = inputLengths.length,
    S = Math.max(...targetLengths, 0);
  const targets: number[] = [];
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < S; s++) {
      const repeat = s > 0 && s < targetLengths[b]! && random() < 0.3;
      targets.push(repeat ? targets[targets.length - 1]! : 1 + Math.floor(random() * (C - 1)));
    }
  }
  const logits = Array.from(Float32Array.from(randomValues(random, T * B * C, scale)));
  return { T, B, C, S, logits, targets, inputLengths, targetLengths, zeroInfinity };
}

const RANDOM_CASES: [string, CtcCase][] = [
  ['B=1 T=1 empty target', randomCase(1, 1, 3, [1], [0])],
  ['B=1 T=1 one label', randomCase(2, 1, 3, [1], [1])],
  ['B=3 T=9 C=4', randomCase(3, 9, 4, [9, 4, 7], [3, 1, 2])],
  ['B=7 T=40 C=17 uneven', randomCase(4, 40, 17, [40, 13, 27, 40, 5, 33, 19], [10, 4, 0, 12, 2, 9, 6])],
  ['B=4 T=60 C=33 sharp logits', randomCase(5, 60, 33, [60, 45, 58, 30], [15, 11, 20, 8], 12)],
  ['B=5 impossible ones', randomCase(6, 8, 5, [8, 3, 8, 2, 6], [3, 3, 8, 2, 4])],
  ['B=5 impossible ones, zeroInfinity', randomCase(6, 8, 5, [8, 3, 8, 2, 6], [3, 3, 8, 2, 4], 3, true)],
];

/** One case on one backend through the suite's context: loss, losses and dLogits (infinite values come out
 *  as they are: equal infinities compare equal), and the losses again without a gradient requested. */
function ctcOutputs(c: CaseContext, k: CtcCase) {
  const { T, B, C, S } = k;
  const [logits, work, losses, dLogits, work2, losses2] = c.floats(
    k.logits,
    nans(ctcWorkspaceSize(T, B, S)),
    nans(B),
    nans(T * B * C),
    nans(ctcWorkspaceSize(T, B, S)),
    nans(B),
  );
  const [targets, inputLengths, targetLengths] = c.ints(k.targets, k.inputLengths, k.targetLengths);
  const ctc = (w: typeof work, out: typeof losses, d: typeof dLogits | null): number =>
    c.backend.ctcLoss(
      T,
      B,
      C,
      S,
      logits!,
      targets!,
      inputLengths!,
      targetLengths!,
      k.zeroInfinity,
      w!,
      out!,
      d ?? null,
    );
  const loss = ctc(work, losses, dLogits!);
  const lossWithoutGradient = ctc(work2, losses2, null);
  expect(Array.from(logits!.data), `${c.backend.name}: logits unchanged`).toEqual(k.logits.map(Math.fround));
  return { loss, losses: losses!, dLogits: dLogits!, lossWithoutGradient, lossesWithoutGradient: losses2! };
}

describe('ctcLoss on wasm and native matches the float64 reference', () => {
  for (const [name, k] of RANDOM_CASES) {
    it(name, () =>
      compareWithReference((c) => ctcOutputs(c, k), [1e-5, 1e-5], {
        per: { dLogits: [1e-6, 1e-4] },
        expected: (r) => expect(r['loss']![0], 'the reference loss').not.toBeNaN(),
      }),
    );
  }
});

// ---- semantics on the float64 reference -------------------------------------------------------------

describe('ctcLoss semantics (float64 reference)', () => {
  it('finite differences: the gradient of the mean loss w.r.t. the logits', () => {
    for (const c of [randomCase(11, 7, 4, [7, 5, 3], [2, 3, 0]), randomCase(12, 12, 6, [12, 10], [4, 4], 2)]) {
      const { context } = caseContext(ref64);
      const [logits, work, losses, dLogits] = context.floats(
        c.logits,
        nans(ctcWorkspaceSize(c.T, c.B, c.S)),
        nans(c.B),
        nans(c.T * c.B * c.C),
      );
      const [targets, il, tl] = context.ints(c.targets, c.inputLengths, c.targetLengths);
      const loss = (): number =>
        ref64.ctcLoss(c.T, c.B, c.C, c.S, logits!, targets!, il!, tl!, false, work!, losses!, null);
      ref64.ctcLoss(c.T, c.B, c.C, c.S, logits!, targets!, il!, tl!, false, work!, losses!, dLogits!);
      checkGradient(logits!.data, Array.from(dLogits!.data), loss, `T=${c.T} B=${c.B}`);
    }
  });

  it('one label over one step: the loss is −log p(label), the gradient p − onehot', () => {
    const c: CtcCase = {
      T: 1,
      B: 1,
      C: 3,
      S: 1,
      logits: [0.5, -1, 2],
      targets: [2],
      inputLengths: [1],
      targetLengths: [1],
      zeroInfinity: false,
    };
    const got = runCtc(ref64, c);
    const z = Math.exp(0.5) + Math.exp(-1) + Math.exp(2);
    expect(got.loss).toBeCloseTo(-Math.log(Math.exp(2) / z), 12);
    expectClose(got.dLogits, [Math.exp(0.5) / z, Math.exp(-1) / z, Math.exp(2) / z - 1], 1e-12, 1e-12);
  });

  it('the probability of a target sums over its alignments (brute force over all C^T paths)', () => {
    const c = randomCase(13, 5, 3, [5], [2]);
    c.targets = [1, 1];
    const logp = (t: number, k: number): number => {
      const row = c.logits.slice(t * c.C, (t + 1) * c.C);
      return row[k]! - Math.log(row.reduce((sum, v) => sum + Math.exp(v), 0));
    };
    let total = 0;
    for (let path = 0; path < c.C ** c.T; path++) {
      const symbols = Array.from({ length: c.T }, (_, t) => Math.floor(path / c.C ** t) % c.C);
      const collapsed = symbols.filter((k, t) => k !== 0 && (t === 0 || k !== symbols[t - 1]));
      if (collapsed.join() === '1,1') total += Math.exp(symbols.reduce((sum, k, t) => sum + logp(t, k), 0));
    }
    expect(runCtc(ref64, c).losses[0]).toBeCloseTo(-Math.log(total), 10);
  });

  it('an impossible alignment: +Infinity and a zero gradient, or 0 with zeroInfinity; never NaN', () => {
    for (const zeroInfinity of [false, true]) {
      const c = randomCase(14, 4, 4, [4, 2], [2, 2], 3, zeroInfinity);
      c.targets = [1, 2, 3, 3]; // the second needs 3 steps (3, blank, 3) and has 2
      const got = runCtc(ref64, c);
      expect(got.losses[1]).toBe(zeroInfinity ? 0 : Infinity);
      expect(Number.isFinite(got.losses[0])).toBe(true);
      expect(got.loss).toBe(zeroInfinity ? got.losses[0]! / 2 / 2 : Infinity);
      for (let t = 0; t < c.T; t++) expect(got.dLogits.slice((t * 2 + 1) * 4, (t * 2 + 2) * 4)).toEqual([0, 0, 0, 0]);
      expect(got.dLogits.some((v) => v !== 0 && Number.isFinite(v))).toBe(true);
    }
  });
});

// ---- bad arguments ----------------------------------------------------------------------------------

interface CallParts {
  T?: number;
  C?: number;
  S?: number;
  inputLengths?: number[];
  targetLengths?: number[];
  targets?: number[];
  zeroInfinity?: unknown;
  workLength?: number;
  alias?: boolean;
}

/** A valid call for T = 4, B = 2, C = 3, S = 2 with one part replaced. */
function ctcCall(parts: CallParts): (c: CaseContext) => () => unknown {
  return (c) => {
    const T = parts.T ?? 4,
      B = 2,
      C = parts.C ?? 3,
      S = parts.S ?? 2;
    const [logits, work, losses, dLogits] = c.floats(
      nans(4 * B * 3),
      nans(parts.workLength ?? ctcWorkspaceSize(4, B, 2)),
      nans(B),
      nans(4 * B * 3),
    );
    const [targets, il, tl] = c.ints(
      parts.targets ?? [1, 2, 2, 9],
      parts.inputLengths ?? [4, 1],
      parts.targetLengths ?? [2, 1],
    );
    const out = parts.alias ? logits!.sub(0, B) : losses!;
    return () =>
      c.backend.ctcLoss(
        T,
        B,
        C,
        S,
        logits!,
        targets!,
        il!,
        tl!,
        (parts.zeroInfinity ?? false) as boolean,
        work!,
        out,
        dLogits!,
      );
  };
}

const bad = (what: string, parts: CallParts, type: BadArgument[2], message: string): BadArgument => [
  what,
  ctcCall(parts),
  type,
  message,
];

badArgumentSuite('ctcLoss', [
  bad('C = 1 (only the blank)', { C: 1 }, RangeError, 'ctcLoss: expected an integer >= 2 for C but received 1'),
  bad('T = 0', { T: 0 }, RangeError, 'ctcLoss: expected an integer >= 1 for T but received 0'),
  bad('logits of the wrong size', { C: 4 }, RangeError, 'ctcLoss: logits has 24 elements, expected 32'),
  bad('targets of the wrong size', { S: 3 }, RangeError, 'ctcLoss: targets has 4 elements, expected 6'),
  bad(
    'inputLengths of B + 1',
    { inputLengths: [4, 4, 4] },
    RangeError,
    'ctcLoss: inputLengths has 3 elements, expected 2',
  ),
  bad(
    'an input length 0',
    { inputLengths: [4, 0] },
    RangeError,
    'ctcLoss: input length 0 of sequence 1 is outside [1, 4]',
  ),
  bad(
    'an input length T + 1',
    { inputLengths: [5, 1] },
    RangeError,
    'ctcLoss: input length 5 of sequence 0 is outside [1, 4]',
  ),
  bad(
    'a target length S + 1',
    { targetLengths: [2, 3] },
    RangeError,
    'ctcLoss: target length 3 of sequence 1 is outside [0, 2]',
  ),
  bad(
    'a target length −1',
    { targetLengths: [-1, 0] },
    RangeError,
    'ctcLoss: target length -1 of sequence 0 is outside [0, 2]',
  ),
  bad(
    'the blank as a label',
    { targets: [1, 0, 2, 9] },
    RangeError,
    'ctcLoss: label 0 at position 1 of sequence 0 is outside [1, 3) (0 is the blank)',
  ),
  bad(
    'a label C',
    { targets: [1, 2, 3, 9] },
    RangeError,
    'ctcLoss: label 3 at position 0 of sequence 1 is outside [1, 3) (0 is the blank)',
  ),
  bad(
    'zeroInfinity not a boolean',
    { zeroInfinity: 1 },
    TypeError,
    'ctcLoss: expected a boolean for zeroInfinity but received 1',
  ),
  bad('a workspace too small', { workLength: 10 }, RangeError, 'ctcLoss: work has 10 elements, expected 88'),
  bad('losses aliasing logits', { alias: true }, RangeError, 'ctcLoss: output losses overlaps logits'),
]);
