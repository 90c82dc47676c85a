// Argument validation, in one place for all three backends: every kernel of every backend (reference, wasm,
// and native's TypeScript wrapper) first calls its check here with the Backend's arguments, so the errors a
// user sees are the same everywhere. Messages name the kernel and the argument. The native addon checks
// again in C++ only what protects memory (types, lengths, ids, aliasing, size overflow) for direct callers.
import {
  type Backend,
  type CellKind,
  CELL_KINDS,
  type DecoderGrads,
  type DecoderLayer,
  type DecoderLayerGrads,
  type DecoderMemory,
  type DecoderRecord,
  type DecoderShape,
  type FloatSpan,
  type IntSpan,
  POOL_MODES,
  type PoolMode,
  Span,
  cacheWidth,
  ctcWorkspaceSize,
  type KernelName,
  gatesOf,
} from './types.js';

export const MAX_ELEMENTS = 2 ** 31 - 1;

export function checkSize(kernel: string, name: string, value: number, min = 0): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > MAX_ELEMENTS) {
    throw new RangeError(`${kernel}: expected an integer >= ${min} for ${name} but received ${String(value)}`);
  }
}

export function checkNumber(kernel: string, name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${kernel}: expected a finite number for ${name} but received ${String(value)}`);
  }
}

/** A real Span (frozen, its range checked when made), not an object shaped like one. */
export function checkIsSpan(kernel: string, name: string, span: unknown): asserts span is FloatSpan | IntSpan {
  if (!Span.isSpan(span))
    throw new TypeError(`${kernel}: ${name} is not a Span (make spans with Span.of, new Span or sub)`);
}

export function checkSpan(kernel: string, name: string, span: Span<never> | FloatSpan | IntSpan, length: number): void {
  checkIsSpan(kernel, name, span);
  if (span.length !== length) {
    throw new RangeError(`${kernel}: ${name} has ${span.length} elements, expected ${length}`);
  }
}

export function checkCell(kernel: string, kind: CellKind): void {
  if (!(CELL_KINDS as readonly string[]).includes(kind)) {
    throw new TypeError(`${kernel}: unknown cell kind ${String(kind)} (expected one of ${CELL_KINDS.join(', ')})`);
  }
}

function overlaps(a: FloatSpan | IntSpan, b: FloatSpan | IntSpan): boolean {
  return (
    a.buf === b.buf && a.length > 0 && b.length > 0 && a.offset < b.offset + b.length && b.offset < a.offset + a.length
  );
}

/** Outputs must not overlap each other nor any input. */
export function checkNoAlias(
  kernel: string,
  outputs: Record<string, FloatSpan | IntSpan>,
  inputs: Record<string, FloatSpan | IntSpan>,
): void {
  const outs = Object.entries(outputs);
  for (let i = 0; i < outs.length; i++) {
    const [name, out] = outs[i]!;
    for (const [otherName, other] of [...outs.slice(i + 1), ...Object.entries(inputs)]) {
      if (overlaps(out, other)) throw new RangeError(`${kernel}: output ${name} overlaps ${otherName}`);
    }
  }
}

export function checkIds(kernel: string, ids: IntSpan, n: number, limit: number, allowMinusOne = false): void {
  const data = ids.data;
  const low = allowMinusOne ? -1 : 0;
  for (let i = 0; i < n; i++) {
    const id = data[i]!;
    if (id < low || id >= limit) {
      throw new RangeError(`${kernel}: id ${id} at position ${i} is outside [${low}, ${limit})`);
    }
  }
}

/** A non-empty table of whole `width`-element rows (or columns); returns how many (the id limit). */
function tableLimit(kernel: string, label: string, table: FloatSpan, width: number, unit: 'rows' | 'columns'): number {
  if (table.length % width !== 0 || table.length === 0) {
    throw new RangeError(
      `${kernel}: ${label} of ${table.length} elements is not a whole number of ${width}-element ${unit}`,
    );
  }
  return table.length / width;
}

export function checkGemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  alpha: number,
  A: FloatSpan,
  B: FloatSpan,
  beta: number,
  C: FloatSpan,
): void {
  checkSize('gemm', 'M', M);
  checkSize('gemm', 'N', N);
  checkSize('gemm', 'K', K);
  checkNumber('gemm', 'alpha', alpha);
  checkNumber('gemm', 'beta', beta);
  if (typeof transA !== 'boolean' || typeof transB !== 'boolean')
    throw new TypeError('gemm: transA and transB must be booleans');
  checkSpan('gemm', 'A', A, M * K);
  checkSpan('gemm', 'B', B, K * N);
  checkSpan('gemm', 'C', C, M * N);
  checkNoAlias('gemm', { C }, { A, B });
}

/** Per-stream lengths [B], each in [min, T]. */
export function checkLengths(kernel: string, lengths: IntSpan, T: number, B: number, min: number): void {
  checkSpan(kernel, 'lengths', lengths, B);
  const data = lengths.data;
  for (let b = 0; b < B; b++) {
    const length = data[b]!;
    if (length < min || length > T)
      throw new RangeError(`${kernel}: length ${length} of stream ${b} is outside [${min}, ${T}]`);
  }
}

export function checkCellForward(
  kind: CellKind,
  T: number,
  B: number,
  H: number,
  xProj: FloatSpan,
  wHh: FloatSpan,
  bIh: FloatSpan,
  bHh: FloatSpan,
  hs: FloatSpan,
  cs: FloatSpan,
  cache: FloatSpan,
  xIds: IntSpan | null = null,
  lengths: IntSpan | null = null,
): void {
  const k = 'cellForward';
  checkCell(k, kind);
  checkSize(k, 'T', T, 1);
  checkSize(k, 'B', B, 1);
  checkSize(k, 'H', H, 1);
  const GH = gatesOf(kind) * H;
  if (xIds) {
    checkSpan(k, 'xIds', xIds, T * B);
    checkIds(k, xIds, T * B, tableLimit(k, 'table xProj', xProj, GH, 'rows'));
  } else {
    checkSpan(k, 'xProj', xProj, T * B * GH);
  }
  checkSpan(k, 'wHh', wHh, GH * H);
  checkSpan(k, 'bIh', bIh, GH);
  checkSpan(k, 'bHh', bHh, GH);
  checkSpan(k, 'hs', hs, (T + 1) * B * H);
  checkSpan(k, 'cs', cs, kind === 'lstm' ? (T + 1) * B * H : 0);
  checkSpan(k, 'cache', cache, T * B * cacheWidth(kind) * H);
  if (lengths) checkLengths(k, lengths, T, B, 0);
  checkNoAlias(
    k,
    { hs, cs, cache },
    { xProj, wHh, bIh, bHh, ...(xIds ? { xIds } : {}), ...(lengths ? { lengths } : {}) },
  );
}

export function checkCellBackward(
  kind: CellKind,
  T: number,
  B: number,
  H: number,
  wHh: FloatSpan,
  hs: FloatSpan,
  cs: FloatSpan,
  cache: FloatSpan,
  dhs: FloatSpan,
  dhN: FloatSpan,
  dcN: FloatSpan,
  dGx: FloatSpan,
  dGh: FloatSpan,
  dh0: FloatSpan,
  dc0: FloatSpan,
  dbIh: FloatSpan | null = null,
  dbHh: FloatSpan | null = null,
  lengths: IntSpan | null = null,
  dhSteps: FloatSpan | null = null,
): void {
  const k = 'cellBackward';
  checkCell(k, kind);
  checkSize(k, 'T', T, 1);
  checkSize(k, 'B', B, 1);
  checkSize(k, 'H', H, 1);
  const GH = gatesOf(kind) * H;
  const hasC = kind === 'lstm';
  checkSpan(k, 'wHh', wHh, GH * H);
  checkSpan(k, 'hs', hs, (T + 1) * B * H);
  checkSpan(k, 'cs', cs, hasC ? (T + 1) * B * H : 0);
  checkSpan(k, 'cache', cache, T * B * cacheWidth(kind) * H);
  checkSpan(k, 'dhs', dhs, T * B * H);
  checkSpan(k, 'dhN', dhN, B * H);
  checkSpan(k, 'dcN', dcN, hasC ? B * H : 0);
  checkSpan(k, 'dGx', dGx, T * B * GH);
  checkSpan(k, 'dGh', dGh, T * B * GH);
  checkSpan(k, 'dh0', dh0, B * H);
  checkSpan(k, 'dc0', dc0, hasC ? B * H : 0);
  if (dbIh) checkSpan(k, 'dbIh', dbIh, GH);
  if (dbHh) checkSpan(k, 'dbHh', dbHh, GH);
  const sums = { ...(dbIh ? { dbIh } : {}), ...(dbHh ? { dbHh } : {}) };
  if (dhSteps) checkSpan(k, 'dhSteps', dhSteps, T * B * H);
  if (lengths) checkLengths(k, lengths, T, B, 0);
  checkNoAlias(
    k,
    { dGx, dGh, dh0, dc0, ...sums, ...(dhSteps ? { dhSteps } : {}) },
    { wHh, hs, cs, cache, dhs, dhN, dcN, ...(lengths ? { lengths } : {}) },
  );
}

function checkPool(
  kernel: string,
  mode: PoolMode,
  T: number,
  B: number,
  D: number,
  lengths: IntSpan,
  argmax: IntSpan,
): void {
  if (!(POOL_MODES as readonly string[]).includes(mode)) {
    throw new TypeError(`${kernel}: unknown pooling ${String(mode)} (expected one of ${POOL_MODES.join(', ')})`);
  }
  checkSize(kernel, 'T', T, 1);
  checkSize(kernel, 'B', B, 1);
  checkSize(kernel, 'D', D, 1);
  checkLengths(kernel, lengths, T, B, 1);
  checkSpan(kernel, 'argmax', argmax, mode === 'max' ? B * D : 0);
}

export function checkPoolForward(
  mode: PoolMode,
  T: number,
  B: number,
  D: number,
  x: FloatSpan,
  lengths: IntSpan,
  out: FloatSpan,
  argmax: IntSpan,
): void {
  const k = 'poolForward';
  checkPool(k, mode, T, B, D, lengths, argmax);
  checkSpan(k, 'x', x, T * B * D);
  checkSpan(k, 'out', out, B * D);
  checkNoAlias(k, { out, argmax }, { x, lengths });
}

export function checkPoolBackward(
  mode: PoolMode,
  T: number,
  B: number,
  D: number,
  dOut: FloatSpan,
  lengths: IntSpan,
  argmax: IntSpan,
  dx: FloatSpan,
): void {
  const k = 'poolBackward';
  checkPool(k, mode, T, B, D, lengths, argmax);
  checkSpan(k, 'dOut', dOut, B * D);
  checkSpan(k, 'dx', dx, T * B * D);
  if (mode === 'max') checkIds(k, argmax, B * D, T);
  checkNoAlias(k, { dx }, { dOut, lengths, argmax });
}

export function checkAddBias(M: number, N: number, bias: FloatSpan, C: FloatSpan): void {
  checkSize('addBias', 'M', M);
  checkSize('addBias', 'N', N);
  checkSpan('addBias', 'bias', bias, N);
  checkSpan('addBias', 'C', C, M * N);
  checkNoAlias('addBias', { C }, { bias });
}

export function checkSumRows(M: number, N: number, A: FloatSpan, out: FloatSpan): void {
  checkSize('sumRows', 'M', M);
  checkSize('sumRows', 'N', N);
  checkSpan('sumRows', 'A', A, M * N);
  checkSpan('sumRows', 'out', out, N);
  checkNoAlias('sumRows', { out }, { A });
}

/** Shared by the row gather/scatter (table [R,D]) and column gather/scatter (W [R,C]):
 *  `dense` is [n, width], `table` has `width` rows (columns) or columns (rows); returns the id limit. */
function checkIndexed(
  kernel: string,
  n: number,
  width: number,
  ids: IntSpan,
  denseName: string,
  dense: FloatSpan,
  table: FloatSpan,
  byColumns: boolean,
): number {
  checkSize(kernel, 'n', n);
  checkSize(kernel, byColumns ? 'R' : 'D', width, 1);
  checkSpan(kernel, 'ids', ids, n);
  checkSpan(kernel, denseName, dense, n * width);
  const limit = tableLimit(kernel, 'table', table, width, byColumns ? 'columns' : 'rows');
  checkIds(kernel, ids, n, limit);
  return limit;
}

export function checkGatherRows(n: number, D: number, ids: IntSpan, table: FloatSpan, out: FloatSpan): void {
  checkIndexed('gatherRows', n, D, ids, 'out', out, table, false);
  checkNoAlias('gatherRows', { out }, { ids, table });
}

export function checkScatterAddRows(n: number, D: number, ids: IntSpan, dOut: FloatSpan, dTable: FloatSpan): void {
  checkIndexed('scatterAddRows', n, D, ids, 'dOut', dOut, dTable, false);
  checkNoAlias('scatterAddRows', { dTable }, { ids, dOut });
}

export function checkGatherColumns(n: number, R: number, ids: IntSpan, W: FloatSpan, out: FloatSpan): void {
  checkIndexed('gatherColumns', n, R, ids, 'out', out, W, true);
  checkNoAlias('gatherColumns', { out }, { ids, W });
}

export function checkScatterAddColumns(n: number, R: number, ids: IntSpan, dOut: FloatSpan, dW: FloatSpan): void {
  checkIndexed('scatterAddColumns', n, R, ids, 'dOut', dOut, dW, true);
  checkNoAlias('scatterAddColumns', { dW }, { ids, dOut });
}

export function checkSoftmaxCrossEntropy(
  N: number,
  V: number,
  logits: FloatSpan,
  targets: IntSpan,
  scale: number,
  dLogits: FloatSpan | null,
  labelSmoothing = 0,
): void {
  const k = 'softmaxCrossEntropy';
  checkSize(k, 'N', N);
  checkSize(k, 'V', V, 1);
  checkNumber(k, 'scale', scale);
  if (typeof labelSmoothing !== 'number' || !(labelSmoothing >= 0 && labelSmoothing <= 1))
    throw new RangeError(`${k}: expected a number in [0, 1] for labelSmoothing but received ${String(labelSmoothing)}`);
  checkSpan(k, 'logits', logits, N * V);
  checkSpan(k, 'targets', targets, N);
  checkIds(k, targets, N, V, true);
  if (dLogits) {
    checkSpan(k, 'dLogits', dLogits, N * V);
    checkNoAlias(k, { dLogits }, { logits, targets });
  }
}

export function checkCtcLoss(
  T: number,
  B: number,
  C: number,
  S: number,
  logits: FloatSpan,
  targets: IntSpan,
  inputLengths: IntSpan,
  targetLengths: IntSpan,
  zeroInfinity: boolean,
  work: FloatSpan,
  losses: FloatSpan,
  dLogits: FloatSpan | null,
): void {
  const k = 'ctcLoss';
  checkSize(k, 'T', T, 1);
  checkSize(k, 'B', B, 1);
  checkSize(k, 'C', C, 2);
  checkSize(k, 'S', S);
  checkSpan(k, 'logits', logits, T * B * C);
  checkSpan(k, 'targets', targets, B * S);
  checkSpan(k, 'inputLengths', inputLengths, B);
  checkSpan(k, 'targetLengths', targetLengths, B);
  const inputs = inputLengths.data,
    targetLens = targetLengths.data,
    labels = targets.data;
  for (let b = 0; b < B; b++) {
    const L = inputs[b]!,
      U = targetLens[b]!;
    if (L < 1 || L > T) throw new RangeError(`${k}: input length ${L} of sequence ${b} is outside [1, ${T}]`);
    if (U < 0 || U > S) throw new RangeError(`${k}: target length ${U} of sequence ${b} is outside [0, ${S}]`);
    for (let s = 0; s < U; s++) {
      const label = labels[b * S + s]!;
      if (label < 1 || label >= C)
        throw new RangeError(
          `${k}: label ${label} at position ${s} of sequence ${b} is outside [1, ${C}) (0 is the blank)`,
        );
    }
  }
  checkBooleans(k, { zeroInfinity });
  checkSpan(k, 'work', work, ctcWorkspaceSize(T, B, S));
  checkSpan(k, 'losses', losses, B);
  if (dLogits) checkSpan(k, 'dLogits', dLogits, T * B * C);
  checkNoAlias(k, { work, losses, ...(dLogits ? { dLogits } : {}) }, { logits, targets, inputLengths, targetLengths });
}

/** The optimizer updates: real spans, every tensor as long as the first, finite numbers, no overlap. */
export function checkUpdate(kernel: string, tensors: Record<string, FloatSpan>, numbers: Record<string, number>): void {
  const entries = Object.entries(tensors);
  for (const [name, t] of entries) checkIsSpan(kernel, name, t);
  const [firstName, first] = entries[0]!;
  for (const [name, t] of entries.slice(1)) {
    if (t.length !== first.length)
      throw new RangeError(`${kernel}: ${name} has ${t.length} elements, expected ${first.length} like ${firstName}`);
  }
  for (const [name, v] of Object.entries(numbers)) checkNumber(kernel, name, v);
  checkNoAlias(kernel, tensors, {});
}

export function checkAdagradUpdate(
  param: FloatSpan,
  grad: FloatSpan,
  sum: FloatSpan,
  lr: number,
  eps: number,
  weightDecay: number,
): void {
  checkUpdate('adagradUpdate', { param, grad, sum }, { lr, eps, weightDecay });
}

export function checkSgdUpdate(param: FloatSpan, grad: FloatSpan, lr: number, weightDecay: number): void {
  checkUpdate('sgdUpdate', { param, grad }, { lr, weightDecay });
}

export function checkMomentumUpdate(
  param: FloatSpan,
  grad: FloatSpan,
  buf: FloatSpan,
  lr: number,
  momentum: number,
  dampening: number,
  nesterov: boolean,
  weightDecay: number,
  first: boolean,
): void {
  checkUpdate('momentumUpdate', { param, grad, buf }, { lr, momentum, dampening, weightDecay });
  checkBooleans('momentumUpdate', { nesterov, first });
}

export function checkRmspropUpdate(
  param: FloatSpan,
  grad: FloatSpan,
  sq: FloatSpan,
  lr: number,
  alpha: number,
  eps: number,
  weightDecay: number,
): void {
  checkUpdate('rmspropUpdate', { param, grad, sq }, { lr, alpha, eps, weightDecay });
}

export function checkAdamUpdate(
  param: FloatSpan,
  grad: FloatSpan,
  m: FloatSpan,
  v: FloatSpan,
  lr: number,
  beta1: number,
  beta2: number,
  eps: number,
  weightDecay: number,
  decoupled: boolean,
  step: number,
): void {
  checkUpdate('adamUpdate', { param, grad, m, v }, { lr, beta1, beta2, eps, weightDecay });
  checkBooleans('adamUpdate', { decoupled });
  checkSize('adamUpdate', 'step', step, 1);
}

export function checkClipValue(x: FloatSpan, limit: number): void {
  checkIsSpan('clipValue', 'x', x);
  checkNumber('clipValue', 'limit', limit);
}

export function checkSumSquares(x: FloatSpan): void {
  checkIsSpan('sumSquares', 'x', x);
}

export function checkScale(x: FloatSpan, s: number): void {
  checkIsSpan('scale', 'x', x);
  checkNumber('scale', 's', s);
}

export function checkDropout(x: FloatSpan, p: number, seed: number, mask: FloatSpan, out: FloatSpan): void {
  checkIsSpan('dropout', 'x', x);
  if (typeof p !== 'number' || !(p >= 0 && p < 1))
    throw new RangeError(`dropout: expected a probability in [0, 1) for p but received ${String(p)}`);
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`dropout: expected an integer from 0 to 4294967295 for seed but received ${String(seed)}`);
  }
  checkSpan('dropout', 'mask', mask, x.length);
  checkSpan('dropout', 'out', out, x.length);
  checkNoAlias('dropout', { mask, out }, { x });
}

export function checkMultiply(a: FloatSpan, b: FloatSpan, out: FloatSpan): void {
  checkIsSpan('multiply', 'a', a);
  checkSpan('multiply', 'b', b, a.length);
  checkSpan('multiply', 'out', out, a.length);
  checkNoAlias('multiply', { out }, { a, b });
}

export function checkBooleans(kernel: string, flags: Record<string, boolean>): void {
  for (const [name, value] of Object.entries(flags)) {
    if (typeof value !== 'boolean')
      throw new TypeError(`${kernel}: expected a boolean for ${name} but received ${String(value)}`);
  }
}

/** The arguments both decoder kernels share; returns the inputs and the forward's outputs by name. */
function checkDecoderCommon(
  kernel: string,
  shape: DecoderShape,
  layers: readonly DecoderLayer[],
  mem: DecoderMemory,
  wCombine: FloatSpan,
  rec: DecoderRecord,
): { weights: Record<string, FloatSpan | IntSpan>; states: Record<string, FloatSpan | IntSpan> } {
  if (typeof shape !== 'object' || shape === null) throw new TypeError(`${kernel}: shape is not an object`);
  checkCell(kernel, shape.kind);
  for (const [name, min] of [
    ['T', 0],
    ['B', 1],
    ['S', 1],
    ['E', 1],
    ['H', 1],
    ['M', 1],
  ] as const)
    checkSize(kernel, name, shape[name], min);
  if (!Array.isArray(layers) || layers.length === 0)
    throw new RangeError(`${kernel}: expected an array of at least one layer`);
  const { kind, T, B, S, E, H, M } = shape,
    GH = gatesOf(kind) * H;
  const weights: Record<string, FloatSpan | IntSpan> = {},
    states: Record<string, FloatSpan | IntSpan> = {};
  layers.forEach((layer, l) => {
    const at = (name: string): string => `layers[${l}].${name}`;
    for (const [name, span, length] of [
      ['wIh', layer.wIh, GH * (l === 0 ? E + H : H)],
      ['wHh', layer.wHh, GH * H],
      ['bIh', layer.bIh, GH],
      ['bHh', layer.bHh, GH],
    ] as const) {
      checkSpan(kernel, at(name), span, length);
      weights[at(name)] = span;
    }
    for (const [name, span, length] of [
      ['hs', layer.hs, (T + 1) * B * H],
      ['cs', layer.cs, kind === 'lstm' ? (T + 1) * B * H : 0],
      ['cache', layer.cache, T * B * cacheWidth(kind) * H],
    ] as const) {
      checkSpan(kernel, at(name), span, length);
      states[at(name)] = span;
    }
  });
  checkSpan(kernel, 'keys', mem.keys, S * B * H);
  checkSpan(kernel, 'memory', mem.memory, S * B * M);
  checkSpan(kernel, 'sourceLengths', mem.sourceLengths, B);
  mem.sourceLengths.data.forEach((length, b) => {
    if (length < 1 || length > S)
      throw new RangeError(`${kernel}: sourceLengths[${b}] = ${length} is outside [1, ${S}]`);
  });
  checkSpan(kernel, 'wCombine', wCombine, H * (M + H));
  Object.assign(weights, { keys: mem.keys, memory: mem.memory, sourceLengths: mem.sourceLengths, wCombine });
  for (const [name, length] of [
    ['input0', T * B * (E + H)],
    ['attention', T * B * S],
    ['combined', T * B * (M + H)],
    ['feeds', (T + 1) * B * H],
  ] as const) {
    checkSpan(kernel, name, rec[name], length);
    states[name] = rec[name];
  }
  return { weights, states };
}

export function checkDecoderForward(
  shape: DecoderShape,
  layers: readonly DecoderLayer[],
  embedded: FloatSpan,
  mem: DecoderMemory,
  wCombine: FloatSpan,
  rec: DecoderRecord,
): void {
  const k = 'decoderForward';
  const { weights, states } = checkDecoderCommon(k, shape, layers, mem, wCombine, rec);
  checkSpan(k, 'embedded', embedded, shape.T * shape.B * shape.E);
  checkNoAlias(k, states, { ...weights, embedded });
}

export function checkDecoderBackward(
  shape: DecoderShape,
  layers: readonly DecoderLayer[],
  mem: DecoderMemory,
  wCombine: FloatSpan,
  rec: DecoderRecord,
  dFeeds: FloatSpan,
  dhN: readonly FloatSpan[],
  dcN: readonly FloatSpan[],
  grads: readonly DecoderLayerGrads[],
  out: DecoderGrads,
): void {
  const k = 'decoderBackward';
  const { weights, states } = checkDecoderCommon(k, shape, layers, mem, wCombine, rec);
  const { kind, T, B, S, E, H, M } = shape,
    L = layers.length,
    GH = gatesOf(kind) * H,
    cells = kind === 'lstm' ? B * H : 0;
  checkSpan(k, 'dFeeds', dFeeds, T * B * H);
  if (
    !Array.isArray(dhN) ||
    !Array.isArray(dcN) ||
    !Array.isArray(grads) ||
    dhN.length !== L ||
    dcN.length !== L ||
    grads.length !== L
  )
    throw new RangeError(`${k}: expected arrays of ${L} entries (one per layer) for dhN, dcN and grads`);
  const inputs: Record<string, FloatSpan | IntSpan> = { ...weights, ...states, dFeeds },
    outputs: Record<string, FloatSpan | IntSpan> = {};
  for (let l = 0; l < L; l++) {
    checkSpan(k, `dhN[${l}]`, dhN[l]!, B * H);
    checkSpan(k, `dcN[${l}]`, dcN[l]!, cells);
    inputs[`dhN[${l}]`] = dhN[l]!;
    inputs[`dcN[${l}]`] = dcN[l]!;
    const g = grads[l]!;
    for (const [name, length] of [
      ['dGx', T * B * GH],
      ['dGh', T * B * GH],
      ['dh0', B * H],
      ['dc0', cells],
      ['dbIh', GH],
      ['dbHh', GH],
    ] as const) {
      checkSpan(k, `grads[${l}].${name}`, g[name], length);
      outputs[`grads[${l}].${name}`] = g[name];
    }
  }
  for (const [name, length] of [
    ['dEmbedded', T * B * E],
    ['dKeys', S * B * H],
    ['dMemory', S * B * M],
    ['dCombine', T * B * H],
    ['dFeed0', B * H],
  ] as const) {
    checkSpan(k, name, out[name], length);
    outputs[name] = out[name];
  }
  checkNoAlias(k, outputs, inputs);
}

export function checkTopK(
  N: number,
  V: number,
  K: number,
  scores: FloatSpan,
  values: FloatSpan,
  indices: IntSpan,
): void {
  const k = 'topK';
  checkSize(k, 'N', N);
  checkSize(k, 'V', V, 1);
  checkSize(k, 'K', K, 1);
  if (K > V) throw new RangeError(`${k}: K = ${K} is larger than V = ${V}`);
  checkSpan(k, 'scores', scores, N * V);
  checkSpan(k, 'values', values, N * K);
  checkSpan(k, 'indices', indices, N * K);
  checkNoAlias(k, { values, indices }, { scores });
}

export function checkLogSoftmax(N: number, V: number, x: FloatSpan, out: FloatSpan): void {
  const k = 'logSoftmax';
  checkSize(k, 'N', N);
  checkSize(k, 'V', V, 1);
  checkSpan(k, 'x', x, N * V);
  checkSpan(k, 'out', out, N * V);
  checkNoAlias(k, { out }, { x });
}
/** Every kernel's check by kernel name, with the Backend's own parameter types: a kernel added to the
 *  Backend interface without a check here is a compile error, and its keys are the list of kernels. */
export const kernelChecks: { readonly [K in KernelName]: (...args: Parameters<Backend[K]>) => void } = {
  gemm: checkGemm,
  addBias: checkAddBias,
  sumRows: checkSumRows,
  gatherRows: checkGatherRows,
  scatterAddRows: checkScatterAddRows,
  gatherColumns: checkGatherColumns,
  scatterAddColumns: checkScatterAddColumns,
  cellForward: checkCellForward,
  cellBackward: checkCellBackward,
  poolForward: checkPoolForward,
  poolBackward: checkPoolBackward,
  softmaxCrossEntropy: checkSoftmaxCrossEntropy,
  ctcLoss: checkCtcLoss,
  clipValue: checkClipValue,
  sumSquares: checkSumSquares,
  scale: checkScale,
  dropout: checkDropout,
  multiply: checkMultiply,
  adagradUpdate: checkAdagradUpdate,
  sgdUpdate: checkSgdUpdate,
  momentumUpdate: checkMomentumUpdate,
  rmspropUpdate: checkRmspropUpdate,
  adamUpdate: checkAdamUpdate,
  decoderForward: checkDecoderForward,
  decoderBackward: checkDecoderBackward,
  topK: checkTopK,
  logSoftmax: checkLogSoftmax,
};

/** The kernels' names (the Backend methods that take spans). */
export const KERNEL_NAMES = Object.keys(kernelChecks) as KernelName[];
