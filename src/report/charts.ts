// The report's charts as Vega-Lite specs. The series go in as named inline datasets (`datasets`), so the
// compiled Vega spec and the SVG carry exactly the values read from metrics.jsonl.
import type { Config, TopLevelSpec } from 'vega-lite';
import { LOSS_SERIES, type LossSeriesName, type ReportSeries } from './series.js';

/** A spec that can sit inside a concatenation (what a top-level spec is without its top-level properties). */
type InnerSpec = Extract<TopLevelSpec, { vconcat: unknown }>['vconcat'][number];
/** A chart: layers over one dataset. */
type LayerChart = Extract<InnerSpec, { layer: unknown }>;
/** One layer of a chart. */
type Layer = LayerChart['layer'][number];

export interface Chart {
  /** A short identifier (also the prefix of the ids inside its SVG). */
  id: string;
  title: string;
  /** One or two sentences for the HTML report, under the chart. */
  caption: string;
  spec: LayerChart;
}

export interface ChartOptions {
  /** The run's --clip-norm (drawn as a line on the gradient-norm chart when > 0). */
  clipNorm?: number;
  /** Title of the combined figure (report.svg). */
  title?: string;
  subtitle?: string;
}

const WIDTH = 420;
const HEIGHT = 210;
/** A series with at most this many points also gets a dot per point. */
export const MAX_DOTTED_POINTS = 150;

const LOSS_COLORS: Record<LossSeriesName, string> = {
  'train (step)': '#9ecae1',
  'train (smoothed)': '#1f5fa8',
  validation: '#e6550d',
};
const COLORS = { gradNorm: '#2ca02c', lr: '#7b4fa6', tokensPerS: '#8c564b', alarm: '#d62728' };

export const CONFIG: Config = {
  background: 'white',
  padding: 12,
  font: 'Helvetica, Arial, sans-serif',
  view: { stroke: '#d0d0d0' },
  axis: {
    labelFontSize: 11,
    titleFontSize: 12,
    titleFontWeight: 'normal',
    gridColor: '#ececec',
    tickColor: '#999',
    domainColor: '#999',
  },
  legend: { labelFontSize: 11, symbolStrokeWidth: 3 },
  title: { fontSize: 14, subtitleFontSize: 11, subtitleColor: '#555', anchor: 'start', offset: 8 },
  concat: { spacing: 36 },
};

/** Seconds, minutes or hours, whichever keeps the wall-time axis readable. */
export function timeUnit(maxSeconds: number): { name: string; seconds: number } {
  if (maxSeconds <= 180) return { name: 's', seconds: 1 };
  if (maxSeconds <= 3 * 3600) return { name: 'min', seconds: 60 };
  return { name: 'h', seconds: 3600 };
}

/** An axis format for a log scale over `values`: plain numbers, or powers of ten when they get long. */
export function logFormat(values: number[]): string {
  return Math.max(...values) >= 1e5 || Math.min(...values) < 1e-3 ? '.0e' : '~g';
}

/** True when the positive values span two decades or more, so a log scale shows them better. */
export function spansDecades(values: number[]): boolean {
  if (values.length < 2 || values.some((v) => !(v > 0))) return false;
  return Math.max(...values) / Math.min(...values) >= 100;
}

/** Subtitle lines are kept short: without a canvas Vega estimates text widths generously, and a long line
 *  would widen the chart's bounds. A thinned series says so on a line of its own. */
const thinned = (s: ReportSeries): string[] =>
  s.stride > 1 ? [`1 in ${s.stride} of ${s.logged.toLocaleString('en-US')} logged steps shown`] : [];

/** An invisible point on each hover-marked point: its <title> (see render.ts) shows the values on hover. */
const hoverLayer = (filter: string): Layer => ({
  transform: [{ filter }],
  mark: { type: 'point', filled: true, size: 80, opacity: 0 },
});

