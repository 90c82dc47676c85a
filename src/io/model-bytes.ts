// model.safetensors as bytes: what a checkpoint file holds (the weights under PyTorch's names, the model's
// shape and its task's metadata as JSON under the metadata key `rnnkit`), with no file system, so that the
// browser entry reads and writes exactly the files the CLI does. checkpoint.ts puts these bytes on disk.
import type { Backend } from '../backend/types.js';
import { Vocabulary } from '../data/vocab.js';
import { RnnkitError, badCheckpoint } from '../errors.js';
import { type ModelConfig, parameterSpecs, validateConfig } from '../model/config.js';
import { Model } from '../model/model.js';
import { describeNonFinite } from './finite.js';
import { type SafetensorsFile, decodeSafetensors, encodeSafetensors } from './safetensors.js';

export const FORMAT_VERSION = 1;

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

/** The input vocabulary size and the head's rows (and, for a model of float frames, their width; for an
 *  encoder-decoder, its architecture), read by a task from its own metadata keys. */
export type TaskSizes = (
  meta: Record<string, unknown>,
  path: string,
) => { vocabSize: number; outputs: number; frameWidth?: number; architecture?: 'seq2seq' };

/** What model.safetensors holds for `model` with the task's metadata: its tensors and metadata. */
export function modelFileContents(model: Model, taskMeta: TaskMetadata): SafetensorsFile {
  const { cell, nonlinearity, hidden, layers, embed, bidirectional } = model.config;
  const { task, ...rest } = taskMeta;
  const meta = {
    format: FORMAT_VERSION,
    task,
    cell,
    nonlinearity,
    hidden,
    layers,
    embed,
    ...(bidirectional ? { bidirectional } : {}),
    ...rest,
  };
  const tensors = model.params.tensors.map((t) => ({
    name: t.name,
    shape: t.shape,
    data: Float32Array.from(t.view.data),
  }));
  return { tensors, metadata: { rnnkit: JSON.stringify(meta) } };
}

/** The bytes of model.safetensors for `model` with the task's metadata. */
export function encodeModelFile(model: Model, taskMeta: TaskMetadata): Uint8Array {
  const { tensors, metadata } = modelFileContents(model, taskMeta);
  return encodeSafetensors(tensors, metadata);
}

/** The character language model's metadata. */
export const languageModelMeta = (vocab: Vocabulary): TaskMetadata => ({ task: 'lm', vocab: [...vocab.chars] });

export interface ModelFile {
  /** Names the file in error messages. */
  path: string;
  meta: Record<string, unknown>;
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
}

/** Decodes model.safetensors with its metadata object (not yet checked against a task); `path` names it in errors. */
export function decodeModelFile(bytes: Uint8Array, path: string): ModelFile {
  return modelFileOf(decodeSafetensors(bytes, path), path);
}

/** A parsed model.safetensors checked as a model file: finite tensors, rnnkit metadata of a known format. */
export function modelFileOf(file: SafetensorsFile, path: string): ModelFile {
  const nonFinite = describeNonFinite(file.tensors);
  if (nonFinite) throw badCheckpoint(`${path}: ${nonFinite}; a checkpoint must hold finite numbers only`);
  const raw = file.metadata['rnnkit'];
  if (raw === undefined)
    throw badCheckpoint(
      `${path}: no rnnkit metadata (was it written by rnnkit, or by PyTorch without the rnnkit metadata?)`,
    );
  let meta: unknown;
  try {
    meta = JSON.parse(raw);
  } catch {
    throw badCheckpoint(`${path}: the rnnkit metadata is not valid JSON`);
  }
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    throw badCheckpoint(`${path}: the rnnkit metadata is not a JSON object`);
  const m = meta as Record<string, unknown>;
  if (m['format'] !== FORMAT_VERSION)
    throw badCheckpoint(`${path}: format ${String(m['format'])} is not supported (expected ${FORMAT_VERSION})`);
  return { path, meta: m, tensors: new Map(file.tensors.map((t) => [t.name, t] as const)) };
}

