// The cross-backend kernel suite, in the manner of ggml's test-backend-ops: a test file per operation
// (test/kernels-<op>.test.ts) describes its cases once; compareWithReference runs each case on the float64
// reference backend and on every other backend configuration this machine has — wasm (the plain SIMD build
// and the relaxed-SIMD one) and native at every SIMD level × 1, 2 and 3 threads — and compares every output.
// Never a backend with itself: the expected values always come from the float64 reference.
// All spans of a case are made through the case's context (floats/ints): they sit between guards, and the
// guards are checked after the case ran. badArgumentSuite runs an operation's table of bad calls on every
// backend (the reference included): each must throw exactly the given class and message.
// If the native addon cannot be loaded the suite FAILS, unless RNNKIT_EXPECT_NO_NATIVE=1 says this machine
// is not expected to have it. KERNEL_SUITE_COUNT=<file> appends the number of checks each file ran.
import { appendFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { afterAll, expect, it } from 'vitest';
import { loadNativeBackend } from '../src/backend/native.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend, FloatSpan, IntSpan } from '../src/backend/types.js';
import { loadWasmBackend, wasmRelaxedSimdSupported } from '../src/backend/wasm.js';
import { tryLoadNativeAddon } from './backends.js';
import {
  type ErrorClass,
  expectClose,
  expectError,
  expectGuardsIntact,
  guardedIntSpans,
  guardedSpans,
} from './helpers.js';

// Node 20 has relaxed SIMD behind a V8 flag: turn it on in this test process (a fork of its own) so that the
// relaxed build is tested wherever V8 can run it at all.
if (!wasmRelaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');

const expectNoNative = process.env['RNNKIT_EXPECT_NO_NATIVE'] === '1';
const native = tryLoadNativeAddon();
/** The native SIMD levels this CPU runs, slowest first (empty without the addon). */
export const NATIVE_LEVELS = native.levels;
export const NATIVE_THREADS = [1, 2, 3] as const;

/** One backend configuration under test. */
export interface Target {
  /** e.g. 'wasm relaxed', 'native avx2/3'. */
  name: string;
  /** Native results of one level must be bit-identical across thread counts; other targets are alone in theirs. */
  level: string;
  /** The native thread count (1 for wasm). */
  threads: number;
  backend: Backend;
}

let targetsPromise: Promise<Target[]> | undefined;
/** wasm (both builds where V8 runs relaxed SIMD) and native at every level × thread count, created once. */
export function kernelTargets(): Promise<Target[]> {
  targetsPromise ??= (async () => {
    const list: Target[] = [
      { name: 'wasm', level: 'wasm', threads: 1, backend: await loadWasmBackend({ build: 'simd' }) },
    ];
    if (wasmRelaxedSimdSupported())
      list.push({
        name: 'wasm relaxed',
        level: 'wasm relaxed',
        threads: 1,
        backend: await loadWasmBackend({ build: 'relaxed' }),
      });
    for (const simd of NATIVE_LEVELS) {
      for (const threads of NATIVE_THREADS)
        list.push({
          name: `native ${simd}/${threads}`,
          level: simd,
          threads,
          backend: loadNativeBackend({ simd, threads }),
        });
    }
    return list;
  })();
  return targetsPromise;
}

/** The oracle: plain TypeScript loops in float64. */
export const reference64 = new ReferenceBackend({ dtype: 'f64' });

/** Every backend a bad-argument table runs on: the reference (f32, as the library uses it), wasm and native. */
export async function everyBackend(): Promise<{ name: string; backend: Backend }[]> {
  const list = [
    { name: 'reference', backend: new ReferenceBackend() as Backend },
    { name: 'wasm', backend: await loadWasmBackend() },
  ];
  if (native.addon) list.push({ name: 'native', backend: loadNativeBackend({ threads: 2 }) });
  return list;
}

/** The test that fails when the native addon does not load (and the machine is expected to have it). */
export function expectNativeLoads(): void {
  it.skipIf(expectNoNative && !native.addon)('the native addon loads (its engines are under test here)', () => {
    if (!native.addon) throw native.loadError;
    expect(NATIVE_LEVELS[0]).toBe('scalar');
  });
}

/** How a case makes its spans: every value rounded to float32 (so that every backend sees the same
 *  inputs), all spans of one call in one buffer between guards. */
export interface CaseContext {
  backend: Backend;
  floats(...arrays: (ArrayLike<number> | null)[]): FloatSpan[];
  ints(...arrays: (ArrayLike<number> | null)[]): IntSpan[];
}

/** A context for `backend` (also for a property test that calls a case's run directly), the check of the
 *  guards around every span it made, and those spans. */
export function caseContext(backend: Backend): {
  context: CaseContext;
  checkGuards: (what: string) => void;
  spans: () => (FloatSpan | IntSpan)[];
} {
  const groups: (FloatSpan | IntSpan)[][] = [];
  const context: CaseContext = {
    backend,
    floats: (...arrays) => {
      const spans = guardedSpans(backend, ...arrays.map((a) => (a ? Array.from(a, Math.fround) : null)));
      groups.push(spans);
      return spans;
    },
    ints: (...arrays) => {
      const spans = guardedIntSpans(backend, ...arrays);
      groups.push(spans);
      return spans;
    },
  };
  return {
    context,
    checkGuards: (what) => groups.forEach((spans) => expectGuardsIntact(spans, what)),
    spans: () => groups.flat(),
  };
}

/** A case's results by name: spans (read after the run) or numbers. */
export type Outputs = Record<string, FloatSpan | IntSpan | number | ArrayLike<number>>;
/** |got − expected| <= abs + rel·|expected|; [0, 0] demands equality. */
export type Tolerance = readonly [abs: number, rel: number];

export interface CompareOptions {
  /** A tolerance per output name (default: `tolerance`). */
  per?: Record<string, Tolerance>;
  /** Native results must be the same bits on 1, 2 and 3 threads at each level (default true). */
  sameBitsAcrossThreads?: boolean;
  /** Called with the reference's results before the targets run (checks of the spec itself). */
  expected?: (results: Record<string, Float64Array>) => void;
}

let checks = 0;
afterAll(() => {
  const file = process.env['KERNEL_SUITE_COUNT'];
  if (file && checks > 0) appendFileSync(file, `${expect.getState().testPath ?? '?'}\t${checks}\n`);
});

function collect(outputs: Outputs): Record<string, Float64Array> {
  const result: Record<string, Float64Array> = {};
  for (const [key, value] of Object.entries(outputs)) {
    result[key] =
      typeof value === 'number' ? Float64Array.of(value) : Float64Array.from('buf' in value ? value.data : value);
  }
  return result;
}

/** Fails naming the first element whose bits differ (+0 and −0 differ; NaN equals NaN). */
function expectSameBits(got: Record<string, Float64Array>, first: Record<string, Float64Array>, what: string): void {
  for (const [key, values] of Object.entries(first)) {
    const other = got[key]!;
    if (Buffer.from(other.buffer).equals(Buffer.from(values.buffer))) continue;
    const i = values.findIndex((v, k) => !Object.is(v, other[k]));
    expect.fail(
      `${what}: ${key}[${i}] is ${Object.is(other[i], -0) ? '-0' : other[i]}, expected ${Object.is(values[i], -0) ? '-0' : values[i]}`,
    );
  }
}

/**
 * Runs `run` on the float64 reference and on every target, each with fresh spans from its own context,
 * and compares every output of each target with the reference's within `tolerance`. The guards around
 * every span must be intact after the run. Each target counts as one cross-backend check.
 */
export async function compareWithReference(
  run: (c: CaseContext) => Outputs,
  tolerance: Tolerance,
  options: CompareOptions = {},
): Promise<void> {
  const expected = runChecked(reference64, run, 'reference');
  options.expected?.(expected);
  const firstOfLevel = new Map<string, Record<string, Float64Array>>();
  for (const target of await kernelTargets()) {
    const got = runChecked(target.backend, run, target.name);
    for (const key of Object.keys(expected)) {
      const [abs, rel] = options.per?.[key] ?? tolerance;
      expectClose(got[key]!, expected[key]!, abs, rel, `${target.name}: ${key}`);
    }
    checks++;
    if (options.sameBitsAcrossThreads === false) continue;
    const first = firstOfLevel.get(target.level);
    if (!first) firstOfLevel.set(target.level, got);
    else expectSameBits(got, first, `${target.name}: the same bits as on ${NATIVE_THREADS[0]} thread`);
  }
}

/** The float64 reference's results of `run` (e.g. the forward state a backward case starts from). */
export function referenceResults(run: (c: CaseContext) => Outputs): Record<string, Float64Array> {
  return runChecked(reference64, run, 'reference');
}

function runChecked(backend: Backend, run: (c: CaseContext) => Outputs, name: string): Record<string, Float64Array> {
  const { context, checkGuards } = caseContext(backend);
  const results = collect(run(context));
  checkGuards(`${name}: guards`);
  return results;
}

/** One bad call: what it is, the call (its spans made through the context), the error class and message. */
export type BadArgument = [what: string, call: (c: CaseContext) => () => unknown, type: ErrorClass, message: string];

/** One test per operation table: on every backend, every call throws exactly its class and message and
 *  leaves every span it was given (and the guards around them) as they were. */
export function badArgumentSuite(title: string, table: BadArgument[]): void {
  it(`${title}: every backend rejects each bad call with the same error and writes nothing`, async () => {
    for (const { name, backend } of await everyBackend()) {
      for (const [what, call, type, message] of table) {
        const { context, spans, checkGuards } = caseContext(backend);
        const run = call(context);
        const before = spans().map((s) => Array.from(s.data));
        expect(() => expectError(run, type, message), `${name}: ${what}`).not.toThrow();
        const given = spans().slice(0, before.length); // (spans made inside the call are not inputs)
        expect(
          given.map((s) => Array.from(s.data)),
          `${name}: ${what}: nothing written`,
        ).toEqual(before);
        checkGuards(`${name}: ${what}: guards`);
      }
    }
  });
}
