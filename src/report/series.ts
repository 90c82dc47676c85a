// metrics.jsonl → the series the report plots. Every line is checked; a bad one is an error naming the file
// and line. JSON cannot hold NaN or Infinity, so a non-finite loss, gradient norm or speed is written as
// null: such values are accepted, counted and left out of the plots.
import { RnnkitError, invalidInput } from '../errors.js';
import { forEachLine } from '../io/lines.js';

/** One logged step as read back from metrics.jsonl (null = a non-finite value). */
export interface MetricsRow {
  step: number;
  epoch: number;
  loss: number | null;
  smooth_loss: number | null;
  grad_norm: number | null;
  lr: number;
  tokens_per_s: number | null;
  elapsed_s: number;
  val_loss?: number | null;
  val_bpc?: number | null;
  val_perplexity?: number | null;
  val_accuracy?: number | null;
  val_macro_f1?: number | null;
  skipped_steps?: number;
  /** A sample generated at this step during training (--sample-every). */
  sample?: string;
}

export const LOSS_SERIES = ['train (step)', 'train (smoothed)', 'validation'] as const;
export type LossSeriesName = (typeof LOSS_SERIES)[number];

export interface LossPoint {
  step: number;
  elapsed_s: number;
  series: LossSeriesName;
  /** In the series' lossUnit. */
  loss: number;
  /** Set on the points that carry a hover label where the chart draws no dots (see HOVER_POINTS). */
  hover?: true;
}

export interface ValuePoint {
  step: number;
  elapsed_s: number;
  value: number;
  hover?: true;
}

/** Losses are plotted in the unit the training display uses, for training and validation alike: bits per
 *  character for a language model, the squared error for the adding problem, nats for other tasks. */
export type LossUnit = 'bpc' | 'nats' | 'mse';

/** What the charts plot: long-format rows, ready to be Vega-Lite inline data. */
export interface ReportSeries {
  lossUnit: LossUnit;
  loss: LossPoint[];
  lr: ValuePoint[];
  gradNorm: ValuePoint[];
  tokensPerS: ValuePoint[];
  /** Steps whose loss or gradient norm was non-finite (logged as null). */
  nonFinite: { step: number; elapsed_s: number }[];
  /** Logged steps in metrics.jsonl, and the stride used to thin them (1 = every logged step is plotted). */
  logged: number;
  stride: number;
  validations: number;
  validationStride: number;
}

/** More logged steps than this per series are thinned to every k-th (keeping the last) so the SVG stays small. */
export const MAX_POINTS = 2000;
/** At most this many points per series carry a hover label (an invisible mark with a <title>), so that a
 *  long run's SVG stays small. */
export const HOVER_POINTS = 200;

