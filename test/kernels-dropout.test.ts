// Dropout draws the same mask on every backend (a counter-based hash), keeps about 1 − p of the elements,
// scales them by 1/(1 − p), and refuses probabilities outside [0, 1).
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { floatSpan, makeRandom, randomValues } from './helpers.js';

const reference = new ReferenceBackend();

describe.each(TESTED_BACKENDS)('dropout on %s', (name) => {
  it.each([
    [0, 17, 1],
    [0.25, 1000, 7],
    [0.5, 257, 0xffffffff],
    [0.9, 4099, 123456],
  ])('p = %s over %s elements (seed %s) matches the reference bit for bit', async (p, n, seed) => {
    const backend = await BACKEND_FACTORIES[name]();
    const x = randomValues(makeRandom(n), n);
    const run = (be: typeof backend) => {
      const mask = floatSpan(be, new Float32Array(n).fill(NaN)), out = floatSpan(be, new Float32Array(n).fill(NaN));
      be.dropout(floatSpan(be, x), p, seed, mask, out);
      return { mask: Array.from(mask.data), out: Array.from(out.data) };
    };
    const got = run(backend), want = run(reference);
    expect(got.mask).toEqual(want.mask);
    expect(got.out).toEqual(want.out);
    const kept = got.mask.filter((m) => m !== 0);
    expect(new Set(kept).size).toBeLessThanOrEqual(1);
    if (kept.length) expect(kept[0]).toBeCloseTo(1 / (1 - p), 6);
    if (n >= 1000) expect(Math.abs(kept.length / n - (1 - p))).toBeLessThan(0.05);
  });

  it('different seeds give different masks; multiply is the backward', async () => {
    const backend = await BACKEND_FACTORIES[name]();
    const n = 512;
    const x = floatSpan(backend, new Float32Array(n).fill(1));
    const masks = [1, 2].map((seed) => {
      const mask = floatSpan(backend, new Float32Array(n)), out = floatSpan(backend, new Float32Array(n));
      backend.dropout(x, 0.5, seed, mask, out);
      return mask;
    });
    expect(Array.from(masks[0]!.data)).not.toEqual(Array.from(masks[1]!.data));
    const dOut = randomValues(makeRandom(2), n);
    const dX = floatSpan(backend, new Float32Array(n));
    backend.multiply(floatSpan(backend, dOut), masks[0]!, dX);
    expect(Array.from(dX.data)).toEqual(dOut.map((g, i) => Math.fround(g) * masks[0]!.data[i]!));
  });

  it.each([
    [1, 1, /expected a probability in \[0, 1\) for p but received 1/],
    [-0.1, 1, /for p but received -0.1/],
    [Number.NaN, 1, /for p but received NaN/],
    [0.5, 1.5, /expected an integer from 0 to 4294967295 for seed but received 1.5/],
    [0.5, -1, /for seed but received -1/],
  ])('refuses p = %s, seed = %s', async (p, seed, message) => {
    const backend = await BACKEND_FACTORIES[name]();
    const span = () => floatSpan(backend, new Float32Array(4));
    expect(() => backend.dropout(span(), p, seed, span(), span())).toThrow(message);
  });

  it('refuses a mask that aliases the input', async () => {
    const backend = await BACKEND_FACTORIES[name]();
    const x = floatSpan(backend, new Float32Array(4));
    expect(() => backend.dropout(x, 0.5, 1, x, floatSpan(backend, new Float32Array(4)))).toThrow(/dropout: output mask overlaps x/);
  });
});
