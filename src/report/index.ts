// `rnnkit report DIR`: DIR/report.html (self-contained) and DIR/report.svg from a run directory's
// metrics.jsonl, run.json and model.safetensors.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { version as vegaVersion } from 'vega';
import { version as vegaLiteVersion } from 'vega-lite';
import { ReferenceBackend } from '../backend/reference.js';
import type { Backend } from '../backend/types.js';
import { invalidInput } from '../errors.js';
import { sample } from '../generate/sample.js';
import { MODEL_FILE, checkpointTask, loadModel } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/atomic.js';
import { METRICS_FILE, REPORT_HTML, REPORT_SVG, RUN_FILE } from '../io/rundir.js';
import { type Chart, buildCharts, chartSpec, combinedSpec } from './charts.js';
import { type HtmlChart, renderHtml } from './html.js';
import { provenance, settingsTable } from './settings.js';
import { type Rendered, prefixIds, renderSvg } from './render.js';
import { type LossUnit, MAX_POINTS, type MetricsRow, type ReportSeries, buildSeries, readMetrics } from './series.js';
import { gradflowCharts } from './gradflow-charts.js';
import { GRADFLOW_FILE, readGradflow } from '../train/gradflow.js';

export { parseMetrics, readMetrics, buildSeries, type MetricsRow, type ReportSeries } from './series.js';

export { METRICS_FILE, REPORT_HTML, REPORT_SVG, RUN_FILE } from '../io/rundir.js';
/** The final sample: 300 characters at temperature 0.8, seed 1. */
export const SAMPLE_OPTIONS = { length: 300, temperature: 0.8, seed: 1 } as const;

export interface ReportOptions {
  /**
   * The backend that generates the final sample. Default: the reference backend, so the sample is the same
   * on every machine (no SIMD- or thread-dependent rounding) and needs nothing to load.
   */
  backend?: Backend;
}

export interface ReportPaths {
  html: string;
  svg: string;
}

/** Everything the report is made of, before it is written (for `train --report` and for tests). */
export interface Report {
  rows: MetricsRow[];
  series: ReportSeries;
  settings: Record<string, unknown> | null;
  charts: (Chart & { rendered: Rendered })[];
  combined: Rendered;
  sample: string | null;
  html: string;
  svg: string;
}

