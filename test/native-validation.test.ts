// The native engine rejects bad arguments before touching memory. Through the backend, the messages are
// src/backend/checks.ts's (the kernel tables of test/kernels-*.test.ts check them on all backends); called
// directly (where JavaScript's type system does not help), the raw addon still refuses every argument
// that could make it touch memory out of bounds: wrong types, wrong lengths, overflowing sizes, ids out
// of range, overlapping outputs. The process must survive every case.
// If the addon cannot be loaded these tests FAIL, unless RNNKIT_EXPECT_NO_NATIVE=1 is set.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KERNEL_NAMES } from '../src/backend/checks.js';
import { type NativeAddon, type NativeBackend, loadNativeAddon, loadNativeBackend } from '../src/backend/native.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Backend, type FloatSpan, type KernelName, Span, ctcWorkspaceSize } from '../src/backend/types.js';
import { type ErrorClass, expectError, floatSpan, intSpan } from './helpers.js';

const expectNoNative = process.env['RNNKIT_EXPECT_NO_NATIVE'] === '1';
let addon: NativeAddon | undefined;
let backend: NativeBackend | undefined;
let loadError: unknown;
try {
  addon = loadNativeAddon();
  backend = loadNativeBackend();
} catch (error) {
  loadError = error;
}

const f32 = (n: number, fill = 0): Float32Array => new Float32Array(n).fill(fill);
const i32 = (values: number[]): Int32Array => Int32Array.from(values);
const any = (value: unknown): never => value as never;

it.skipIf(expectNoNative && !addon)('loads the native addon', () => {
  if (!addon || !backend) throw loadError;
  expect(typeof addon.gemm).toBe('function');
});

describe('loadNativeBackend', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rnnkit-native-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the reason when the addon file does not exist', () => {
    expectError(
      () => loadNativeBackend({ addonPath: '/nonexistent/rnnkit.node' }),
      Error,
      'rnnkit native addon not built: /nonexistent/rnnkit.node does not exist; run npm run build:native',
    );
  });

  it('names the reason when the file is not a loadable addon', () => {
    const file = path.join(dir, 'broken.node');
    writeFileSync(file, 'not a shared object');
    let error: unknown;
    try {
      loadNativeBackend({ addonPath: file });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(
      new RegExp(`^rnnkit native addon at ${file} failed to load: .+; run npm run build:native$`),
    );
  });

  it('validates the threads option', () => {
    expectError(
      () => loadNativeBackend({ threads: 0 }),
      RangeError,
      'loadNativeBackend: expected an integer >= 1 for threads but received 0',
    );
    expectError(
      () => loadNativeBackend({ threads: 1.5 }),
      RangeError,
      'loadNativeBackend: expected an integer >= 1 for threads but received 1.5',
    );
  });
});