function lossChart(s: ReportSeries, against: 'step' | 'time'): Chart {
  const present = LOSS_SERIES.filter((name) => s.loss.some((p) => p.series === name));
  const dotted = present.filter((name) => s.loss.filter((p) => p.series === name).length <= MAX_DOTTED_POINTS);
  const undotted = present.filter((name) => !dotted.includes(name));
  const unit = timeUnit(Math.max(0, ...s.loss.map((p) => p.elapsed_s)));
  const losses = s.loss.map((p) => p.loss);
  const log = spansDecades(losses);
  const bpc = s.lossUnit === 'bpc';
  const x =
    against === 'step'
      ? { field: 'step', type: 'quantitative' as const, title: 'step', axis: { format: ',~f' } }
      : { field: 'time', type: 'quantitative' as const, title: `wall time (${unit.name})` };
  const title = against === 'step' ? 'Loss against step' : 'Loss against wall time';
  return {
    id: against === 'step' ? 'loss-step' : 'loss-time',
    title,
    caption:
      against === 'step'
        ? `${bpc ? 'Cross-entropy in bits per character (nats ÷ ln 2)' : 'Cross-entropy per example in nats'}, training and validation alike. The per-step training loss is noisy; the smoothed one is its running average (decay 0.999); the validation loss is measured on held-out ${bpc ? 'text' : 'examples'}. Validation rising while training falls means overfitting. Hover over a point for its values.`
        : 'The same losses against elapsed training time, which shows what a faster backend or a larger batch buys.',
    spec: {
      title: {
        text: title,
        subtitle: [
          bpc ? 'cross-entropy in bits per character (bpc)' : 'cross-entropy per example (nats)',
          ...thinned(s),
        ],
      },
      width: WIDTH,
      height: HEIGHT,
      data: { name: 'loss' },
      ...(against === 'time' ? { transform: [{ calculate: `datum.elapsed_s / ${unit.seconds}`, as: 'time' }] } : {}),
      encoding: {
        x,
        y: {
          field: 'loss',
          type: 'quantitative',
          title: `loss (${s.lossUnit}${log ? ', log scale' : ''})`,
          scale: log ? { type: 'log' } : { zero: false },
          ...(log ? { axis: { format: logFormat(losses) } } : {}),
        },
        color: {
          field: 'series',
          type: 'nominal',
          scale: { domain: present, range: present.map((name) => LOSS_COLORS[name]) },
          legend: { title: null, orient: 'bottom', direction: 'horizontal', symbolType: 'stroke', offset: 10 },
        },
      },
      layer: [
        { mark: { type: 'line', strokeWidth: 1.8, clip: true } },
        ...(dotted.length
          ? [
              {
                transform: [{ filter: { field: 'series', oneOf: dotted } }],
                mark: { type: 'point' as const, filled: true, size: 22, opacity: 1 },
              },
            ]
          : []),
        ...(undotted.length
          ? [hoverLayer(`datum.hover && indexof(${JSON.stringify(undotted)}, datum.series) >= 0`)]
          : []),
      ],
    },
  };
}

function valueChart(
  id: string,
  data: string,
  points: number,
  title: string,
  subtitle: string[],
  caption: string,
  yTitle: string,
  color: string,
  y: { log?: boolean; format?: string; zero?: boolean },
  extra: Layer[] = [],
): Chart {
  const encoding = {
    x: { field: 'step', type: 'quantitative' as const, title: 'step', axis: { format: ',~f' } },
    y: {
      field: 'value',
      type: 'quantitative' as const,
      title: yTitle,
      scale: y.log ? { type: 'log' as const } : { zero: y.zero ?? true },
      ...(y.format ? { axis: { format: y.format } } : {}),
    },
  };
  const layers: Layer[] = [{ mark: { type: 'line', color, strokeWidth: 1.8 }, encoding }];
  if (points <= MAX_DOTTED_POINTS)
    layers.push({ mark: { type: 'point', color, filled: true, size: 22, opacity: 1 }, encoding });
  else layers.push({ ...hoverLayer('datum.hover'), encoding });
  return {
    id,
    title,
    caption,
    spec: {
      title: { text: title, subtitle },
      width: WIDTH,
      height: HEIGHT,
      data: { name: data },
      layer: [...layers, ...extra],
    },
  };
}