function readSettings(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw invalidInput(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalidInput(`${path}: expected a JSON object of settings`);
  return value as Record<string, unknown>;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds < 10 ? seconds.toFixed(2) : seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

function formatCount(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e4) return `${(n / 1e3).toPrecision(3)}k`;
  return String(Math.round(n));
}

function median(values: number[]): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function describeModel(settings: Record<string, unknown> | null): string | undefined {
  if (!settings) return undefined;
  const cell = str(settings['cell']);
  const hidden = num(settings['hidden']);
  if (!cell || hidden === undefined) return undefined;
  const layers = num(settings['layers']) ?? 1;
  const nonlinearity = cell === 'rnn' ? str(settings['nonlinearity']) : undefined;
  const embed = num(settings['embed']) ?? 0;
  const classifier =
    settings['task'] === 'classify'
      ? `, ${settings['bidirectional'] === true ? 'bidirectional, ' : ''}${str(settings['pool']) ?? 'last'} pooling`
      : '';
  return `${cell.toUpperCase()}${nonlinearity ? ` (${nonlinearity})` : ''} ${layers} × ${hidden}${embed > 0 ? `, embedding ${embed}` : ''}${classifier}`;
}

/** The training-loss card averages this many of the last steps (metrics.jsonl has every step). */
const RECENT_STEPS = 100;

const lossUnit = (settings: Record<string, unknown> | null): LossUnit => {
  const task = settings?.['task'] ?? 'lm';
  return task === 'lm' ? 'bpc' : task === 'adding' ? 'mse' : 'nats';
};

function summarize(rows: MetricsRow[], settings: Record<string, unknown> | null): [string, string][] {
  const last = rows.at(-1)!;
  const out: [string, string][] = [];
  const model = describeModel(settings);
  if (model) out.push(['model', model]);
  const parameters = num(settings?.['parameters']);
  if (parameters !== undefined) out.push(['parameters', parameters.toLocaleString('en-US')]);
  const total = num(settings?.['steps']);
  out.push([
    'steps',
    total !== undefined
      ? `${last.step.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`
      : last.step.toLocaleString('en-US'),
  ]);
  const loss = (x: number): string => (Math.abs(x) < 1000 ? x.toFixed(3) : x.toPrecision(4));
  // Training and validation in one unit, the training display's: bits per character for a language model,
  // nats for a classifier (beside its accuracy).
  const unit = lossUnit(settings);
  const inUnit = (nats: number): string => `${loss(unit === 'bpc' ? nats / Math.LN2 : nats)} ${unit}`;
  const recent = rows.slice(-RECENT_STEPS).flatMap((r) => (r.loss === null ? [] : [r.loss]));
  if (recent.length)
    out.push([`train loss (last ${recent.length} steps)`, inUnit(recent.reduce((a, b) => a + b, 0) / recent.length)]);
  let best: MetricsRow | undefined;
  for (const r of rows)
    if (typeof r.val_loss === 'number' && (best === undefined || r.val_loss < best.val_loss!)) best = r;
  if (best) {
    const accuracy =
      typeof best.val_accuracy === 'number' ? `, accuracy ${(best.val_accuracy * 100).toFixed(2)} %` : '';
    out.push(['best validation', `${inUnit(best.val_loss!)}${accuracy} at step ${best.step.toLocaleString('en-US')}`]);
  }
  out.push(['wall time', formatDuration(last.elapsed_s)]);
  const speed = median(rows.flatMap((r) => (r.tokens_per_s === null ? [] : [r.tokens_per_s])));
  if (speed !== undefined) out.push(['speed (median)', `${formatCount(speed)} tokens/s`]);
  const backend = settings?.['backend'] as Record<string, unknown> | undefined;
  if (backend && typeof backend === 'object' && str(backend['name'])) {
    const threads = num(backend['threads']);
    const details = [
      str(backend['simd']) && `SIMD ${str(backend['simd'])}`,
      threads !== undefined && `${threads} thread${threads === 1 ? '' : 's'}`,
    ].filter(Boolean);
    out.push(['backend', `${str(backend['name'])}${details.length ? ` (${details.join(', ')})` : ''}`]);
  }
  if (last.skipped_steps) out.push(['skipped steps', String(last.skipped_steps)]);
  return out;
}

function checkDirectory(dir: string): void {
  if (!existsSync(dir)) throw invalidInput(`${dir}: no such directory`);
  if (!statSync(dir).isDirectory()) throw invalidInput(`${dir}: not a directory`);
}

/** Reads a run directory and renders its report (nothing is written). */
export async function buildReport(dir: string, options: ReportOptions = {}): Promise<Report> {
  checkDirectory(dir);
  const rows = readMetrics(join(dir, METRICS_FILE));
  if (!rows.length) throw invalidInput(`${join(dir, METRICS_FILE)}: no steps logged yet, so there is nothing to plot`);
  const settings = readSettings(join(dir, RUN_FILE));
  const series = buildSeries(rows, MAX_POINTS, lossUnit(settings));
  const name = basename(resolve(dir));
  const model = describeModel(settings);
  const summary = summarize(rows, settings);
  const bestVal = summary.find(([k]) => k === 'best validation')?.[1];
  const title = `rnnkit training report: ${name}`;
  const subtitle = [
    model,
    `${rows.at(-1)!.step.toLocaleString('en-US')} steps in ${formatDuration(rows.at(-1)!.elapsed_s)}`,
    bestVal ? `best validation ${bestVal}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');

  const chartOptions = { clipNorm: num(settings?.['clipNorm']) ?? 0, title, subtitle };
  const flow = readGradflow(join(dir, GRADFLOW_FILE));
  const charts = [...buildCharts(series, chartOptions), ...(flow.length ? gradflowCharts(flow) : [])];
  const rendered = await Promise.all(
    charts.map(async (c) => ({ ...c, rendered: await renderSvg(chartSpec(c, series)) })),
  );
  const combined = await renderSvg(combinedSpec(charts, series, chartOptions));

  let sampleText: string | null = null;
  let sampleMissing: string | undefined;
  const backend = options.backend ?? new ReferenceBackend();
  if (existsSync(join(dir, MODEL_FILE)) && checkpointTask(dir) !== 'lm') {
    const task = checkpointTask(dir);
    sampleMissing = `${task === 'classify' ? 'A classifier' : `A model of the ${task} task`} generates no text, so there is no sample.`;
  } else if (existsSync(join(dir, MODEL_FILE))) {
    const { model: net, vocab } = loadModel(dir, backend);
    sampleText = sample(net, vocab, { ...SAMPLE_OPTIONS });
  } else {
    sampleMissing = `No ${MODEL_FILE} in this directory, so there is no sample.`;
  }

  const notes: string[] = [];
  if (series.stride > 1)
    notes.push(
      `${rows.length.toLocaleString('en-US')} logged steps: the charts show every ${series.stride}th (and the last) to stay light.`,
    );
  if (series.validationStride > 1)
    notes.push(
      `${series.validations.toLocaleString('en-US')} validations: the charts show every ${series.validationStride}th (and the last).`,
    );
  if (series.nonFinite.length)
    notes.push(
      `${series.nonFinite.length} logged step${series.nonFinite.length === 1 ? ' had' : 's had'} a non-finite loss or gradient norm (left out of the plots, marked in red on the gradient-norm chart).`,
    );
  if (!settings) notes.push(`No ${RUN_FILE} in this directory: the configuration is unknown.`);

  const htmlCharts: HtmlChart[] = rendered.map((c) => ({
    id: c.id,
    title: c.title,
    caption: c.caption,
    svg: prefixIds(c.rendered.svg, c.id),
  }));
  const html = renderHtml({
    title,
    subtitle: resolve(dir),
    summary,
    charts: htmlCharts,
    provenance: provenance(settings),
    config: settings ? settingsTable(settings) : null,
    trainingSamples: rows.flatMap((r) => (typeof r.sample === 'string' ? [{ step: r.step, text: r.sample }] : [])),
    sample:
      sampleText === null
        ? null
        : {
            text: sampleText,
            note: `${SAMPLE_OPTIONS.length} characters from ${MODEL_FILE} (the final weights), temperature ${SAMPLE_OPTIONS.temperature}, seed ${SAMPLE_OPTIONS.seed}, ${backend.info().name} backend, no prime text.`,
          },
    ...(sampleMissing ? { sampleMissing } : {}),
    notes,
    footer: `Made by rnnkit report with Vega-Lite ${vegaLiteVersion} and Vega ${vegaVersion}. This page is self-contained and opens offline; the same charts are in ${REPORT_SVG}.`,
  });
  return {
    rows,
    series,
    settings,
    charts: rendered,
    combined,
    sample: sampleText,
    html,
    svg: prefixIds(combined.svg, 'report'),
  };
}

/** Writes DIR/report.html and DIR/report.svg; returns their paths. */
export async function writeReport(dir: string, options: ReportOptions = {}): Promise<ReportPaths> {
  const report = await buildReport(dir, options);
  const paths = { html: join(dir, REPORT_HTML), svg: join(dir, REPORT_SVG) };
  writeFileAtomic(paths.svg, report.svg);
  writeFileAtomic(paths.html, report.html);
  return paths;
}
