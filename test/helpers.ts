// Shared test utilities: deterministic random data and closeness checks across backends.
import { expect } from 'vitest';
import { type Backend, type FloatSpan, type IntSpan, Span } from '../src/backend/types.js';

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
export function floatSpan(backend: Backend, values: ArrayLike<number>): FloatSpan {
  const buf = backend.allocFloat(values.length);
  buf.data.set(Array.from(values));
  return Span.of(buf);
}

export function intSpan(backend: Backend, values: ArrayLike<number>): IntSpan {
  const buf = backend.allocInt(values.length);
  buf.data.set(Array.from(values));
  return Span.of(buf);
}

/** `n` uniform values in [-scale, scale). */
export function randomValues(random: () => number, n: number, scale = 1): number[] {
  return Array.from({ length: n }, () => (random() * 2 - 1) * scale);
}

/** Element-wise |a - b| <= abs + rel·|b|, reporting the worst element on failure. */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  abs = 1e-5,
  rel = 1e-4,
  what = 'values',
): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!,
      e = expected[i]!;
    if (a === e) continue; // (equal infinities too)
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

/**
 * Spans holding `arrays`, all in ONE buffer of `backend`, each at an odd offset with gaps between them,
 * so that the kernels see views with non-zero byte offsets; the gaps hold -7777 and must never be read
 * into results nor written. A `null` entry makes an empty span.
 */
export function guardedSpans(backend: Backend, ...arrays: (ArrayLike<number> | null)[]): FloatSpan[] {
  const gap = 3;
  let total = gap;
  for (const a of arrays) total += (a?.length ?? 0) + gap;
  const buf = backend.allocFloat(total);
  buf.data.fill(-7777);
  const result: FloatSpan[] = [];
  let offset = gap;
  for (const a of arrays) {
    const length = a?.length ?? 0;
    const span = new Span(buf, offset, length);
    if (a) span.data.set(Array.from(a));
    result.push(span);
    offset += length + gap;
  }
  return result;
}

/** guardedSpans for int spans (ids, lengths, argmax): gaps hold -7777. */
export function guardedIntSpans(backend: Backend, ...arrays: (ArrayLike<number> | null)[]): IntSpan[] {
  const gap = 3;
  const buf = backend.allocInt(gap + arrays.reduce((n, a) => n + (a?.length ?? 0) + gap, 0));
  buf.data.fill(-7777);
  let offset = gap;
  return arrays.map((a) => {
    const span = new Span(buf, offset, a?.length ?? 0);
    if (a) span.data.set(Array.from(a));
    offset += span.length + gap;
    return span;
  });
}

/** Asserts that every element of the spans' buffer outside all of `spans` still holds guardedSpans' -7777. */
export function expectGuardsIntact(spans: (FloatSpan | IntSpan)[], what = 'guards'): void {
  const buf = spans[0]!.buf;
  const covered = new Uint8Array(buf.length);
  for (const s of spans) if (s.buf === buf) covered.fill(1, s.offset, s.offset + s.length);
  const data = buf.data;
  for (let i = 0; i < data.length; i++) {
    if (!covered[i] && data[i] !== -7777)
      expect.fail(`${what}: element ${i} outside every span is ${data[i]}, expected the guard -7777`);
  }
}

export type ErrorClass = typeof TypeError | typeof RangeError | typeof Error;

/** Runs `fn` and asserts that it throws exactly this class with exactly this message. */
export function expectError(fn: () => unknown, type: ErrorClass, message: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${type.name}: ${message}`).toBeInstanceOf(type);
  expect((error as Error).constructor).toBe(type);
  expect((error as Error).message).toBe(message);
}

/** Central differences on every element of `data` (changed in place and restored) against the analytic
 *  gradient `grad` of `loss`; the worst relative error must stay below 1e-5 (float64 backends). */
export function checkGradient(
  data: Float64Array | Float32Array,
  grad: ArrayLike<number>,
  loss: () => number,
  what: string,
): void {
  const eps = 1e-6;
  let worst = 0;
  for (let i = 0; i < data.length; i++) {
    const saved = data[i]!;
    data[i] = saved + eps;
    const plus = loss();
    data[i] = saved - eps;
    const minus = loss();
    data[i] = saved;
    const numeric = (plus - minus) / (2 * eps);
    const error = Math.abs(numeric - grad[i]!) / Math.max(1e-3, Math.abs(numeric) + Math.abs(grad[i]!));
    worst = Math.max(worst, error);
  }
  expect(worst, `${what}: worst relative error`).toBeLessThan(1e-5);
}
