// The gradient-flow charts (Vega-Lite, like the rest of the report): ‖∂L/∂h_t‖ against the step t on a log
// scale (a line per layer, or per recorded training step), the gradient norm of each part of the model
// over training, and how often clipping fired. Data go in inline, so the SVG carries the plotted values.
import type { TopLevelSpec } from 'vega-lite';
import type { GradflowRow } from '../train/gradflow.js';
import { CONFIG, type Chart, logFormat } from './charts.js';

const WIDTH = 420;
const HEIGHT = 210;
/** Recorded training steps drawn on the evolution chart (evenly chosen, first and last included). */
const MAX_PROFILES = 6;

export interface Profile {
  /** The legend's name for the line (a layer, or the training step it was recorded at). */
  label: string;
  /** ‖∂L/∂h_t‖ for t = 1 … T. */
  norms: number[];
}

/** Log scales cannot show 0: a norm that underflowed to 0 in float32 is left out (and counted). */
const points = (profiles: Profile[]) =>
  profiles.flatMap((p) => p.norms.flatMap((value, i) => (value > 0 ? [{ series: p.label, t: i + 1, value }] : [])));

/** ‖∂L/∂h_t‖ against t, one line per profile, log scale. */
export function stateGradientChart(
  id: string,
  title: string,
  subtitle: string[],
  caption: string,
  profiles: Profile[],
): Chart {
  const values = points(profiles);
  const zeros = profiles.reduce((n, p) => n + p.norms.filter((v) => !(v > 0)).length, 0);
  const labels = profiles.map((p) => p.label);
  return {
    id,
    title,
    caption:
      caption +
      (zeros
        ? ` ${zeros} value${zeros === 1 ? ' was' : 's were'} exactly 0 (underflow) and cannot be drawn on a log scale.`
        : ''),
    spec: {
      title: {
        text: title,
        subtitle: zeros
          ? [...subtitle, `${zeros} value${zeros === 1 ? '' : 's'} exactly 0 (float32 underflow) not drawn`]
          : subtitle,
      },
      width: WIDTH,
      height: HEIGHT,
      data: { values },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'time step t', axis: { format: ',~f' } },
        y: {
          field: 'value',
          type: 'quantitative',
          title: '‖∂L/∂h_t‖ (log scale)',
          scale: { type: 'log' },
          axis: { format: logFormat(values.map((v) => v.value)) },
        },
        color: {
          field: 'series',
          type: 'nominal',
          scale: { domain: labels, scheme: 'viridis' },
          legend: { title: null, orient: 'bottom', direction: 'horizontal', symbolType: 'stroke', offset: 10 },
        },
      },
      layer: [{ mark: { type: 'line', strokeWidth: 1.8, clip: true } }],
    },
  };
}

/** A standalone spec of one chart (the SVG of `rnnkit gradflow`). */
export function standaloneSpec(chart: Chart): TopLevelSpec {
  return { config: CONFIG, ...chart.spec };
}

/** Up to MAX_PROFILES rows, evenly spread, first and last included. */
function spread<T>(rows: T[]): T[] {
  if (rows.length <= MAX_PROFILES) return rows;
  return Array.from(
    { length: MAX_PROFILES },
    (_, i) => rows[Math.round((i * (rows.length - 1)) / (MAX_PROFILES - 1))]!,
  );
}

/** The report's charts of gradflow.jsonl: the state-gradient profile as training goes on (top layer,
 *  forward direction), each part's gradient norm, and the clip rate. */
export function gradflowCharts(rows: GradflowRow[]): Chart[] {
  const top = rows[0]!.state_grad_norms.length - 1;
  const shown = spread(rows);
  const profiles = shown.map((r) => ({
    label: `step ${r.step.toLocaleString('en-US')}`,
    norms: r.state_grad_norms[top]![0]!,
  }));
  const charts = [
    stateGradientChart(
      'gradflow',
      'Gradient flow through time',
      [`‖∂L/∂h_t‖ of layer ${top + 1} on a training batch`, `${shown.length} of ${rows.length} recorded steps`],
      'How much of the loss gradient reaches the state at each time step, at several points of training. A line that falls by orders of magnitude toward t = 1 means the early steps get no learning signal (vanishing gradients); one that rises means exploding gradients.',
      profiles,
    ),
  ];
  const parts = rows
    .flatMap((r) => [
      ...r.layer_grad_norms.map((value, l) => ({ step: r.step, series: `layer ${l + 1}`, value })),
      { step: r.step, series: 'head', value: r.head_grad_norm },
      ...(r.embed_grad_norm !== undefined ? [{ step: r.step, series: 'embedding', value: r.embed_grad_norm }] : []),
    ])
    .filter((p) => p.value > 0);
  charts.push({
    id: 'part-grad-norms',
    title: 'Gradient norm per layer',
    caption:
      "The gradient norm of each recurrent layer's parameters (both directions), of the head and of the embedding, before clipping, at the recorded steps.",
    spec: {
      title: { text: 'Gradient norm per layer', subtitle: ['‖∂L/∂θ‖ before clipping (log scale)'] },
      width: WIDTH,
      height: HEIGHT,
      data: { values: parts },
      encoding: {
        x: { field: 'step', type: 'quantitative', title: 'step', axis: { format: ',~f' } },
        y: {
          field: 'value',
          type: 'quantitative',
          title: 'gradient norm (log scale)',
          scale: { type: 'log' },
          axis: { format: logFormat(parts.map((p) => p.value)) },
        },
        color: {
          field: 'series',
          type: 'nominal',
          legend: { title: null, orient: 'bottom', direction: 'horizontal', symbolType: 'stroke', offset: 10 },
        },
      },
      layer: [{ mark: { type: 'line', strokeWidth: 1.8 } }, { mark: { type: 'point', filled: true, size: 18 } }],
    },
  });
  const clips = rows.flatMap((r) => (r.clip_rate === null ? [] : [{ step: r.step, value: r.clip_rate }]));
  if (clips.length) {
    charts.push({
      id: 'clip-rate',
      title: 'How often clipping fired',
      caption:
        'The share of steps, between two recorded steps, whose gradient norm exceeded --clip-norm (their update was scaled down).',
      spec: {
        title: { text: 'How often clipping fired', subtitle: ['share of steps with gradient norm > --clip-norm'] },
        width: WIDTH,
        height: HEIGHT,
        data: { values: clips },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step', axis: { format: ',~f' } },
          y: {
            field: 'value',
            type: 'quantitative',
            title: 'clip rate',
            scale: { domain: [0, 1] },
            axis: { format: '.0%' },
          },
        },
        layer: [
          { mark: { type: 'line', color: '#d62728', strokeWidth: 1.8 } },
          { mark: { type: 'point', color: '#d62728', filled: true, size: 18 } },
        ],
      },
    });
  }
  return charts;
}
