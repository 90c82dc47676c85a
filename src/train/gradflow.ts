// The gradient-flow view: ‖∂L/∂h_t‖ at every step t of a batch (the recurrent stack's state gradients,
// which the backward pass computes anyway), the gradient norm of each layer's parameters, and how often
// clipping fired. `train --gradflow-every N` appends one row to gradflow.jsonl every N steps; `rnnkit
// gradflow` measures one batch of a checkpoint; `rnnkit report` charts both.
import { existsSync, readFileSync } from 'node:fs';
import type { FloatSpan } from '../backend/types.js';
import type { Model } from '../model/model.js';

export const GRADFLOW_FILE = 'gradflow.jsonl';

export interface GradflowRow {
  step: number;
  /** ‖∂L/∂h_t‖ over the batch, [layer][direction][t] for t = 1 … T (direction 1 in its processing order). */
  state_grad_norms: number[][][];
  /** ‖∂L/∂θ‖ of each recurrent layer's parameters (both directions), before clipping. */
  layer_grad_norms: number[];
  /** The head's (and the embedding's, when there is one) parameter gradient norms, before clipping. */
  head_grad_norm: number;
  embed_grad_norm?: number;
  /** Share of the steps since the previous row whose global gradient norm exceeded --clip-norm; null without --clip-norm. */
  clip_rate: number | null;
}

/** The parameter-gradient norms of the model's parts (read before clipping changes them). */
export function partGradNorms(
  model: Model,
): Pick<GradflowRow, 'layer_grad_norms' | 'head_grad_norm' | 'embed_grad_norm'> {
  const backend = model.backend,
    g = model.gradTensors;
  const norm = (...spans: FloatSpan[]): number =>
    Math.sqrt(spans.reduce((sum, span) => sum + backend.sumSquares(span), 0));
  return {
    layer_grad_norms: g.layers.map((directions) => norm(...directions.flatMap((d) => [d.wIh, d.wHh, d.bIh, d.bHh]))),
    head_grad_norm: norm(g.headWeight, g.headBias),
    ...(g.embed ? { embed_grad_norm: norm(g.embed) } : {}),
  };
}

/** Counts the steps whose gradient norm exceeded --clip-norm between two rows. */
export class ClipCounter {
  private steps = 0;
  private clipped = 0;

  constructor(private readonly clipNorm: number) {}

  add(gradNorm: number): void {
    this.steps++;
    if (this.clipNorm > 0 && gradNorm > this.clipNorm) this.clipped++;
  }

  /** The share since the last take(), then starts counting afresh. */
  take(): number | null {
    const rate = this.clipNorm > 0 && this.steps > 0 ? this.clipped / this.steps : null;
    this.steps = 0;
    this.clipped = 0;
    return rate;
  }
}

/** The rows of a run's gradflow.jsonl (none when the run did not record any); lines that are not rows are skipped. */
export function readGradflow(path: string): GradflowRow[] {
  if (!existsSync(path)) return [];
  const rows: GradflowRow[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      const row = JSON.parse(line) as GradflowRow;
      if (typeof row.step === 'number' && Array.isArray(row.state_grad_norms) && Array.isArray(row.layer_grad_norms))
        rows.push(row);
    } catch {
      // a line cut short by a crash: the rows before it still count
    }
  }
  return rows;
}
