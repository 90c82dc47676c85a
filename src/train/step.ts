// One optimizer step of a task; shared by the trainer (Node, run directories), the browser's trainer and the benchmark.
import type { TaskRun } from '../tasks/task.js';
import type { TrainConfig } from './config.js';
import { type Optimizer, clipGradients } from './optimizer.js';

/**
 * One optimizer step of a task: its forward and backward on the next batch, clipping, and the update —
 * skipped when the loss or the gradient norm is not finite. The trainer and the benchmark both run this.
 * `beforeClip` runs between the backward pass and clipping.
 */
export function trainingStep(
  task: Pick<TaskRun, 'model' | 'trainStep'>,
  optimizer: Optimizer,
  c: TrainConfig,
  lr: number,
  dropoutSeed?: number,
  beforeClip?: () => void,
): { loss: number; tokens: number; gradNorm: number; updated: boolean } {
  const { model } = task;
  model.zeroGrads();
  const { loss, tokens } = task.trainStep(dropoutSeed);
  beforeClip?.(); // e.g. the gradient-flow view reads the unclipped gradients
  const gradNorm = clipGradients(model.backend, model.grads.all, c.clipValue, c.clipNorm);
  const updated = Number.isFinite(loss) && Number.isFinite(gradNorm);
  if (updated) optimizer.step(model.params.all, model.grads.all, lr);
  return { loss, tokens, gradNorm, updated };
}
