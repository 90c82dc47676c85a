// A checkpoint of a generated task: model.safetensors with the task's metadata — the frame width `inputs`
// (float frames or one-hot symbols: no vocabulary), the head's `outputs`, and the sequence length (adding)
// or delay (copy) it was trained on.
import type { Backend } from '../../backend/types.js';
import { badCheckpoint } from '../../errors.js';
import { checkpointTask, loadModelFile, saveModelFile } from '../../io/checkpoint.js';
import type { Model } from '../../model/model.js';

export type SyntheticTask = 'adding' | 'copy';
export const SYNTHETIC_TASKS: readonly SyntheticTask[] = ['adding', 'copy'];

export interface SyntheticModel {
  task: SyntheticTask;
  model: Model;
  /** The adding problem's T, or the copy problem's delay. */
  length: number;
}

const lengthKey = (task: SyntheticTask): string => (task === 'adding' ? 'length' : 'delay');

export function saveSyntheticModel(dir: string, s: SyntheticModel): void {
  const { vocabSize, outputs } = s.model.config;
  saveModelFile(dir, s.model, {
    task: s.task,
    inputs: vocabSize,
    outputs: outputs ?? vocabSize,
    [lengthKey(s.task)]: s.length,
  });
}

const positive = (meta: Record<string, unknown>, key: string, path: string, min: number): number => {
  const value = meta[key];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min)
    throw badCheckpoint(`${path}: ${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
};

/** Loads the model of an adding or copy checkpoint (refusing any other task's, naming it). */
export function loadSyntheticModel(dir: string, backend: Backend): SyntheticModel {
  const task = checkpointTask(dir);
  if (!(SYNTHETIC_TASKS as readonly string[]).includes(task))
    throw badCheckpoint(`${dir} holds a model of task ${task}; this needs a model of task adding or copy`);
  const t = task as SyntheticTask;
  const { model, meta, path } = loadModelFile(dir, backend, t, (meta, path) => ({
    vocabSize: positive(meta, 'inputs', path, 2),
    outputs: positive(meta, 'outputs', path, 1),
  }));
  return { task: t, model, length: positive(meta, lengthKey(t), path, t === 'adding' ? 2 : 1) };
}