/** The report's charts, in the order the HTML shows them. */
export function buildCharts(s: ReportSeries, options: ChartOptions = {}): Chart[] {
  const gradLog = spansDecades(s.gradNorm.map((p) => p.value));
  const clipNorm = options.clipNorm ?? 0;
  const gradExtra: Layer[] = [];
  if (clipNorm > 0) {
    gradExtra.push({
      data: { values: [{ clip: clipNorm, label: `clip-norm ${clipNorm}` }] },
      layer: [
        {
          mark: { type: 'rule', color: COLORS.alarm, strokeDash: [5, 4] },
          encoding: { y: { field: 'clip', type: 'quantitative' } },
        },
        {
          mark: { type: 'text', color: COLORS.alarm, align: 'left', baseline: 'bottom', dx: 4, dy: -2, x: 0 },
          encoding: { y: { field: 'clip', type: 'quantitative' }, text: { field: 'label' } },
        },
      ],
    });
  }
  if (s.nonFinite.length) {
    gradExtra.push({
      data: { name: 'nonfinite' },
      mark: { type: 'rule', color: COLORS.alarm, opacity: 0.6 },
      encoding: { x: { field: 'step', type: 'quantitative' } },
    });
  }
  const gradSubtitle = [
    `L2 norm of all gradients before clipping${gradLog ? ',' : ''}`,
    ...(gradLog ? ['on a log scale'] : []),
    ...(s.nonFinite.length ? [`red: ${s.nonFinite.length} non-finite step${s.nonFinite.length === 1 ? '' : 's'}`] : []),
    ...thinned(s),
  ];
  return [
    lossChart(s, 'step'),
    lossChart(s, 'time'),
    valueChart(
      'grad-norm',
      'gradNorm',
      s.gradNorm.length,
      'Gradient norm',
      gradSubtitle,
      'The size of the whole gradient before clipping, at each logged step. Spikes of orders of magnitude are exploding gradients (what clipping is for); a steady slide toward zero is vanishing gradients (what LSTM and GRU cells are for).' +
        (clipNorm > 0 ? ` The dashed line is --clip-norm ${clipNorm}: above it the update was scaled down.` : ''),
      'gradient norm',
      COLORS.gradNorm,
      { log: gradLog, format: gradLog ? logFormat(s.gradNorm.map((p) => p.value)) : '~g' },
      gradExtra,
    ),
    valueChart(
      'lr',
      'lr',
      s.lr.length,
      'Learning rate',
      ['the step size at each logged step', ...thinned(s)],
      'The learning rate the schedule set (warm-up, step decay or cosine).',
      'learning rate',
      COLORS.lr,
      { format: '~g' },
    ),
    valueChart(
      'tokens-per-s',
      'tokensPerS',
      s.tokensPerS.length,
      'Speed',
      ['tokens per second of each step', ...thinned(s)],
      'Characters trained on per second in each step (sequence length × batch over its wall time), validation and checkpoints included.',
      'tokens/s',
      COLORS.tokensPerS,
      { format: ',~f' },
    ),
  ];
}

/** The named datasets the charts refer to. */
export function datasets(s: ReportSeries): Record<string, object[]> {
  return { loss: s.loss, gradNorm: s.gradNorm, lr: s.lr, tokensPerS: s.tokensPerS, nonfinite: s.nonFinite };
}

/** One chart as a standalone Vega-Lite spec. */
export function chartSpec(chart: Chart, s: ReportSeries): TopLevelSpec {
  return { config: CONFIG, datasets: datasets(s), ...chart.spec };
}

/** All charts in one figure (report.svg): two per row. */
export function combinedSpec(charts: Chart[], s: ReportSeries, options: ChartOptions = {}): TopLevelSpec {
  const rows: InnerSpec[] = [];
  for (let i = 0; i < charts.length; i += 2)
    rows.push({
      hconcat: charts.slice(i, i + 2).map((c) => c.spec),
      resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
    });
  return {
    config: CONFIG,
    datasets: datasets(s),
    ...(options.title
      ? {
          title: {
            text: options.title,
            ...(options.subtitle ? { subtitle: options.subtitle } : {}),
            fontSize: 18,
            offset: 16,
          },
        }
      : {}),
    vconcat: rows,
    resolve: { scale: { color: 'independent' }, legend: { color: 'independent' } },
  };
}
