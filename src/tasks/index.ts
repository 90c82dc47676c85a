// The tasks rnnkit trains, and the entry points that start or continue a run of any of them. The CLI and
// the library map a task name to its module here and nowhere else.
import type { Backend } from '../backend/types.js';
import { BUILTIN_CORPUS, readSource } from '../data/corpus.js';
import { invalidOption } from '../errors.js';
import { claimRunDir } from '../io/rundir.js';
import type { Model } from '../model/model.js';
import {
  DEFAULT_TRAIN_CONFIG,
  type RunHooks,
  Run,
  type ShapeOptions,
  type TrainConfig,
  type TrainResult,
  TRAIN_CONFIG_KEYS,
  execute,
  refuseUnknownKeys,
  resumeRun,
  validateTrainConfig,
} from '../train/trainer.js';
import { differsFrom, refuseIneffective } from '../train/ineffective.js';
import type { TrainerState } from '../train/state.js';
import type { ClassifyDataset } from './classify/dataset.js';
import { readClassifyFile } from './classify/dataset.js';
import { SPAM_ASSASSIN, loadSpamAssassin } from './classify/spam.js';
import { createClassifierRun, restoreClassifierRun } from './classify/task.js';
import { createLanguageModelRun, restoreLanguageModelRun } from './lm.js';
import { AddingRun, checkGenerated, createAddingRun } from './synthetic/adding.js';
import { CopyRun, createCopyRun } from './synthetic/copy.js';
import { CMUDICT } from './seq2seq/cmudict.js';
import { createSeq2SeqRun, restoreSeq2SeqRun } from './seq2seq/task.js';
import { createCtcRun, restoreCtcRun } from './ctc/task.js';
import type { TaskName, TaskRun } from './task.js';

export interface TrainRequest extends RunHooks {
  /** The language model's training text (default: read from `source`). */
  text?: string;
  /** Where the data comes from: a file path, or a built-in data set's name (the language model's
   *  'moby-dick', the classifier's 'spam-assassin'); recorded for --resume. */
  source?: string;
  config: TrainConfig;
  backend: Backend;
  /** The run directory, or a function that claims one: called only once the data has been read and checked,
   *  so that bad input leaves nothing behind (the CLI's default directory). */
  out: string | (() => string);
  /** Start from this checkpoint's weights; its shape and vocabulary win, `explicitShape` must agree. */
  initFrom?: string;
  explicitShape?: Partial<ShapeOptions>;
  /** Replace the run in `out` (only rnnkit's files: a directory holding others is refused even so). */
  force?: boolean;
}

/**
 * What differs from DEFAULT_TRAIN_CONFIG (min-char-rnn's language model) when a task is chosen: a
 * classifier of emails-sized inputs that trains to a useful accuracy in minutes natively (README, classify).
 */
export const TASK_DEFAULTS: Record<TaskName, Partial<TrainConfig>> = {
  lm: {},
  classify: {
    cell: 'lstm',
    hidden: 128,
    embed: 32,
    bidirectional: true,
    pool: 'max',
    maxLen: 1000,
    batch: 32,
    steps: 1600,
    lrSchedule: 'cosine',
    optimizer: 'adam',
    lr: 2e-3,
    clipValue: 0,
    clipNorm: 1,
    valFrac: 0.2,
    evalEvery: 200,
    logEvery: 20,
    saveEvery: 200,
    sampleEvery: 0,
  },
  // Arjovsky et al. 2016's sizes for both (128 units; adaptive steps: here Adam, clipping the global norm at
  // 1), batches of 32 generated afresh every step. The adding problem's rate is 1e-2: with 1e-3 an LSTM sat
  // on the baseline for 1,250 steps at T = 50 and 2,300 at T = 200; with 1e-2 it solved T = 50 in 750.
  adding: {
    cell: 'lstm',
    hidden: 128,
    embed: 0,
    batch: 32,
    steps: 5000,
    optimizer: 'adam',
    lr: 1e-2,
    clipValue: 0,
    clipNorm: 1,
    evalEvery: 250,
    logEvery: 50,
    saveEvery: 1000,
    sampleEvery: 0,
  },
  // The README's CMUdict run: a bidirectional LSTM encoder and an LSTM decoder of 256 units with attention.
  // The CMUdict goal's run (README, Results on CMUdict): two layers with dropout between the encoder's and
  // label smoothing beat one layer trained for twice the steps (26.6 % WER) in the same 45 minutes.
  seq2seq: {
    cell: 'lstm',
    hidden: 256,
    embed: 64,
    layers: 2,
    dropout: 0.2,
    labelSmoothing: 0.1,
    bidirectional: true,
    batch: 64,
    steps: 24000,
    optimizer: 'adam',
    lr: 2e-3,
    lrSchedule: 'cosine',
    clipValue: 0,
    clipNorm: 1,
    valFrac: 0.05,
    evalEvery: 4000,
    logEvery: 50,
    saveEvery: 2000,
    sampleEvery: 0,
  },
  copy: {
    cell: 'lstm',
    hidden: 128,
    embed: 0,
    batch: 32,
    steps: 5000,
    optimizer: 'adam',
    lr: 1e-3,
    clipValue: 0,
    clipNorm: 1,
    evalEvery: 250,
    logEvery: 50,
    saveEvery: 1000,
    sampleEvery: 0,
  },
  // A bidirectional GRU over 3 stacked log-mel frames (30 ms each), batches of similar length, Adam with a
  // cosine decay: the spoken-digit recogniser of the README trains in this shape.
  ctc: {
    cell: 'gru',
    hidden: 128,
    layers: 2,
    embed: 0,
    bidirectional: true,
    stack: 3,
    batch: 16,
    steps: 3000,
    lrSchedule: 'cosine',
    warmup: 100,
    optimizer: 'adam',
    lr: 2e-3,
    clipValue: 0,
    clipNorm: 1,
    valFrac: 0.1,
    evalEvery: 250,
    logEvery: 20,
    saveEvery: 250,
    sampleEvery: 0,
  },
};

