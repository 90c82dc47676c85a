// `rnnkit eval` for the generated tasks: a fresh test set (the test stream of a seed: never a training or
// validation batch), with the baseline a model must beat beside the score.
import type { Backend } from '../../backend/types.js';
import { RegressorWorkspace } from '../../model/regressor.js';
import { Workspace } from '../../model/workspace.js';
import { ADDING_BASELINE, copyBaseline, copySteps } from './generate.js';
import { type SyntheticModel, loadSyntheticModel } from './model-file.js';
import { scoreAdding, scoreCopy } from './score.js';

export type SyntheticScore =
  | { task: 'adding'; length: number; seed: number; sequences: number; mse: number; baseline_mse: number }
  | {
      task: 'copy';
      delay: number;
      seed: number;
      sequences: number;
      loss: number;
      accuracy: number;
      baseline_loss: number;
    };

/** Sequences per forward batch while scoring (does not change the result). */
const EVAL_BATCH = 128;

export function evaluateSyntheticModel(s: SyntheticModel, seed: number, sequences: number): SyntheticScore {
  if (s.task === 'adding') {
    const workspace = new RegressorWorkspace(s.model, s.length, Math.min(EVAL_BATCH, sequences));
    const mse = scoreAdding(workspace, s.length, seed, 'test', sequences);
    return { task: 'adding', length: s.length, seed, sequences, mse, baseline_mse: ADDING_BASELINE };
  }
  const workspace = new Workspace(s.model, copySteps(s.length), Math.min(EVAL_BATCH, sequences));
  const { loss, accuracy, sequences: scored } = scoreCopy(workspace, s.length, seed, 'test', sequences);
  return {
    task: 'copy',
    delay: s.length,
    seed,
    sequences: scored,
    loss,
    accuracy,
    baseline_loss: copyBaseline(s.length),
  };
}

export function evaluateSynthetic(dir: string, backend: Backend, seed: number, sequences: number): SyntheticScore {
  return evaluateSyntheticModel(loadSyntheticModel(dir, backend), seed, sequences);
}

export function formatSyntheticScore(s: SyntheticScore): string {
  if (s.task === 'adding') {
    return `adding problem, T = ${s.length}: test MSE ${s.mse.toFixed(5)} (predicting 1 always: ${s.baseline_mse.toFixed(4)}; ${s.sequences} sequences, test seed ${s.seed})`;
  }
  return `copy problem, delay ${s.delay}: test loss ${s.loss.toFixed(5)} nats/step, recall accuracy ${(s.accuracy * 100).toFixed(2)} % (memoryless: ${s.baseline_loss.toFixed(4)} nats/step, 12.5 %; ${s.sequences} sequences, test seed ${s.seed})`;
}
