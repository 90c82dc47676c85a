// A checkpoint is a directory holding model.safetensors: the weights under PyTorch's names and shapes, with
// the model config and vocabulary as JSON under the metadata key `rnnkit`.
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { Vocabulary } from '../data/vocab.js';
import { RnnkitError, badCheckpoint } from '../errors.js';
import { type ModelConfig, parameterSpecs, validateConfig } from '../model/config.js';
import { Model } from '../model/model.js';
import { writeFileAtomic } from './atomic.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

export const FORMAT_VERSION = 1;
export const MODEL_FILE = 'model.safetensors';
/** A model file larger than this is refused before it is read. */
const MAX_MODEL_BYTES = 2 ** 31;

export interface ModelMetadata {
  format: number;
  cell: ModelConfig['cell'];
  nonlinearity: ModelConfig['nonlinearity'];
  hidden: number;
  layers: number;
  embed: number;
  vocab: string[];
  /** Written when the config sets it; absent (older checkpoints, language models): false. */
  bidirectional?: boolean;
  /** Written when the config sets it; absent (older checkpoints, language models): the vocabulary size. */
  outputs?: number;
}

export function saveModel(dir: string, model: Model, vocab: Vocabulary): string {
  mkdirSync(dir, { recursive: true });
  const { cell, nonlinearity, hidden, layers, embed, bidirectional, outputs } = model.config;
  const meta: ModelMetadata = {
    format: FORMAT_VERSION, cell, nonlinearity, hidden, layers, embed, vocab: [...vocab.chars],
    ...(bidirectional !== undefined ? { bidirectional } : {}),
    ...(outputs !== undefined ? { outputs } : {}),
  };
  const tensors = model.params.tensors.map((t) => ({ name: t.name, shape: t.shape, data: Float32Array.from(t.view.data) }));
  const path = join(dir, MODEL_FILE);
  writeFileAtomic(path, encodeSafetensors(tensors, { rnnkit: JSON.stringify(meta) }));
  return path;
}

function parseMetadata(raw: string | undefined, path: string): { config: ModelConfig; vocab: Vocabulary } {
  if (raw === undefined) throw badCheckpoint(`${path}: no rnnkit metadata (was it written by rnnkit, or by PyTorch without the rnnkit metadata?)`);
  let meta: Partial<ModelMetadata>;
  try {
    meta = JSON.parse(raw) as Partial<ModelMetadata>;
  } catch {
    throw badCheckpoint(`${path}: the rnnkit metadata is not valid JSON`);
  }
  if (meta.format !== FORMAT_VERSION) throw badCheckpoint(`${path}: format ${String(meta.format)} is not supported (expected ${FORMAT_VERSION})`);
  if (!Array.isArray(meta.vocab) || !meta.vocab.every((c) => typeof c === 'string')) throw badCheckpoint(`${path}: vocab must be an array of strings`);
  try {
    const vocab = new Vocabulary(meta.vocab);
    const config = validateConfig({
      cell: meta.cell!, nonlinearity: meta.nonlinearity ?? 'tanh', hidden: meta.hidden!, layers: meta.layers!, embed: meta.embed!, vocabSize: vocab.size,
      ...(meta.bidirectional !== undefined ? { bidirectional: meta.bidirectional } : {}),
      ...(meta.outputs !== undefined ? { outputs: meta.outputs } : {}),
    });
    return { config, vocab };
  } catch (error) {
    if (error instanceof RnnkitError) throw badCheckpoint(`${path}: ${error.message}`);
    throw error;
  }
}

/** Reads and validates a checkpoint directory without building a model. */
export function readCheckpoint(dir: string): { config: ModelConfig; vocab: Vocabulary; tensors: Map<string, Float32Array> } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw badCheckpoint(`${dir}: not a checkpoint directory`);
  const path = join(dir, MODEL_FILE);
  if (!existsSync(path)) throw badCheckpoint(`${dir}: no ${MODEL_FILE} in this directory`);
  const size = statSync(path).size;
  if (size > MAX_MODEL_BYTES) throw badCheckpoint(`${path}: ${size} bytes is larger than the ${MAX_MODEL_BYTES}-byte limit`);
  const file = decodeSafetensors(readFileSync(path), path);
  const { config, vocab } = parseMetadata(file.metadata['rnnkit'], path);
  const tensors = new Map(file.tensors.map((t) => [t.name, t] as const));
  for (const spec of parameterSpecs(config)) {
    const t = tensors.get(spec.name);
    if (!t) throw badCheckpoint(`${path}: tensor ${spec.name} is missing`);
    if (JSON.stringify(t.shape) !== JSON.stringify(spec.shape)) {
      throw badCheckpoint(`${path}: tensor ${spec.name} has shape ${JSON.stringify(t.shape)} but the config needs ${JSON.stringify(spec.shape)}`);
    }
    tensors.delete(spec.name);
  }
  const extra = [...tensors.keys()];
  if (extra.length) throw badCheckpoint(`${path}: unexpected tensor ${extra[0]} for this config`);
  return { config, vocab, tensors: new Map(file.tensors.map((t) => [t.name, t.data] as const)) };
}

export function loadModel(dir: string, backend: Backend): { model: Model; vocab: Vocabulary } {
  const { config, vocab, tensors } = readCheckpoint(dir);
  const model = new Model(backend, config);
  for (const t of model.params.tensors) t.view.data.set(tensors.get(t.name)!);
  return { model, vocab };
}