/** The labelled examples of a classification source: a JSON Lines / TSV file, or the built-in corpus. */
export function readClassifyData(source: string): ClassifyDataset {
  return source === SPAM_ASSASSIN ? loadSpamAssassin() : readClassifyFile(source);
}

function createRun(request: TrainRequest): { run: TaskRun; config: TrainConfig } {
  refuseUnknownKeys(request.config, TRAIN_CONFIG_KEYS, 'config');
  const created = createTaskRun(request, validateTrainConfig({ ...request.config }));
  // On the settings in effect: with initFrom, the checkpoint decides the shape (and so whether dropout acts).
  refuseIneffective(created.config, differsFrom(created.config, DEFAULT_TRAIN_CONFIG));
  return created;
}

function createTaskRun(request: TrainRequest, config: TrainConfig): { run: TaskRun; config: TrainConfig } {
  switch (config.task) {
    case 'lm': {
      const source = request.source ?? (request.text === undefined ? BUILTIN_CORPUS : undefined);
      return createLanguageModelRun({ ...request, source, text: request.text ?? readSource(source!), config });
    }
    case 'classify':
      if (request.initFrom) throw invalidOption('--init-from works with --task lm only (so far)');
      if (request.text !== undefined)
        throw invalidOption(
          'a classifier reads its examples from `source` (a JSON Lines or TSV file), not from `text`',
        );
      return {
        run: createClassifierRun(readClassifyData(request.source ?? SPAM_ASSASSIN), config, request.backend),
        config,
      };
    case 'seq2seq': {
      if (request.initFrom) throw invalidOption('--init-from works with --task lm only (so far)');
      if (request.text !== undefined)
        throw invalidOption('--task seq2seq reads pairs from `source` (a TSV or JSON Lines file), not from `text`');
      const source = request.source ?? CMUDICT;
      // CMUdict's split is fixed so that results compare across machines; its validation share is the default's.
      if (source === CMUDICT && config.valFrac !== TASK_DEFAULTS.seq2seq.valFrac)
        throw invalidOption(
          `--val-frac applies to a FILE of pairs; the built-in ${CMUDICT} has a fixed split (by a hash of the word: 90 % training, 5 % validation, 5 % test)`,
        );
      return { run: createSeq2SeqRun(source, config, request.backend), config };
    }
    case 'ctc':
      if (request.initFrom) throw invalidOption('--init-from works with --task lm only (so far)');
      if (request.text !== undefined || request.source === undefined)
        throw invalidOption('a recogniser reads a speech directory (`source`: transcripts.tsv and WAV files)');
      return { run: createCtcRun(request.source, config, request.backend), config };
    case 'adding':
    case 'copy':
      if (request.initFrom) throw invalidOption('--init-from works with --task lm only (so far)');
      if (request.text !== undefined || request.source !== undefined)
        throw invalidOption(`--task ${config.task} generates its sequences from the seed; it reads no text or source`);
      return {
        run:
          config.task === 'adding' ? createAddingRun(config, request.backend) : createCopyRun(config, request.backend),
        config,
      };
  }
}

/** Rebuilds a saved run's task around `model`; `text` replaces reading the recorded source. */
function restoreTask(state: TrainerState, model: Model, dir: string, text?: string): TaskRun {
  switch (state.task) {
    case 'lm':
      return restoreLanguageModelRun(
        model,
        state.config,
        state.taskMeta,
        state.data,
        text ?? readSource(state.data.source),
        dir,
      );
    case 'classify':
      return restoreClassifierRun(
        model,
        state.config,
        state.taskMeta,
        state.data,
        readClassifyData(state.data.source),
        dir,
      );
    case 'seq2seq':
      return restoreSeq2SeqRun(model, state.config, state.taskMeta, state.data, dir);
    case 'adding':
      checkGenerated(state.data, 'adding', state.config.length, dir);
      return new AddingRun(model, state.config);
    case 'copy':
      checkGenerated(state.data, 'copy', state.config.delay, dir);
      return new CopyRun(model, state.config);
    case 'ctc':
      return restoreCtcRun(model, state.config, state.taskMeta, state.data, dir);
  }
}

/** Trains a fresh run in this thread (yielding to the event loop every 50 ms). */
export async function runTraining(request: TrainRequest): Promise<TrainResult> {
  const { run, config } = createRun(request); // bad data is refused before anything is written
  const out = typeof request.out === 'function' ? request.out() : request.out;
  const lock = claimRunDir(out, { resume: false, force: request.force });
  try {
    return await execute(new Run(run, config, out), request, false);
  } finally {
    lock.release();
  }
}

/** Continues the run saved in `dir` (its settings, its data) up to `steps` total steps. */
export async function resumeTraining(
  options: { dir: string; backend: Backend; text?: string; steps?: number } & RunHooks,
): Promise<TrainResult> {
  const lock = claimRunDir(options.dir, { resume: true });
  try {
    const run = resumeRun(
      options.dir,
      options.backend,
      (state, model, dir) => restoreTask(state, model, dir, options.text),
      options.steps,
    );
    return await execute(run, options, true);
  } finally {
    lock.release();
  }
}
