// A checkpoint is a directory holding model.safetensors (its bytes: model-bytes.ts). A checkpoint written
// before tasks existed has no `task`: it is a language model.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import type { Vocabulary } from '../data/vocab.js';
import { badCheckpoint } from '../errors.js';
import type { Model } from '../model/model.js';
import { writeFileAtomic } from './atomic.js';
import { type ModelFile, type TaskMetadata, type TaskSizes, decodeModelFile, encodeModelFile, languageModelMeta, languageModelSizes, modelFromFile, taskOf } from './model-bytes.js';

export { FORMAT_VERSION } from './model-bytes.js';
export type { ModelMetadata, TaskMetadata } from './model-bytes.js';
export const MODEL_FILE = 'model.safetensors';
/** A model file larger than this is refused before it is read. */
const MAX_MODEL_BYTES = 2 ** 31;

/** Writes model.safetensors for `model` with the task's metadata; returns its path. */
export function saveModelFile(dir: string, model: Model, taskMeta: TaskMetadata): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, MODEL_FILE);
  writeFileAtomic(path, encodeModelFile(model, taskMeta));
  return path;
}

/** The character language model's file. */
export function saveModel(dir: string, model: Model, vocab: Vocabulary): string {
  return saveModelFile(dir, model, languageModelMeta(vocab));
}

/** Reads and decodes model.safetensors, with its metadata object (not yet checked against a task). */
function readModelFile(dir: string): ModelFile {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw badCheckpoint(`${dir}: not a checkpoint directory`);
  const path = join(dir, MODEL_FILE);
  if (!existsSync(path)) throw badCheckpoint(`${dir}: no ${MODEL_FILE} in this directory`);
  const size = statSync(path).size;
  if (size > MAX_MODEL_BYTES) throw badCheckpoint(`${path}: ${size} bytes is larger than the ${MAX_MODEL_BYTES}-byte limit`);
  return decodeModelFile(readFileSync(path), path);
}

/** The task a checkpoint was trained for. */
export function checkpointTask(dir: string): string {
  return taskOf(readModelFile(dir));
}

/** The names of the tensors in a checkpoint's model file (read and checked, not loaded into a model). */
export function checkpointTensorNames(dir: string): string[] {
  return [...readModelFile(dir).tensors.keys()];
}

/**
 * Loads the model of a checkpoint of `task`. `sizes` reads the task's own metadata (vocabulary, labels) and
 * returns the input vocabulary size and the head's rows. A checkpoint of another task is refused, naming both.
 */
export function loadModelFile(dir: string, backend: Backend, task: string, sizes: TaskSizes): { model: Model; meta: Record<string, unknown>; path: string } {
  const file = readModelFile(dir);
  return { model: modelFromFile(file, backend, task, sizes, dir), meta: file.meta, path: file.path };
}

/** Loads a character language model and its vocabulary. */
export function loadModel(dir: string, backend: Backend): { model: Model; vocab: Vocabulary } {
  let vocab: Vocabulary | undefined;
  const { model } = loadModelFile(dir, backend, 'lm', languageModelSizes((v) => (vocab = v)));
  return { model, vocab: vocab! };
}
