// Shared test utilities: deterministic random data and closeness checks across backends.
import { expect } from 'vitest';
import { type Backend, type F, type I, Span } from '../src/backend/types.js';

/** A small deterministic generator (mulberry32) so every test run sees the same data. */
export function makeRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A float span on `backend` holding `values`. */
export function floatSpan(backend: Backend, values: ArrayLike<number>): F {
  const buf = backend.allocFloat(values.length);
  buf.data.set(Array.from(values));
  return Span.of(buf);
}

export function intSpan(backend: Backend, values: ArrayLike<number>): I {
  const buf = backend.allocInt(values.length);
  buf.data.set(Array.from(values));
  return Span.of(buf);
}

/** `n` uniform values in [-scale, scale). */
export function randomValues(random: () => number, n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => (random() * 2 - 1) * scale);
}

/** Element-wise |a - b| <= abs + rel·|b|, reporting the worst element on failure. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, abs = 1e-5, rel = 1e-4, what = 'values'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    const excess = Math.abs(a - e) - (abs + rel * Math.abs(e));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (abs ${abs}, rel ${rel})`);
  }
}