describe.skipIf(!addon)('the raw addon rejects bad arguments', () => {
  const raw = addon!;
  // valid gemm arguments: C[2,2] = A[2,3]·B[3,2]
  const A = (): Float32Array => Float32Array.from([1, 2, 3, 4, 5, 6]);
  const B = (): Float32Array => Float32Array.from([7, 8, 9, 10, 11, 12]);

  it('rejects wrong types in place of typed arrays', () => {
    const cases: [unknown, string][] = [
      [new Float64Array(6), 'Float64Array'],
      [new Int32Array(6), 'Int32Array'],
      [new Uint8Array(24), 'Uint8Array'],
      [[1, 2, 3, 4, 5, 6], 'Array'],
      [6, 'number'],
      [null, 'null'],
      [undefined, 'undefined'],
      ['abc', 'string'],
      [new ArrayBuffer(24), 'ArrayBuffer'],
      [new DataView(new ArrayBuffer(24)), 'DataView'],
      [{ data: A(), length: 6 }, 'object'],
    ];
    for (const [value, name] of cases) {
      expectError(
        () => raw.gemm(false, false, 2, 2, 3, 1, any(value), B(), 0, f32(4)),
        TypeError,
        `gemm: expected a Float32Array for A but received ${name}`,
      );
    }
    expectError(
      () => raw.gatherRows(1, 2, any(new Float32Array(1)), f32(4), f32(2)),
      TypeError,
      'gatherRows: expected an Int32Array for ids but received Float32Array',
    );
    expectError(
      () => raw.softmaxCrossEntropy(1, 2, f32(2), any([0]), 1, null),
      TypeError,
      'softmaxCrossEntropy: expected an Int32Array for targets but received Array',
    );
    expectError(
      () => raw.softmaxCrossEntropy(1, 2, f32(2), i32([0]), 1, any(new Float64Array(2))),
      TypeError,
      'softmaxCrossEntropy: expected a Float32Array for dLogits but received Float64Array',
    );
    expectError(
      () => raw.sumSquares(any(new Float64Array(3))),
      TypeError,
      'sumSquares: expected a Float32Array for x but received Float64Array',
    );
    expectError(
      () => raw.clipValue(any(null), 1),
      TypeError,
      'clipValue: expected a Float32Array for x but received null',
    );
    expectError(
      () => raw.adagradUpdate(f32(3), f32(3), any(new Float64Array(3)), 0.1, 1e-10, 0),
      TypeError,
      'adagradUpdate: expected a Float32Array for sum but received Float64Array',
    );
  });

  it('rejects missing arguments', () => {
    const call = (name: keyof NativeAddon, ...args: unknown[]): unknown =>
      (raw[name] as (...a: unknown[]) => unknown)(...args);
    expectError(() => call('gemm'), RangeError, 'gemm: expected an integer >= 0 for M');
    expectError(
      () => call('gemm', false, false, 2, 2, 3, 1, A(), B(), 0),
      TypeError,
      'gemm: expected a Float32Array for C but received undefined',
    );
    expectError(() => call('cellForward'), TypeError, 'cellForward: unknown cell kind');
    expectError(
      () => call('cellBackward', 'gru', 1, 1, 1),
      TypeError,
      'cellBackward: expected a Float32Array for wHh but received undefined',
    );
    expectError(
      () => call('softmaxCrossEntropy', 1, 2, f32(2), i32([0])),
      TypeError,
      'softmaxCrossEntropy: expected a number for scale',
    );
    expectError(
      () => call('sumSquares'),
      TypeError,
      'sumSquares: expected a Float32Array for x but received undefined',
    );
    expectError(() => call('scale', f32(2)), TypeError, 'scale: expected a number for s');
    expectError(
      () => call('sgdUpdate', f32(2), f32(2), 0.1),
      TypeError,
      'sgdUpdate: expected a number for weightDecay',
    );
  });

  it('rejects bad sizes and numbers', () => {
    const sizes: [unknown, string][] = [
      [1.5, '1.5'],
      [-1, '-1'],
      [NaN, 'NaN'],
      [Infinity, 'Infinity'],
      ['2', '2'],
      [null, 'null'],
      [2 ** 31, '2147483648'],
      [{}, '[object Object]'],
      [10n, '10'],
    ];
    for (const [value, shown] of sizes) {
      expectError(
        () => raw.gemm(false, false, any(value), 2, 3, 1, A(), B(), 0, f32(4)),
        RangeError,
        'gemm: expected an integer >= 0 for M',
      );
    }
    expectError(
      () => raw.cellForward('lstm', 1, 1, 0, f32(0), f32(0), f32(0), f32(0), f32(2), f32(2), f32(0)),
      RangeError,
      'cellForward: expected an integer >= 1 for H',
    );
    expectError(
      () => raw.softmaxCrossEntropy(1, 0, f32(0), i32([0]), 1, null),
      RangeError,
      'softmaxCrossEntropy: expected an integer >= 1 for V',
    );
    expectError(
      () => raw.gatherColumns(1, 0, i32([0]), f32(2), f32(0)),
      RangeError,
      'gatherColumns: expected an integer >= 1 for R',
    );
    // Numbers only need to be numbers here: NaN or Infinity cannot touch memory (the backend's
    // checks.ts refuses them for users); a string in place of one is refused by type.
    expectError(
      () => raw.gemm(false, false, 2, 2, 3, 1, A(), B(), any('0'), f32(4)),
      TypeError,
      'gemm: expected a number for beta',
    );
    expectError(
      () => raw.adagradUpdate(f32(3), f32(3), f32(3), any(null), 1e-10, 0),
      TypeError,
      'adagradUpdate: expected a number for lr',
    );
    expectError(() => raw.dropout(f32(2), 1, 0, f32(2), f32(2)), RangeError, 'dropout: p is not in [0, 1)');
    expectError(() => raw.dropout(f32(2), NaN, 0, f32(2), f32(2)), RangeError, 'dropout: p is not in [0, 1)');
    expectError(
      () => raw.gemm(any(1), false, 2, 2, 3, 1, A(), B(), 0, f32(4)),
      TypeError,
      'gemm: expected a boolean for transA',
    );
    expectError(
      () => raw.gemm(false, any(undefined), 2, 2, 3, 1, A(), B(), 0, f32(4)),
      TypeError,
      'gemm: expected a boolean for transB',
    );
    expectError(
      () => raw.cellForward(any('lstmx'), 1, 1, 1, f32(4), f32(4), f32(4), f32(4), f32(2), f32(2), f32(4)),
      TypeError,
      'cellForward: unknown cell kind',
    );
    expectError(
      () =>
        raw.cellBackward(
          any(2),
          1,
          1,
          1,
          f32(4),
          f32(2),
          f32(2),
          f32(4),
          f32(1),
          f32(1),
          f32(1),
          f32(4),
          f32(4),
          f32(1),
          f32(1),
        ),
      TypeError,
      'cellBackward: unknown cell kind',
    );
  });

  it('rejects wrong lengths, including sizes whose product overflows 32 and 64 bits', () => {
    expectError(
      () => raw.gemm(false, false, 2, 2, 3, 1, f32(5), B(), 0, f32(4)),
      RangeError,
      'gemm: A has 5 elements, expected 6',
    );
    expectError(
      () => raw.gemm(true, true, 2, 2, 3, 1, A(), B(), 0, f32(5)),
      RangeError,
      'gemm: C has 5 elements, expected 4',
    );
    expectError(() => raw.addBias(2, 3, f32(2), f32(6)), RangeError, 'addBias: bias has 2 elements, expected 3');
    expectError(() => raw.sumRows(2, 3, f32(6), f32(2)), RangeError, 'sumRows: out has 2 elements, expected 3');
    expectError(
      () => raw.cellForward('gru', 2, 1, 2, f32(12), f32(10), f32(6), f32(6), f32(6), f32(0), f32(16)),
      RangeError,
      'cellForward: wHh has 10 elements, expected 12',
    );
    expectError(
      () => raw.cellForward('gru', 2, 1, 2, f32(12), f32(12), f32(6), f32(6), f32(6), f32(0), f32(12)),
      RangeError,
      'cellForward: cache has 12 elements, expected 16',
    );
    expectError(
      () => raw.cellForward('rnn_tanh', 2, 1, 2, f32(4), f32(4), f32(2), f32(2), f32(6), f32(6), f32(0)),
      RangeError,
      'cellForward: cs has 6 elements, expected 0',
    );
    // (every other argument one element short or long, on every kernel: the sweep below)
    expectError(
      () => raw.gatherRows(2, 3, i32([0]), f32(6), f32(6)),
      RangeError,
      'gatherRows: ids has 1 elements, expected 2',
    );
    expectError(
      () => raw.softmaxCrossEntropy(2, 3, f32(6), i32([0, 1]), 1, f32(5)),
      RangeError,
      'softmaxCrossEntropy: dLogits has 5 elements, expected 6',
    );
    expectError(
      () => raw.adagradUpdate(f32(4), f32(4), f32(3), 0.1, 1e-10, 0),
      RangeError,
      'adagradUpdate: sum has 3 elements, expected 4 like param',
    );
    expectError(
      () => raw.sgdUpdate(f32(4), f32(5), 0.1, 0),
      RangeError,
      'sgdUpdate: grad has 5 elements, expected 4 like param',
    );
    // 65536² = 2^32 wraps to 0 in 32-bit arithmetic
    expectError(
      () => raw.gemm(false, false, 65536, 0, 65536, 1, f32(0), f32(0), 0, f32(0)),
      RangeError,
      'gemm: A has 0 elements, expected 4294967296',
    );
    // 2^21·2^21·2^22 = 2^64 wraps to 0 in 64-bit arithmetic; the message prints JavaScript's number
    expectError(
      () =>
        raw.cellForward('rnn_tanh', 2 ** 21, 2 ** 21, 2 ** 22, f32(0), f32(0), f32(0), f32(0), f32(0), f32(0), f32(0)),
      RangeError,
      `cellForward: xProj has 0 elements, expected ${2 ** 21 * 2 ** 21 * 2 ** 22}`,
    );
    const big = 2 ** 31 - 1;
    expectError(
      () =>
        raw.cellBackward(
          'lstm',
          big,
          big,
          big,
          f32(16),
          f32(0),
          f32(0),
          f32(0),
          f32(0),
          f32(0),
          f32(0),
          f32(0),
          f32(0),
          f32(0),
          f32(0),
        ),
      RangeError,
      `cellBackward: wHh has 16 elements, expected ${4 * big * big}`,
    );
    expectError(
      () => raw.scatterAddColumns(big, big, i32([1]), f32(1), f32(1)),
      RangeError,
      `scatterAddColumns: ids has 1 elements, expected ${big}`,
    );
    expectError(
      () => raw.softmaxCrossEntropy(big, big, f32(1), i32([0]), 1, null),
      RangeError,
      `softmaxCrossEntropy: logits has 1 elements, expected ${big * big}`,
    );
  });

  it('rejects tables that are not whole rows or columns, and ids out of range', () => {
    expectError(
      () => raw.gatherRows(1, 3, i32([0]), f32(8), f32(3)),
      RangeError,
      'gatherRows: table is not a whole number of rows',
    );
    expectError(
      () => raw.scatterAddColumns(1, 2, i32([0]), f32(2), f32(0)),
      RangeError,
      'scatterAddColumns: dW is not a whole number of rows',
    );
    expectError(
      () => raw.gatherRows(3, 2, i32([0, 1, 9]), f32(8), f32(6)),
      RangeError,
      'gatherRows: id at position 2 out of range',
    );
    expectError(
      () => raw.gatherRows(3, 2, i32([-1, 1, 2]), f32(8), f32(6)),
      RangeError,
      'gatherRows: id at position 0 out of range',
    );
    expectError(
      () => raw.gatherColumns(2, 2, i32([2, 3]), f32(6), f32(4)),
      RangeError,
      'gatherColumns: id at position 1 out of range',
    );
    expectError(
      () => raw.softmaxCrossEntropy(2, 5, f32(10), i32([-1, 5]), 1, null),
      RangeError,
      'softmaxCrossEntropy: id at position 1 out of range',
    );
    expectError(
      () => raw.softmaxCrossEntropy(2, 5, f32(10), i32([-2, 0]), 1, null),
      RangeError,
      'softmaxCrossEntropy: id at position 0 out of range',
    );
    expectError(
      () => raw.softmaxCrossEntropy(1, 5, f32(5), i32([2 ** 31 - 1]), 1, null),
      RangeError,
      'softmaxCrossEntropy: id at position 0 out of range',
    );
  });

  it('rejects outputs that overlap an input or another output, by memory address', () => {
    const buffer = new Float32Array(32);
    // two subarrays of one ArrayBuffer that overlap
    expectError(
      () => raw.gemm(false, false, 2, 2, 3, 1, buffer.subarray(0, 6), B(), 0, buffer.subarray(4, 8)),
      RangeError,
      'gemm: output C overlaps A',
    );
    // two independent views of one ArrayBuffer that overlap by one element
    const ab = new ArrayBuffer(64);
    expectError(
      () => raw.gemm(false, false, 2, 2, 3, 1, A(), new Float32Array(ab, 0, 6), 0, new Float32Array(ab, 20, 4)),
      RangeError,
      'gemm: output C overlaps B',
    );
    const same = f32(4);
    expectError(() => raw.addBias(2, 2, same.subarray(0, 2), same), RangeError, 'addBias: output C overlaps bias');
    expectError(() => raw.sumRows(1, 4, same, same), RangeError, 'sumRows: output out overlaps A');
    // two outputs that overlap each other
    expectError(
      () =>
        raw.cellForward(
          'lstm',
          1,
          1,
          1,
          f32(4),
          f32(4),
          f32(4),
          f32(4),
          buffer.subarray(0, 2),
          f32(2),
          buffer.subarray(1, 5),
        ),
      RangeError,
      'cellForward: output hs overlaps cache',
    );
    expectError(
      () =>
        raw.cellBackward(
          'gru',
          1,
          1,
          1,
          f32(3),
          f32(2),
          f32(0),
          f32(4),
          f32(1),
          f32(1),
          f32(0),
          buffer.subarray(0, 3),
          buffer.subarray(2, 5),
          f32(1),
          f32(0),
        ),
      RangeError,
      'cellBackward: output dGx overlaps dGh',
    );
    expectError(
      () =>
        raw.cellBackward(
          'lstm',
          1,
          1,
          1,
          f32(4),
          f32(2),
          f32(2),
          f32(4),
          f32(1),
          same.subarray(3, 4),
          f32(1),
          f32(4),
          f32(4),
          same.subarray(3, 4),
          f32(1),
        ),
      RangeError,
      'cellBackward: output dh0 overlaps dhN',
    );
    expectError(
      () => raw.adagradUpdate(buffer.subarray(0, 4), f32(4), buffer.subarray(3, 7), 0.1, 1e-10, 0),
      RangeError,
      'adagradUpdate: output param overlaps sum',
    );
    expectError(() => raw.sgdUpdate(same, same, 0.1, 0), RangeError, 'sgdUpdate: output param overlaps grad');
    expectError(
      () => raw.softmaxCrossEntropy(1, 2, same.subarray(0, 2), i32([0]), 1, same.subarray(1, 3)),
      RangeError,
      'softmaxCrossEntropy: output dLogits overlaps logits',
    );
    // xIds over the bytes of an output; a Float32Array for xIds
    expectError(
      () =>
        raw.cellForward(
          'lstm',
          1,
          2,
          1,
          f32(12),
          f32(4),
          f32(4),
          f32(4),
          new Float32Array(ab, 0, 4),
          f32(4),
          f32(8),
          new Int32Array(ab, 8, 2),
        ),
      RangeError,
      'cellForward: output hs overlaps xIds',
    );
    expectError(
      () => raw.cellForward('lstm', 1, 2, 1, f32(12), f32(4), f32(4), f32(4), f32(4), f32(4), f32(8), any(f32(2))),
      TypeError,
      'cellForward: expected an Int32Array for xIds but received Float32Array',
    );
    // ids share memory with the output: a float view over the ids' bytes
    const ids = i32([0, 1]);
    expectError(
      () => raw.gatherRows(2, 1, ids, f32(2), new Float32Array(ids.buffer)),
      RangeError,
      'gatherRows: output out overlaps ids',
    );
    expectError(
      () => raw.scatterAddRows(2, 1, ids, f32(2), new Float32Array(ids.buffer)),
      RangeError,
      'scatterAddRows: output dTable overlaps ids',
    );
  });

  it('accepts adjacent, non-overlapping views of one ArrayBuffer and empty views anywhere', () => {
    const buffer = new Float32Array(16);
    buffer.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    buffer.fill(NaN, 12, 16);
    raw.gemm(false, false, 2, 2, 3, 1, buffer.subarray(0, 6), buffer.subarray(6, 12), 0, buffer.subarray(12, 16));
    expect(Array.from(buffer.subarray(12))).toEqual([58, 64, 139, 154]);
    // an empty cs inside hs is not an overlap
    const hs = f32(3);
    raw.cellForward('rnn_tanh', 2, 1, 1, f32(2, 0.5), f32(1), f32(1), f32(1), hs, hs.subarray(1, 1), f32(0));
    expect(hs[1]).toBeCloseTo(Math.tanh(0.5), 6);
  });

  it('treats views of a detached ArrayBuffer as empty', () => {
    const detached = A();
    structuredClone(detached.buffer, { transfer: [detached.buffer as ArrayBuffer] });
    expect(detached.length).toBe(0);
    expectError(
      () => raw.gemm(false, false, 2, 2, 3, 1, detached, B(), 0, f32(4)),
      RangeError,
      'gemm: A has 0 elements, expected 6',
    );
    expect(raw.sumSquares(detached)).toBe(0);
  });

  it('touches no memory when it rejects a call', () => {
    const C = f32(4, 5);
    expectError(
      () => raw.gemm(false, false, 2, 2, 3, 1, A(), f32(5), 0, C),
      RangeError,
      'gemm: B has 5 elements, expected 6',
    );
    expect(Array.from(C)).toEqual([5, 5, 5, 5]);
    // the first ids are valid, the last is not: nothing is added
    const dTable = f32(4, 1);
    expectError(
      () => raw.scatterAddRows(3, 1, i32([0, 1, 4]), f32(3, 2), dTable),
      RangeError,
      'scatterAddRows: id at position 2 out of range',
    );
    expect(Array.from(dTable)).toEqual([1, 1, 1, 1]);
    const hs = f32(3, 7);
    expectError(
      () => raw.cellForward('rnn_tanh', 2, 1, 1, f32(2), f32(1), f32(1), f32(1), hs, f32(0), f32(1)),
      RangeError,
      'cellForward: cache has 1 elements, expected 0',
    );
    expect(Array.from(hs)).toEqual([7, 7, 7]);
  });

  /** The decoder kernels' shared arguments after the kind: the sizes, one LSTM layer, memory and record. */
  const decoderHead = (): (number | Float32Array | Int32Array)[] => [
    ...[1, 1, 1, 1, 1, 1, 1], // T, B, S, E, H, M, L
    ...[8, 4, 4, 4, 2, 2, 4].map((n) => f32(n)),
    f32(1),
    f32(1),
    i32([1]),
    ...[2, 2, 1, 2, 2].map((n) => f32(n)),
  ];

  // One valid call of every kernel (T = 2, B = 2, H = 2 cells; C = 3 symbols, S = 2 labels for ctcLoss).
  const T = 2,
    Bs = 2,
    H = 2;
  const valid: { [K in KernelName]: () => Parameters<NativeAddon[K]> } = {
    gemm: () => [false, false, 2, 2, 3, 1, A(), B(), 0, f32(4)],
    addBias: () => [2, 3, f32(3), f32(6)],
    sumRows: () => [2, 3, f32(6), f32(3)],
    gatherRows: () => [2, 3, i32([0, 1]), f32(6), f32(6)],
    scatterAddRows: () => [2, 3, i32([0, 1]), f32(6), f32(6)],
    gatherColumns: () => [2, 3, i32([0, 1]), f32(6), f32(6)],
    scatterAddColumns: () => [2, 3, i32([0, 1]), f32(6), f32(6)],
    cellForward: () => [
      'lstm',
      T,
      Bs,
      H,
      f32(32),
      f32(16),
      f32(8),
      f32(8),
      f32(12),
      f32(12),
      f32(32),
      null,
      i32([2, 1]),
    ],
    cellBackward: () => [
      'lstm',
      T,
      Bs,
      H,
      f32(16),
      f32(12),
      f32(12),
      f32(32),
      f32(8),
      f32(4),
      f32(4),
      f32(32),
      f32(32),
      f32(4),
      f32(4),
      f32(8),
      f32(8),
      i32([2, 1]),
      f32(8),
    ],
    poolForward: () => ['max', T, Bs, 3, f32(12), i32([2, 1]), f32(6), i32([0, 0, 0, 0, 0, 0])],
    poolBackward: () => ['max', T, Bs, 3, f32(6), i32([2, 1]), i32([1, 0, 1, 0, 0, 0]), f32(12)],
    softmaxCrossEntropy: () => [2, 3, f32(6), i32([2, -1]), 1, f32(6)],
    ctcLoss: () => [
      T,
      Bs,
      3,
      2,
      f32(12),
      i32([1, 2, 2, 0]),
      i32([2, 1]),
      i32([1, 1]),
      false,
      f32(ctcWorkspaceSize(T, Bs, 2)),
      f32(2),
      f32(12),
    ],
    clipValue: () => [f32(3), 1],
    sumSquares: () => [f32(3)],
    scale: () => [f32(3), 2],
    dropout: () => [f32(3), 0.5, 7, f32(3), f32(3)],
    multiply: () => [f32(3), f32(3), f32(3)],
    adagradUpdate: () => [f32(3), f32(3), f32(3), 0.1, 1e-10, 0],
    sgdUpdate: () => [f32(3), f32(3), 0.1, 0],
    momentumUpdate: () => [f32(3), f32(3), f32(3), 0.1, 0.9, 0, false, 0, true],
    rmspropUpdate: () => [f32(3), f32(3), f32(3), 0.1, 0.99, 1e-8, 0],
    adamUpdate: () => [f32(3), f32(3), f32(3), f32(3), 0.1, 0.9, 0.999, 1e-8, 0, false, 1],
    // An LSTM decoder with T = B = S = E = H = M = L = 1, its arrays flat as native.ts passes them: the
    // layer (wIh, wHh, bIh, bHh, hs, cs, cache), then keys, memory, sourceLengths, wCombine, input0,
    // attention, combined, feeds.
    decoderForward: () => ['lstm', ...decoderHead(), f32(1)],
    decoderBackward: () => [
      'lstm',
      ...decoderHead(),
      f32(1), // dFeeds
      ...[1, 1, 4, 4, 1, 1, 4, 4].map((n) => f32(n)), // dhN, dcN, dGx, dGh, dh0, dc0, dbIh, dbHh
      ...[1, 1, 1, 1, 1].map((n) => f32(n)), // dEmbedded, dKeys, dMemory, dCombine, dFeed0
    ],
    topK: () => [2, 3, 2, f32(6), f32(4), i32([0, 0, 0, 0])],
    logSoftmax: () => [2, 3, f32(6), f32(6)],
  };
  /** The Int32Array arguments whose values index memory (ids, lengths, labels, argmax read back). */
  const indexArgs: Partial<Record<KernelName, number[]>> = {
    gatherRows: [2],
    scatterAddRows: [2],
    gatherColumns: [2],
    scatterAddColumns: [2],
    cellForward: [12],
    cellBackward: [17],
    poolForward: [5],
    poolBackward: [5, 6],
    softmaxCrossEntropy: [3],
    ctcLoss: [5, 6, 7],
    decoderForward: [17],
    decoderBackward: [17],
  };
  /** The arguments that may be null (optional outputs and inputs). */
  const nullable: Partial<Record<KernelName, number[]>> = {
    cellForward: [11, 12],
    cellBackward: [15, 16, 17, 18],
    softmaxCrossEntropy: [5],
    ctcLoss: [11],
  };
  const callRaw = (name: KernelName, args: unknown[]): unknown => (raw[name] as (...a: unknown[]) => unknown)(...args);
  const expectThrow = (name: KernelName, args: unknown[], what: string): void => {
    let error: unknown;
    try {
      callRaw(name, args);
    } catch (e) {
      error = e;
    }
    expect(error, `${name} with ${what}`).toBeInstanceOf(Error);
    expect((error as Error).message, `${name} with ${what}`).toMatch(new RegExp(`^${name}: `));
  };

  it('refuses, for every kernel, each typed array of the wrong type or length and each index out of range', () => {
    expect(Object.keys(valid).sort()).toEqual([...KERNEL_NAMES].sort());
    let refused = 0;
    for (const name of KERNEL_NAMES) {
      callRaw(name, valid[name]()); // the valid call runs, so each refusal below is the one changed argument
      valid[name]().forEach((arg, i) => {
        if (!(arg instanceof Float32Array || arg instanceof Int32Array)) return;
        const replace = (value: unknown): unknown[] => valid[name]().map((a, j) => (j === i ? value : a));
        const other = arg instanceof Float32Array ? new Int32Array(arg.length) : new Float32Array(arg.length);
        for (const [what, value] of [
          ['another typed array type', other],
          ['a Float64Array', new Float64Array(arg.length)],
          ['an Array', Array.from(arg)],
          ['null', nullable[name]?.includes(i) ? new Uint8Array(arg.length) : null],
        ] as const) {
          expectThrow(name, replace(value), `argument ${i} as ${what}`);
          refused++;
        }
        // A lone array of any length is valid (clipValue, sumSquares, scale): nothing to compare it with.
        if (!['clipValue', 'sumSquares', 'scale'].includes(name)) {
          const Ctor = arg.constructor as Float32ArrayConstructor | Int32ArrayConstructor;
          expectThrow(name, replace(new Ctor(arg.length + 1)), `argument ${i} one element longer`);
          if (arg.length > 0) expectThrow(name, replace(arg.subarray(1)), `argument ${i} one element shorter`);
          refused += arg.length > 0 ? 2 : 1;
        }
        if (indexArgs[name]?.includes(i)) {
          for (const bad of [2 ** 31 - 1, -(2 ** 31)]) {
            expectThrow(name, replace(new Int32Array(arg.length).fill(bad)), `argument ${i} filled with ${bad}`);
            refused++;
          }
        }
      });
    }
    expect(refused).toBeGreaterThan(300);
  });

  it('still works after all those rejections', () => {
    const C = f32(4, NaN);
    raw.gemm(false, true, 2, 2, 3, 1, A(), Float32Array.from([7, 9, 11, 8, 10, 12]), 0, C);
    expect(Array.from(C)).toEqual([58, 64, 139, 154]);
  });
});

