// A checkpoint is a directory holding model.safetensors: the weights under PyTorch's names and shapes, with
// the model's shape and its task's metadata (the task, its vocabulary, labels, …) as JSON under the metadata
// key `rnnkit`. A checkpoint written before tasks existed has no `task`: it is a language model.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { Vocabulary } from '../data/vocab.js';
import { RnnkitError, badCheckpoint } from '../errors.js';
import { type ModelConfig, parameterSpecs, validateConfig } from '../model/config.js';
import { Model } from '../model/model.js';
import { writeFileAtomic } from './atomic.js';
import { makeDirectories } from './mkdir.js';
import { describeNonFinite } from './finite.js';
import { readSafetensorsFile, writeSafetensors } from './safetensors.js';

export const FORMAT_VERSION = 1;
export const MODEL_FILE = 'model.safetensors';
/** A model file larger than this is refused before it is read. */
const MAX_MODEL_BYTES = 2 ** 31;

/** What every model file's metadata holds; each task adds its own keys (see TaskMetadata). */
export interface ModelMetadata {
  format: number;
  task?: string;
  cell: ModelConfig['cell'];
  nonlinearity: ModelConfig['nonlinearity'];
  hidden: number;
  layers: number;
  embed: number;
  bidirectional?: boolean;
}

/** A task's keys in the metadata: at least its name. */
export type TaskMetadata = { task: string } & Record<string, unknown>;

/** Writes model.safetensors for `model` with the task's metadata; returns its path. */
export function saveModelFile(dir: string, model: Model, taskMeta: TaskMetadata): string {
  makeDirectories(dir);
  const { cell, nonlinearity, hidden, layers, embed, bidirectional } = model.config;
  const { task, ...rest } = taskMeta;
  const meta = { format: FORMAT_VERSION, task, cell, nonlinearity, hidden, layers, embed, ...(bidirectional ? { bidirectional } : {}), ...rest };
  const tensors = model.params.tensors.map((t) => ({ name: t.name, shape: t.shape, data: Float32Array.from(t.view.data) }));
  const path = join(dir, MODEL_FILE);
  writeFileAtomic(path, (fd) => writeSafetensors(fd, tensors, { rnnkit: JSON.stringify(meta) }));
  return path;
}

/** The character language model's file. */
export function saveModel(dir: string, model: Model, vocab: Vocabulary): string {
  return saveModelFile(dir, model, { task: 'lm', vocab: [...vocab.chars] });
}

interface ModelFile {
  path: string;
  meta: Record<string, unknown>;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Reads and decodes model.safetensors, with its metadata object (not yet checked against a task). */
function readModelFile(dir: string): ModelFile {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw badCheckpoint(`${dir}: not a checkpoint directory`);
  const path = join(dir, MODEL_FILE);
  if (!existsSync(path)) throw badCheckpoint(`${dir}: no ${MODEL_FILE} in this directory`);
  const file = readSafetensorsFile(path, MAX_MODEL_BYTES);
  const nonFinite = describeNonFinite(file.tensors);
  if (nonFinite) throw badCheckpoint(`${path}: ${nonFinite}; a checkpoint must hold finite numbers only`);
  const raw = file.metadata['rnnkit'];
  if (raw === undefined) throw badCheckpoint(`${path}: no rnnkit metadata (was it written by rnnkit, or by PyTorch without the rnnkit metadata?)`);
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch {
    throw badCheckpoint(`${path}: the rnnkit metadata is not valid JSON`);
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) throw badCheckpoint(`${path}: the rnnkit metadata is not a JSON object`);
  const m = meta as Record<string, unknown>;
  if (m['format'] !== FORMAT_VERSION) throw badCheckpoint(`${path}: format ${String(m['format'])} is not supported (expected ${FORMAT_VERSION})`);
  return { path, meta: m, tensors: new Map(file.tensors.map((t) => [t.name, t] as const)) };
}

/** The task a checkpoint was trained for. */
export function checkpointTask(dir: string): string {
  const { meta } = readModelFile(dir);
  return typeof meta['task'] === 'string' ? meta['task'] : 'lm';
}

/** The model config of the metadata, with the sizes the task read from its own keys. */
function configOf(file: ModelFile, sizes: { vocabSize: number; outputs: number }): ModelConfig {
  const meta = file.meta as Partial<ModelMetadata>;
  const config = validateConfig({
    cell: meta.cell!, nonlinearity: meta.nonlinearity ?? 'tanh', hidden: meta.hidden!, layers: meta.layers!, embed: meta.embed!,
    vocabSize: sizes.vocabSize,
    // Only what differs from a language model's defaults, so that its config reads as before.
    ...(meta.bidirectional !== undefined ? { bidirectional: meta.bidirectional } : {}),
    ...(sizes.outputs !== sizes.vocabSize ? { outputs: sizes.outputs } : {}),
  });
  for (const spec of parameterSpecs(config)) {
    const t = file.tensors.get(spec.name);
    if (!t) throw badCheckpoint(`${file.path}: tensor ${spec.name} is missing`);
    if (JSON.stringify(t.shape) !== JSON.stringify(spec.shape)) {
      throw badCheckpoint(`${file.path}: tensor ${spec.name} has shape ${JSON.stringify(t.shape)} but the config needs ${JSON.stringify(spec.shape)}`);
    }
  }
  const specNames = new Set(parameterSpecs(config).map((s) => s.name));
  const extra = [...file.tensors.keys()].find((name) => !specNames.has(name));
  if (extra) throw badCheckpoint(`${file.path}: unexpected tensor ${extra} for this config`);
  return config;
}

/**
 * Loads the model of a checkpoint of `task`. `sizes` reads the task's own metadata (vocabulary, labels) and
 * returns the input vocabulary size and the head's rows. A checkpoint of another task is refused, naming both.
 */
export function loadModelFile(
  dir: string, backend: Backend, task: string, sizes: (meta: Record<string, unknown>, path: string) => { vocabSize: number; outputs: number },
): { model: Model; meta: Record<string, unknown>; path: string } {
  const file = readModelFile(dir);
  const actual = typeof file.meta['task'] === 'string' ? file.meta['task'] : 'lm';
  if (actual !== task) throw badCheckpoint(`${dir} holds a model of task ${actual} (trained with --task ${actual}); this command needs a model of task ${task}`);
  let config: ModelConfig;
  try {
    config = configOf(file, sizes(file.meta, file.path));
  } catch (error) {
    if (error instanceof RnnkitError && !error.message.startsWith(file.path)) throw badCheckpoint(`${file.path}: ${error.message}`);
    throw error;
  }
  const model = new Model(backend, config);
  for (const t of model.params.tensors) t.view.data.set(file.tensors.get(t.name)!.data);
  return { model, meta: file.meta, path: file.path };
}

/** Loads a character language model and its vocabulary. */
export function loadModel(dir: string, backend: Backend): { model: Model; vocab: Vocabulary } {
  let vocab: Vocabulary | undefined;
  const { model } = loadModelFile(dir, backend, 'lm', (meta, path) => {
    const chars = meta['vocab'];
    if (!Array.isArray(chars) || !chars.every((c) => typeof c === 'string')) throw badCheckpoint(`${path}: vocab must be an array of strings`);
    if (meta['bidirectional'] === true) throw badCheckpoint(`${path}: a language model cannot be bidirectional`);
    vocab = new Vocabulary(chars);
    return { vocabSize: vocab.size, outputs: vocab.size };
  });
  return { model, vocab: vocab! };
}
