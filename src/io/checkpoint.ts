// A checkpoint is a directory holding model.safetensors (its bytes: model-bytes.ts). A checkpoint written
// before tasks existed has no `task`: it is a language model.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import type { Vocabulary } from '../data/vocab.js';
import { badCheckpoint } from '../errors.js';
import type { Model } from '../model/model.js';
import { writeFileAtomic } from './atomic.js';
import { makeDirectories } from './mkdir.js';
import {
  type ModelFile,
  type TaskMetadata,
  type TaskSizes,
  languageModelMeta,
  languageModelSizes,
  modelFileContents,
  modelFileOf,
  modelFromFile,
  taskOf,
} from './model-bytes.js';
import { readSafetensorsFile, writeSafetensors } from './safetensors-file.js';

export { FORMAT_VERSION } from './model-bytes.js';
export type { ModelMetadata, TaskMetadata } from './model-bytes.js';
export const MODEL_FILE = 'model.safetensors';
/** A model file larger than this is refused before it is read. */
const MAX_MODEL_BYTES = 2 ** 31;

/** Writes model.safetensors for `model` with the task's metadata; returns its path. */
export function saveModelFile(dir: string, model: Model, taskMeta: TaskMetadata): string {
  makeDirectories(dir);
  const path = join(dir, MODEL_FILE);
  const { tensors, metadata } = modelFileContents(model, taskMeta);
  writeFileAtomic(path, (fd) => writeSafetensors(fd, tensors, metadata)); // in pieces: files over 2 GiB too
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
  return modelFileOf(readSafetensorsFile(path, MAX_MODEL_BYTES), path);
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
export function loadModelFile(
  dir: string,
  backend: Backend,
  task: string,
  sizes: TaskSizes,
): { model: Model; meta: Record<string, unknown>; path: string } {
  const file = readModelFile(dir);
  return { model: modelFromFile(file, backend, task, sizes, dir), meta: file.meta, path: file.path };
}

/** Loads a character language model and its vocabulary. */
export function loadModel(dir: string, backend: Backend): { model: Model; vocab: Vocabulary } {
  let vocab: Vocabulary | undefined;
  const { model } = loadModelFile(
    dir,
    backend,
    'lm',
    languageModelSizes((v) => (vocab = v)),
  );
  return { model, vocab: vocab! };
}
