// trainer.safetensors: everything a run needs to continue exactly where it stopped — the parameters, the
// optimizer state, the task's own state (the language model's carried hidden state), the step and data
// cursor, the random generator, the schedule and early-stopping position, the settings, and the task's
// description of its data (vocabulary, labels). It is self-contained (it holds the parameters too), so a
// crash between writing it and model.safetensors can never pair mismatched files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { RnnkitError, badCheckpoint } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { describeNonFinite } from '../io/finite.js';
import { TRAINER_FILE, notResumable } from '../io/rundir.js';
import type { TensorEntry } from '../io/safetensors.js';
import { readSafetensorsFile, writeSafetensors } from '../io/safetensors-file.js';
import { type ModelConfig, validateConfig } from '../model/config.js';
import { type DataSource, TASK_NAMES, type TaskName } from '../tasks/task.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig, validateTrainConfig } from './config.js';

/** Format 1 (rnnkit before tasks) had `text` for `data` and the vocabulary at the top; it still loads. */
const FORMAT = 2;
const MAX_TRAINER_BYTES = 2 ** 32;

/** The position of a run, saved with every checkpoint. */
export interface RunPosition {
  step: number;
  epoch: number;
  /** Batcher position within the epoch (the next step's batch). */
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

export interface TrainerState {
  task: TaskName;
  config: TrainConfig;
  model: ModelConfig;
  /** The task's description of its data (TaskRun.stateMeta). */
  taskMeta: Record<string, unknown>;
  data: DataSource;
  position: RunPosition;
  params: Float32Array;
  optimizer: Map<string, Float32Array>;
  /** The task's own tensors (TaskRun.stateTensors), by name. */
  taskTensors: Map<string, Float32Array>;
}

const OPTIMIZER_PREFIX = 'optimizer.';
const TASK_PREFIX = 'task.';

export function saveTrainerState(dir: string, s: TrainerState): void {
  const tensors: TensorEntry[] = [{ name: 'params', shape: [s.params.length], data: s.params }];
  for (const [name, data] of s.optimizer) tensors.push({ name: OPTIMIZER_PREFIX + name, shape: [data.length], data });
  for (const [name, data] of s.taskTensors) tensors.push({ name: TASK_PREFIX + name, shape: [data.length], data });
  const meta = {
    format: FORMAT,
    task: s.task,
    config: s.config,
    model: { ...s.model },
    taskMeta: s.taskMeta,
    data: s.data,
    position: s.position,
  };
  writeFileAtomic(join(dir, TRAINER_FILE), (fd) =>
    writeSafetensors(fd, tensors, { rnnkit_trainer: JSON.stringify(meta) }),
  );
}

function field<T>(path: string, value: T | undefined, name: string, ok: (v: T) => boolean): T {
  if (value === undefined || !ok(value)) throw badCheckpoint(`${path}: field ${name} is missing or invalid`);
  return value;
}

/** Reads format 1 (a language model run) into format 2's shape. */
function upgradeFormat1(meta: Record<string, unknown>): Record<string, unknown> {
  const text = (meta['text'] ?? {}) as { source?: string; characters?: number; hash?: string };
  const vocab = meta['vocab'] as unknown[] | undefined;
  return {
    ...meta,
    format: FORMAT,
    task: 'lm',
    taskMeta: { vocab },
    model: { ...(meta['model'] as object), vocabSize: Array.isArray(vocab) ? vocab.length : undefined },
    data: { source: text.source, size: text.characters, hash: text.hash },
  };
}

export function loadTrainerState(dir: string): TrainerState {
  const path = join(dir, TRAINER_FILE);
  if (!existsSync(path)) throw notResumable(dir);
  const file = readSafetensorsFile(path, MAX_TRAINER_BYTES);
  const nonFinite = describeNonFinite(file.tensors);
  if (nonFinite) throw badCheckpoint(`${path}: ${nonFinite}; a checkpoint must hold finite numbers only`);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(file.metadata['rnnkit_trainer'] ?? 'null') as Record<string, unknown>;
  } catch {
    throw badCheckpoint(`${path}: the trainer metadata is not valid JSON`);
  }
  if (meta && meta['format'] === 1) meta = upgradeFormat1(meta);
  if (!meta || meta['format'] !== FORMAT) throw badCheckpoint(`${path}: no trainer metadata of format ${FORMAT}`);
  const isCount = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
  const task = field(path, meta['task'] as TaskName, 'task', (t) => (TASK_NAMES as readonly string[]).includes(t));
  const isObject = (m: object): boolean => typeof m === 'object' && m !== null && !Array.isArray(m);
  const taskMeta = field(path, meta['taskMeta'] as Record<string, unknown>, 'taskMeta', isObject);
  let config: TrainConfig, model: ModelConfig;
  try {
    // Settings added since the checkpoint was written take their defaults.
    config = validateTrainConfig({
      ...DEFAULT_TRAIN_CONFIG,
      ...field(path, meta['config'] as TrainConfig, 'config', isObject),
    });
    model = validateConfig({ ...field(path, meta['model'] as ModelConfig, 'model', isObject) });
  } catch (error) {
    if (error instanceof RnnkitError) throw badCheckpoint(`${path}: ${error.message}`);
    throw error;
  }
  const p = field(path, meta['position'] as Partial<RunPosition>, 'position', isObject);
  const position: RunPosition = {
    step: field(path, p.step, 'position.step', isCount),
    epoch: field(path, p.epoch, 'position.epoch', isCount),
    position: field(path, p.position, 'position.position', isCount),
    optimizerSteps: field(path, p.optimizerSteps, 'position.optimizerSteps', isCount),
    random: field(
      path,
      p.random,
      'position.random',
      (r) => Array.isArray(r) && r.length === 4 && r.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32),
    ),
    smoothLoss: field(path, p.smoothLoss, 'position.smoothLoss', Number.isFinite),
    bestValLoss: p.bestValLoss === null ? null : field(path, p.bestValLoss, 'position.bestValLoss', Number.isFinite),
    evalsWithoutImprovement: field(path, p.evalsWithoutImprovement, 'position.evalsWithoutImprovement', isCount),
    skippedSteps: field(path, p.skippedSteps, 'position.skippedSteps', isCount),
    elapsedS: field(path, p.elapsedS, 'position.elapsedS', (v) => Number.isFinite(v) && v >= 0),
  };
  const d = field(path, meta['data'] as Partial<DataSource>, 'data', isObject);
  const data: DataSource = {
    source: field(path, d.source, 'data.source', (v) => typeof v === 'string'),
    size: field(path, d.size, 'data.size', isCount),
    hash: field(path, d.hash, 'data.hash', (v) => typeof v === 'string'),
  };
  let params: Float32Array | undefined;
  const optimizer = new Map<string, Float32Array>();
  const taskTensors = new Map<string, Float32Array>();
  for (const { name, data: values } of file.tensors) {
    if (name === 'params') params = values;
    else if (name.startsWith(OPTIMIZER_PREFIX)) optimizer.set(name.slice(OPTIMIZER_PREFIX.length), values);
    else if (name.startsWith(TASK_PREFIX)) taskTensors.set(name.slice(TASK_PREFIX.length), values);
    else if (name.startsWith('hidden.'))
      taskTensors.set(name, values); // format 1's carried state
    else throw badCheckpoint(`${path}: unexpected tensor ${name}`);
  }
  if (!params) throw badCheckpoint(`${path}: tensor params is missing`);
  return { task, config, model, taskMeta, data, position, params, optimizer, taskTensors };
}
