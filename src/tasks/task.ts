// A task ties a model to its data, its loss and its metrics. The training loop (src/train) knows only this
// interface: everything else (optimizers, schedules, clipping, validation and early stopping, checkpoints,
// resume, signals, progress, metrics.jsonl) is shared by every task.
import { invalidInput } from '../errors.js';
import type { Model } from '../model/model.js';
import type { RecurrentStack } from '../model/stack.js';

export const TASK_NAMES = ['lm', 'classify', 'adding', 'copy', 'seq2seq', 'ctc'] as const;
export type TaskName = (typeof TASK_NAMES)[number];

/** Where the training data came from, with a fingerprint so that a resume on changed data is refused. */
export interface DataSource {
  /** An absolute path, or the name of a built-in data set. */
  source: string;
  /** Characters (lm) or examples (classify) read from it. */
  size: number;
  hash: string;
}

/** The position of a task's batcher: the next step reads batch `position` of epoch `epoch`. */
export interface DataCursor {
  epoch: number;
  position: number;
}

/** A validation pass: `loss` (mean, nats) drives early stopping and best/; `metrics` are reported beside it. */
export interface Validation {
  loss: number;
  metrics: Record<string, number>;
}

/** What the start line says about the data. */
export interface DataSummary {
  /** 'characters' or 'examples'. */
  unit: string;
  train: number;
  validation: number;
  vocabSize: number;
  /** What one step trains on, e.g. '1,024 tokens/step'. */
  perStep: string;
  /** Further facts worth one line each (e.g. how many inputs --max-len cut). */
  notes: string[];
}

/** One training run of a task: its model, its data and everything task-specific that moves as it trains. */
export interface TaskRun {
  readonly task: TaskName;
  readonly model: Model;
  readonly data: DataSource;
  readonly summary: DataSummary;
  /** The recurrent stack trainStep runs: built with stateGradients when --gradflow-every > 0, so that the
   *  trainer can record ‖∂L/∂h_t‖ of a step (src/train/gradflow.ts). */
  readonly stack: RecurrentStack;
  /** Steps per epoch, for the step schedule. */
  readonly stepsPerEpoch: number;
  cursor: DataCursor;
  /**
   * Reads the next batch, runs forward and backward and accumulates the gradient of the step's mean loss into
   * model.grads (zeroed by the caller). A dropout seed turns dropout on. Returns the mean loss and the real
   * (unpadded) tokens the step processed.
   */
  trainStep(dropoutSeed: number | undefined): { loss: number; tokens: number };
  /** After a step with a non-finite loss or gradient: drop state that must not flow on. */
  discardState(): void;
  /** Scores the validation split; null when the run has none. */
  validate(): Validation | null;
  /** A short text showing what the model does now (the language model's sample); null when the task has none. */
  sample(length: number, seed: number): string | null;
  /** Writes model.safetensors (PyTorch names, the task's metadata) into dir. */
  saveModel(dir: string): void;
  /** Task state besides parameters, optimizer and cursor (the LM's carried hidden state), to save and restore. */
  stateTensors(): Map<string, Float32Array>;
  restoreStateTensors(tensors: Map<string, Float32Array>): void;
  /** JSON describing the data side (vocabulary, labels, …) saved in trainer.safetensors for resume. */
  stateMeta(): Record<string, unknown>;
}

/** Refuses to continue a run whose data no longer has the size and fingerprint its checkpoint recorded. */
export function refuseChangedData(recorded: DataSource, now: Pick<DataSource, 'size' | 'hash'>, dir: string): void {
  if (now.hash !== recorded.hash || now.size !== recorded.size)
    throw invalidInput(`the training data (${recorded.source}) changed since the checkpoint in ${dir} was written`);
}