/** Marks every k-th point (and the last) of `points` as a hover point, k chosen to keep HOVER_POINTS. */
function markHover<T extends { hover?: true }>(points: T[]): T[] {
  const stride = Math.ceil(points.length / HOVER_POINTS);
  points.forEach((p, i) => {
    if (i % stride === 0 || i === points.length - 1) p.hover = true;
  });
  return points;
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const METRICS_FIELDS = [
  'step',
  'epoch',
  'loss',
  'smooth_loss',
  'grad_norm',
  'lr',
  'tokens_per_s',
  'elapsed_s',
  'val_loss',
  'val_bpc',
  'val_perplexity',
  'val_accuracy',
  'val_macro_f1',
  'val_mse',
  'skipped_steps',
  'sample',
] as const;

/** One line of metrics.jsonl, checked; `where` is "path:line" for errors. Keeps only the known fields. */
function parseMetricsLine(line: string, where: string, previous: MetricsRow | undefined): MetricsRow {
  if (line.trim() === '') throw invalidInput(`${where}: empty line`);
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw invalidInput(`${where}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidInput(`${where}: expected a JSON object, got ${line.length > 40 ? line.slice(0, 40) + '…' : line}`);
  const o = value as Record<string, unknown>;
  const need = (name: string, ok: (v: unknown) => boolean, what: string): void => {
    if (!(name in o)) throw invalidInput(`${where}: field ${name} is missing`);
    if (!ok(o[name])) throw invalidInput(`${where}: field ${name} must be ${what}, got ${JSON.stringify(o[name])}`);
  };
  const optional = (name: string, ok: (v: unknown) => boolean, what: string): void => {
    if (name in o && !ok(o[name]))
      throw invalidInput(`${where}: field ${name} must be ${what}, got ${JSON.stringify(o[name])}`);
  };
  const numberOrNull = (v: unknown): boolean => v === null || isFiniteNumber(v);
  need('step', (v) => isCount(v) && v >= 1, 'an integer >= 1');
  need('epoch', isCount, 'an integer >= 0');
  need('loss', numberOrNull, 'a number (or null when non-finite)');
  need('smooth_loss', numberOrNull, 'a number (or null when non-finite)');
  need('grad_norm', (v) => v === null || (isFiniteNumber(v) && v >= 0), 'a number >= 0 (or null when non-finite)');
  need('lr', (v) => isFiniteNumber(v) && v >= 0, 'a number >= 0');
  need('tokens_per_s', (v) => v === null || (isFiniteNumber(v) && v >= 0), 'a number >= 0 (or null)');
  need('elapsed_s', (v) => isFiniteNumber(v) && v >= 0, 'a number >= 0');
  optional('val_loss', numberOrNull, 'a number (or null when non-finite)');
  for (const key of ['val_bpc', 'val_perplexity', 'val_accuracy', 'val_macro_f1', 'val_mse'])
    optional(key, numberOrNull, 'a number (or null when non-finite)');
  optional('skipped_steps', isCount, 'an integer >= 0');
  optional('sample', (v) => typeof v === 'string', 'a string');
  const row: Record<string, unknown> = {};
  for (const key of METRICS_FIELDS) if (key in o) row[key] = o[key];
  const step = row['step'] as number;
  if (previous && step <= previous.step)
    throw invalidInput(`${where}: step ${step} does not follow step ${previous.step} (steps must increase)`);
  return row as unknown as MetricsRow;
}

/** Parses and validates metrics.jsonl text; `path` names the file in errors. */
export function parseMetrics(text: string, path: string): MetricsRow[] {
  const rows: MetricsRow[] = [];
  const lines = text.split('\n');
  // A file ends with a newline, so the last piece is empty.
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => rows.push(parseMetricsLine(line, `${path}:${index + 1}`, rows.at(-1))));
  return rows;
}

/** Reads DIR/metrics.jsonl as a stream, line by line (a log of any size; errors name the line). */
export function readMetrics(path: string, chunkBytes?: number): MetricsRow[] {
  const rows: MetricsRow[] = [];
  try {
    forEachLine(
      path,
      (line, lineNumber) => rows.push(parseMetricsLine(line.toString('utf8'), `${path}:${lineNumber}`, rows.at(-1))),
      chunkBytes,
    );
  } catch (error) {
    if (error instanceof RnnkitError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw invalidInput(
      code === 'ENOENT'
        ? `${path}: not found (is this a run directory written by rnnkit train?)`
        : `${path}: cannot be read (${(error as Error).message})`,
    );
  }
  return rows;
}

/** Every `stride`-th item and always the last, with stride chosen to keep at most `max` items. */
export function thin<T>(items: T[], max = MAX_POINTS): { items: T[]; stride: number } {
  if (items.length <= max) return { items, stride: 1 };
  const stride = Math.ceil(items.length / max);
  const kept = items.filter((_, i) => i % stride === 0);
  if ((items.length - 1) % stride !== 0) kept.push(items.at(-1)!);
  return { items: kept, stride };
}

/** The plotted series: training loss (per step and smoothed), validation loss, lr, gradient norm, speed. */
export function buildSeries(rows: MetricsRow[], max = MAX_POINTS, lossUnit: LossUnit = 'nats'): ReportSeries {
  const { items: shown, stride } = thin(rows, max);
  const validated = rows.filter((r) => r.val_loss !== undefined);
  const { items: shownVal, stride: validationStride } = thin(validated, max);
  const at = (r: MetricsRow) => ({ step: r.step, elapsed_s: r.elapsed_s });
  const inUnit = (nats: number): number => (lossUnit === 'bpc' ? nats / Math.LN2 : nats);
  const lossSeries = (
    name: LossSeriesName,
    from: MetricsRow[],
    pick: (r: MetricsRow) => number | null | undefined,
  ): LossPoint[] =>
    markHover(
      from.flatMap((r): LossPoint[] => {
        const value = pick(r);
        return typeof value === 'number' ? [{ ...at(r), series: name, loss: inUnit(value) }] : [];
      }),
    );
  const loss: LossPoint[] = [
    ...lossSeries('train (step)', shown, (r) => r.loss),
    ...lossSeries('train (smoothed)', shown, (r) => r.smooth_loss),
    ...lossSeries('validation', shownVal, (r) => r.val_loss),
  ];
  const values = (pick: (r: MetricsRow) => number | null): ValuePoint[] =>
    markHover(
      shown.flatMap((r): ValuePoint[] => {
        const value = pick(r);
        return value === null ? [] : [{ ...at(r), value }];
      }),
    );
  return {
    lossUnit,
    loss,
    lr: values((r) => r.lr),
    gradNorm: values((r) => r.grad_norm),
    tokensPerS: values((r) => r.tokens_per_s),
    // All of them, not thinned: each one matters.
    nonFinite: rows.filter((r) => r.loss === null || r.grad_norm === null).map(at),
    logged: rows.length,
    stride,
    validations: validated.length,
    validationStride,
  };
}