/** The task a decoded model file was trained for (a file from before tasks is a language model). */
export const taskOf = (file: ModelFile): string => (typeof file.meta['task'] === 'string' ? file.meta['task'] : 'lm');

/** The model config of the metadata, with the sizes the task read from its own keys. */
function configOf(file: ModelFile, sizes: ReturnType<TaskSizes>): ModelConfig {
  const meta = file.meta as Partial<ModelMetadata>;
  const config = validateConfig({
    cell: meta.cell!,
    nonlinearity: meta.nonlinearity ?? 'tanh',
    hidden: meta.hidden!,
    layers: meta.layers!,
    embed: meta.embed!,
    vocabSize: sizes.vocabSize,
    // Only what differs from a language model's defaults, so that its config reads as before.
    ...(meta.bidirectional !== undefined ? { bidirectional: meta.bidirectional } : {}),
    ...(sizes.outputs !== sizes.vocabSize || sizes.architecture ? { outputs: sizes.outputs } : {}),
    ...(sizes.architecture ? { architecture: sizes.architecture } : {}),
    ...(sizes.frameWidth !== undefined ? { frameWidth: sizes.frameWidth } : {}),
  });
  for (const spec of parameterSpecs(config)) {
    const t = file.tensors.get(spec.name);
    if (!t) throw badCheckpoint(`${file.path}: tensor ${spec.name} is missing`);
    if (JSON.stringify(t.shape) !== JSON.stringify(spec.shape)) {
      throw badCheckpoint(
        `${file.path}: tensor ${spec.name} has shape ${JSON.stringify(t.shape)} but the config needs ${JSON.stringify(spec.shape)}`,
      );
    }
  }
  const specNames = new Set(parameterSpecs(config).map((s) => s.name));
  const extra = [...file.tensors.keys()].find((name) => !specNames.has(name));
  if (extra) throw badCheckpoint(`${file.path}: unexpected tensor ${extra} for this config`);
  return config;
}

/**
 * The model of a decoded file of `task` on `backend`. `where` names the checkpoint when another task's
 * model is refused (naming both).
 */
export function modelFromFile(file: ModelFile, backend: Backend, task: string, sizes: TaskSizes, where: string): Model {
  const actual = taskOf(file);
  if (actual !== task)
    throw badCheckpoint(
      `${where} holds a model of task ${actual} (trained with --task ${actual}); this command needs a model of task ${task}`,
    );
  let config: ModelConfig;
  try {
    config = configOf(file, sizes(file.meta, file.path));
  } catch (error) {
    if (error instanceof RnnkitError && !error.message.startsWith(file.path))
      throw badCheckpoint(`${file.path}: ${error.message}`);
    throw error;
  }
  const model = new Model(backend, config);
  for (const t of model.params.tensors) t.view.data.set(file.tensors.get(t.name)!.data);
  return model;
}

/** The language model's sizes: its vocabulary (checked) from the metadata. */
export function languageModelSizes(onVocab: (vocab: Vocabulary) => void): TaskSizes {
  return (meta, path) => {
    const chars = meta['vocab'];
    if (!Array.isArray(chars) || !chars.every((c) => typeof c === 'string'))
      throw badCheckpoint(`${path}: vocab must be an array of strings`);
    if (meta['bidirectional'] === true) throw badCheckpoint(`${path}: a language model cannot be bidirectional`);
    const vocab = new Vocabulary(chars);
    onVocab(vocab);
    return { vocabSize: vocab.size, outputs: vocab.size };
  };
}

/** A character language model and its vocabulary from the bytes of its model.safetensors. */
export function decodeLanguageModel(
  bytes: Uint8Array,
  backend: Backend,
  path = 'model.safetensors',
): { model: Model; vocab: Vocabulary } {
  let vocab: Vocabulary | undefined;
  const model = modelFromFile(
    decodeModelFile(bytes, path),
    backend,
    'lm',
    languageModelSizes((v) => (vocab = v)),
    path,
  );
  return { model, vocab: vocab! };
}
