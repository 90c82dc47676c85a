// `rnnkit gradflow DIR`: the gradient-flow view of a checkpoint of a generated task. One batch (the test
// stream of a seed) goes forward and backward once, with the stack recording ∂L/∂h_t, which the backward
// pass computes anyway: the cost is one training step's.
import type { Backend } from '../../backend/types.js';
import { badCheckpoint, invalidOption } from '../../errors.js';
import { checkpointTensorNames } from '../../io/checkpoint.js';
import { RegressorWorkspace } from '../../model/regressor.js';
import { Workspace } from '../../model/workspace.js';
import { addingBatch, batchRandom, copyBatch, copySteps } from './generate.js';
import { loadSyntheticModel } from './model-file.js';

export interface GradflowMeasurement {
  task: 'adding' | 'copy';
  /** e.g. 'lstm', 'rnn_tanh'. */
  cell: string;
  /** The adding problem's T or the copy problem's delay measured at. */
  length: number;
  /** Time steps of a sequence (T for adding, delay + 20 for copy). */
  steps: number;
  batch: number;
  seed: number;
  /** The batch's mean loss (MSE or cross-entropy per step). */
  loss: number;
  /** ‖∂L/∂h_t‖ over the batch, [layer][direction][t − 1] for t = 1 … steps. */
  state_grad_norms: number[][][];
}

/** A model file without recurrent weights cannot show gradients through recurrent states. */
function requireRecurrentLayer(dir: string): void {
  if (!checkpointTensorNames(dir).some((name) => name.startsWith('rnn.weight_hh_'))) {
    throw badCheckpoint(
      `${dir} has no recurrent layer (no rnn.weight_hh_* tensor in its model file): gradflow measures ∂L/∂h_t through a recurrent layer's states`,
    );
  }
}

export function measureGradflow(
  dir: string,
  backend: Backend,
  options: { batch: number; seed: number; length?: number },
): GradflowMeasurement {
  requireRecurrentLayer(dir);
  const s = loadSyntheticModel(dir, backend);
  const length = options.length ?? s.length;
  if (s.task === 'adding' && length < 2)
    throw invalidOption(`--length must be at least 2 (one marked value in each half), got ${length}`);
  const { batch: B, seed } = options,
    { model } = s;
  const cell = model.config.cell === 'rnn' ? `rnn_${model.config.nonlinearity}` : model.config.cell;
  model.zeroGrads();
  let loss: number, steps: number, stack;
  if (s.task === 'adding') {
    steps = length;
    const workspace = new RegressorWorkspace(model, steps, B, { stateGradients: true });
    addingBatch(batchRandom(seed, 'test', 0), steps, B, workspace.frames.data, workspace.targets.data);
    loss = workspace.forward(steps, B, true) / B;
    stack = workspace.stack;
    stack.recordStateGradients = true;
    workspace.backward(steps, B);
  } else {
    steps = copySteps(length);
    const workspace = new Workspace(model, steps, B, { stateGradients: true });
    copyBatch(batchRandom(seed, 'test', 0), length, B, workspace.ids.data, workspace.targets.data);
    workspace.resetState();
    loss = workspace.forward(steps, true) / (steps * B);
    stack = workspace.stack;
    stack.recordStateGradients = true;
    workspace.backward(steps);
  }
  return { task: s.task, cell, length, steps, batch: B, seed, loss, state_grad_norms: stack.stateGradientNorms() };
}
