// trainer.safetensors: everything a run needs to continue exactly where it stopped — the parameters, the
// optimizer state, the carried hidden state, the step, epoch and data cursor, the random generator, the
// schedule and early-stopping position, and the settings. It is self-contained (it holds the parameters
// too), so a crash between writing it and model.safetensors can never pair mismatched files.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Vocabulary } from '../data/vocab.js';
import { RnnkitError, badCheckpoint } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type TensorEntry, decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { type ModelConfig, validateConfig } from '../model/config.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig, validateTrainConfig } from './config.js';

export const TRAINER_FILE = 'trainer.safetensors';
const FORMAT = 1;
const MAX_TRAINER_BYTES = 2 ** 32;

/** The position of a run, saved with every checkpoint. */
export interface RunPosition {
  step: number;
  epoch: number;
  /** Batcher position within the epoch (the next step's chunk). */
  position: number;
  optimizerSteps: number;
  /** State of the dropout generator. */
  random: number[];
  /** The moving average of the loss, started at 0 (see `debiased` in trainer.ts). */
  smoothLoss: number;
  bestValLoss: number | null;
  evalsWithoutImprovement: number;
  skippedSteps: number;
  elapsedS: number;
}

/** Where the text came from and a fingerprint, so a resume on a changed text is refused. */
export interface TextSource {
  source: string;
  characters: number;
  hash: string;
}

export interface TrainerState {
  config: TrainConfig;
  model: ModelConfig;
  vocab: Vocabulary;
  text: TextSource;
  position: RunPosition;
  params: Float32Array;
  optimizer: Map<string, Float32Array>;
  /** Carried state per layer: h [B,H] and, for LSTM, c [B,H]. */
  hidden: { h: Float32Array; c: Float32Array | null }[];
}

/** FNV-1a over the UTF-16 code units: a cheap fingerprint of the training text. */
export function textHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

export function saveTrainerState(dir: string, s: TrainerState): void {
  const tensors: TensorEntry[] = [{ name: 'params', shape: [s.params.length], data: s.params }];
  for (const [name, data] of s.optimizer) tensors.push({ name: `optimizer.${name}`, shape: [data.length], data });
  s.hidden.forEach(({ h, c }, l) => {
    tensors.push({ name: `hidden.h_l${l}`, shape: [h.length], data: h });
    if (c) tensors.push({ name: `hidden.c_l${l}`, shape: [c.length], data: c });
  });
  const meta = { format: FORMAT, config: s.config, model: { ...s.model }, vocab: [...s.vocab.chars], text: s.text, position: s.position };
  writeFileAtomic(join(dir, TRAINER_FILE), encodeSafetensors(tensors, { rnnkit_trainer: JSON.stringify(meta) }));
}

function field<T>(path: string, value: T | undefined, name: string, ok: (v: T) => boolean): T {
  if (value === undefined || !ok(value)) throw badCheckpoint(`${path}: field ${name} is missing or invalid`);
  return value;
}

export function loadTrainerState(dir: string): TrainerState {
  const path = join(dir, TRAINER_FILE);
  if (!existsSync(path)) throw badCheckpoint(`${dir}: no ${TRAINER_FILE} here, so the run cannot be resumed (was it written by an older rnnkit, or is it not a run directory?)`);
  const size = statSync(path).size;
  if (size > MAX_TRAINER_BYTES) throw badCheckpoint(`${path}: ${size} bytes is larger than the ${MAX_TRAINER_BYTES}-byte limit`);
  const file = decodeSafetensors(readFileSync(path), path);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(file.metadata['rnnkit_trainer'] ?? 'null') as Record<string, unknown>;
  } catch {
    throw badCheckpoint(`${path}: the trainer metadata is not valid JSON`);
  }
  if (!meta || meta['format'] !== FORMAT) throw badCheckpoint(`${path}: no trainer metadata of format ${FORMAT}`);
  const isCount = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
  let config: TrainConfig, model: ModelConfig, vocab: Vocabulary;
  try {
    // Settings added since the checkpoint was written take their defaults.
    config = validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...(meta['config'] as TrainConfig) });
    vocab = new Vocabulary(field(path, meta['vocab'] as string[], 'vocab', Array.isArray));
    model = validateConfig({ ...(meta['model'] as ModelConfig), vocabSize: vocab.size });
  } catch (error) {
    if (error instanceof RnnkitError) throw badCheckpoint(`${path}: ${error.message}`);
    throw error;
  }
  const p = (meta['position'] ?? {}) as Partial<RunPosition>;
  const position: RunPosition = {
    step: field(path, p.step, 'position.step', isCount),
    epoch: field(path, p.epoch, 'position.epoch', isCount),
    position: field(path, p.position, 'position.position', isCount),
    optimizerSteps: field(path, p.optimizerSteps, 'position.optimizerSteps', isCount),
    random: field(path, p.random, 'position.random', (r) => Array.isArray(r) && r.length === 4 && r.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32)),
    smoothLoss: field(path, p.smoothLoss, 'position.smoothLoss', Number.isFinite),
    bestValLoss: p.bestValLoss === null ? null : field(path, p.bestValLoss, 'position.bestValLoss', Number.isFinite),
    evalsWithoutImprovement: field(path, p.evalsWithoutImprovement, 'position.evalsWithoutImprovement', isCount),
    skippedSteps: field(path, p.skippedSteps, 'position.skippedSteps', isCount),
    elapsedS: field(path, p.elapsedS, 'position.elapsedS', (v) => Number.isFinite(v) && v >= 0),
  };
  const t = (meta['text'] ?? {}) as Partial<TextSource>;
  const text: TextSource = {
    source: field(path, t.source, 'text.source', (v) => typeof v === 'string'),
    characters: field(path, t.characters, 'text.characters', isCount),
    hash: field(path, t.hash, 'text.hash', (v) => typeof v === 'string'),
  };
  const tensors = new Map(file.tensors.map((x) => [x.name, x.data]));
  const take = (name: string): Float32Array => {
    const data = tensors.get(name);
    if (!data) throw badCheckpoint(`${path}: tensor ${name} is missing`);
    tensors.delete(name);
    return data;
  };
  const params = take('params');
  const optimizer = new Map<string, Float32Array>();
  for (const name of [...tensors.keys()].filter((n) => n.startsWith('optimizer.'))) optimizer.set(name.slice('optimizer.'.length), take(name));
  const hidden = Array.from({ length: model.layers }, (_, l) => ({
    h: take(`hidden.h_l${l}`),
    c: model.cell === 'lstm' ? take(`hidden.c_l${l}`) : null,
  }));
  const extra = [...tensors.keys()];
  if (extra.length) throw badCheckpoint(`${path}: unexpected tensor ${extra[0]}`);
  return { config, model, vocab, text, position, params, optimizer, hidden };
}