// The native backend's messages for each kernel's bad arguments are checked against the reference's by the
// tables of the cross-backend suite (test/kernels-*.test.ts); here only what a typed array cannot be.
describe.skipIf(!backend)('the native backend rejects what is not a span of its own', () => {
  const native = backend!;
  const fs = (b: Backend, n: number, fill = 0): FloatSpan => floatSpan(b, new Array<number>(n).fill(fill));

  it('rejects spans of the wrong dtype and values that are not spans', () => {
    const f64 = new ReferenceBackend({ dtype: 'f64' });
    const a = fs(native, 6),
      b = fs(native, 6),
      c = fs(native, 4);
    expectError(
      () => native.gemm(false, false, 2, 2, 3, 1, fs(f64, 6), b, 0, c),
      TypeError,
      'gemm: expected a Float32Array for A but received Float64Array',
    );
    expectError(
      () => native.gemm(false, false, 2, 2, 3, 1, a, any([1, 2, 3, 4, 5, 6]), 0, c),
      TypeError,
      'gemm: B is not a Span (make spans with Span.of, new Span or sub)',
    );
    expectError(
      () => native.gemm(false, false, 2, 2, 3, 1, a, b, 0, any(null)),
      TypeError,
      'gemm: C is not a Span (make spans with Span.of, new Span or sub)',
    );
    expectError(
      () => native.gemm(false, false, 2, 2, 3, 1, a, b, 0, any(undefined)),
      TypeError,
      'gemm: C is not a Span (make spans with Span.of, new Span or sub)',
    );
    expectError(
      () => native.gemm(false, false, 2, 2, 3, 1, any(3), b, 0, c),
      TypeError,
      'gemm: A is not a Span (make spans with Span.of, new Span or sub)',
    );
    expectError(
      () => native.gatherRows(1, 2, any(fs(native, 1)), fs(native, 4), fs(native, 2)),
      TypeError,
      'gatherRows: expected an Int32Array for ids but received Float32Array',
    );
    expectError(
      () => native.sumSquares(any(intSpan(native, [1, 2]))),
      TypeError,
      'sumSquares: expected a Float32Array for x but received Int32Array',
    );
  });

  it('still works after all those rejections', () => {
    const C = fs(native, 4, NaN);
    native.gemm(
      false,
      false,
      2,
      2,
      3,
      1,
      floatSpan(native, [1, 2, 3, 4, 5, 6]),
      floatSpan(native, [7, 8, 9, 10, 11, 12]),
      0,
      C,
    );
    expect(Array.from(C.data)).toEqual([58, 64, 139, 154]);
  });
});
