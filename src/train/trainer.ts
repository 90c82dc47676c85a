// The training loop: truncated BPTT over char-rnn batches, gradient clipping, an optimizer step per chunk,
// metrics.jsonl and a checkpoint directory.
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { Batcher } from '../data/batcher.js';
import { Vocabulary } from '../data/vocab.js';
import { RnnkitError, invalidOption } from '../errors.js';
import { loadModel, saveModel } from '../io/checkpoint.js';
import { writeFileAtomic } from '../io/atomic.js';
import { type ModelConfig, validateConfig } from '../model/config.js';
import { type InitScheme, Model } from '../model/model.js';
import { Workspace, checkWorkspaceSize } from '../model/workspace.js';
import { Random } from '../util/random.js';
import { Optimizer, type OptimizerName, clipGradients } from './optimizer.js';

export type ShapeOptions = Omit<ModelConfig, 'vocabSize'>;

export interface TrainConfig extends ShapeOptions {
  seq: number;
  batch: number;
  steps: number;
  lr: number;
  optimizer: OptimizerName;
  clipValue: number;
  clipNorm: number;
  seed: number;
  init: InitScheme;
  logEvery: number;
  /** Save the checkpoint every N steps (0: only at the end). */
  saveEvery: number;
  /** Inverted dropout between recurrent layers during training, in [0, 1). */
  dropout: number;
}

/** min-char-rnn's setup: a tanh RNN of 100 units, one-hot input, 25 steps, Adagrad 0.1, clip at 5. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  cell: 'rnn', nonlinearity: 'tanh', hidden: 100, layers: 1, embed: 0,
  seq: 25, batch: 1, steps: 5000, lr: 0.1, optimizer: 'adagrad', clipValue: 5, clipNorm: 0,
  seed: 1, init: 'pytorch', logEvery: 100, saveEvery: 1000, dropout: 0,
};

export interface StepMetrics {
  step: number;
  epoch: number;
  loss: number;
  smooth_loss: number;
  grad_norm: number;
  lr: number;
  tokens_per_s: number;
  elapsed_s: number;
}

export interface TrainRequest {
  text: string;
  config: TrainConfig;
  backend: Backend;
  out: string;
  /** Start from this checkpoint's weights; its shape and vocabulary win, `explicitShape` must agree. */
  initFrom?: string;
  explicitShape?: Partial<ShapeOptions>;
  onMetrics?: (metrics: StepMetrics) => void;
  /** Abort = save the checkpoint and stop after the current step. */
  signal?: AbortSignal;
}

export interface TrainResult {
  dir: string;
  steps: number;
  metrics: StepMetrics | null;
  parameterCount: number;
  vocabSize: number;
  tokens: number;
  /** True when the signal stopped the run early. */
  interrupted: boolean;
  /** The settings in effect (with --init-from, the checkpoint's shape). */
  config: TrainConfig;
}

function checkNumber(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER, integer = true): void {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw invalidOption(`${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${String(value)}`);
  }
}

export function validateTrainConfig(config: TrainConfig): void {
  checkNumber('seq', config.seq, 1, 100_000);
  checkNumber('batch', config.batch, 1, 100_000);
  checkNumber('seq × batch', config.seq * config.batch, 1, 10_000_000);
  checkNumber('steps', config.steps, 0);
  checkNumber('lr', config.lr, 0, 1e6, false);
  checkNumber('clip-value', config.clipValue, 0, Number.MAX_VALUE, false);
  checkNumber('clip-norm', config.clipNorm, 0, Number.MAX_VALUE, false);
  checkNumber('seed', config.seed, 0);
  checkNumber('log-every', config.logEvery, 1);
  checkNumber('save-every', config.saveEvery, 0);
  if (typeof config.dropout !== 'number' || !(config.dropout >= 0 && config.dropout < 1)) {
    throw invalidOption(`dropout must be a probability in [0, 1), got ${String(config.dropout)}`);
  }
  if (config.init !== 'pytorch' && config.init !== 'randn') throw invalidOption(`init must be pytorch or randn, got ${JSON.stringify(config.init)}`);
}

/** Model and vocabulary for a run: fresh from the text, or taken from --init-from. */
function buildModel(request: TrainRequest): { model: Model; vocab: Vocabulary; config: TrainConfig } {
  const { config, backend, text } = request;
  if (!request.initFrom) {
    const vocab = Vocabulary.fromText(text);
    // Validate the shape (and refuse absurd sizes) before any allocation.
    checkWorkspaceSize(validateConfig({ ...config, vocabSize: vocab.size }), config.seq, config.batch);
    const model = new Model(backend, { ...config, vocabSize: vocab.size });
    model.initialize(config.seed, config.init);
    return { model, vocab, config };
  }
  const { model, vocab } = loadModel(request.initFrom, backend);
  for (const [key, value] of Object.entries(request.explicitShape ?? {})) {
    const actual = model.config[key as keyof ShapeOptions];
    if (value !== undefined && value !== actual) {
      throw invalidOption(`--${key} ${String(value)} disagrees with the checkpoint in ${request.initFrom}, which has ${key} ${String(actual)}`);
    }
  }
  const { cell, nonlinearity, hidden, layers, embed } = model.config;
  return { model, vocab, config: { ...config, cell, nonlinearity, hidden, layers, embed } };
}

/** Lets signal handlers and timers run during long synchronous stretches. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export async function train(request: TrainRequest): Promise<TrainResult> {
  validateTrainConfig(request.config);
  const { model, vocab, config } = buildModel(request);
  const tokens = vocab.encode(request.text, 'the training text');
  const batcher = new Batcher(tokens, config.batch, config.seq);
  const { backend } = model;
  const workspace = new Workspace(model, config.seq, config.batch, { dropout: config.dropout });
  // Dropout masks come from their own stream, so that turning dropout on does not change the initialisation.
  const dropoutRandom = new Random(config.seed + 0x5eed);
  const optimizer = new Optimizer(backend, { name: config.optimizer }, model.parameterCount);

  mkdirSync(request.out, { recursive: true });
  writeFileAtomic(join(request.out, 'run.json'), JSON.stringify({ ...config, backend: backend.info(), vocabSize: vocab.size, parameters: model.parameterCount, textCharacters: tokens.length }, null, 2) + '\n');
  saveModel(request.out, model, vocab);
  const metricsFile = openSync(join(request.out, 'metrics.jsonl'), 'w');

  const tokensPerStep = config.seq * config.batch;
  let smoothLoss = Math.log(vocab.size); // the loss of a uniform guess, as min-char-rnn starts
  let last: StepMetrics | null = null;
  const start = performance.now();
  let windowStart = start, windowSteps = 0, lastYield = start, done = 0;
  try {
    for (let step = 1; step <= config.steps && !request.signal?.aborted; step++) {
      const epoch = batcher.cursor.epoch;
      if (batcher.next(workspace.ids.data, workspace.targets.data)) workspace.resetState();
      const loss = workspace.forward(config.seq, true, config.dropout > 0 ? dropoutRandom.nextUint32() : undefined) / tokensPerStep;
      if (!Number.isFinite(loss)) {
        throw new RnnkitError('ERR_NON_FINITE', `the loss became ${loss} at step ${step}; lower --lr or enable --clip-norm (${request.out} keeps the weights the run started from)`);
      }
      model.zeroGrads();
      workspace.backward(config.seq);
      const gradNorm = clipGradients(backend, model.grads.all, config.clipValue, config.clipNorm);
      optimizer.step(model.params.all, model.grads.all, config.lr);
      smoothLoss = smoothLoss * 0.999 + loss * 0.001;
      windowSteps++;
      done = step;
      if (config.saveEvery > 0 && step % config.saveEvery === 0) saveModel(request.out, model, vocab);
      if (step % config.logEvery === 0 || step === config.steps) {
        const now = performance.now();
        last = {
          step, epoch, loss, smooth_loss: smoothLoss, grad_norm: gradNorm, lr: config.lr,
          tokens_per_s: (windowSteps * tokensPerStep) / ((now - windowStart) / 1000),
          elapsed_s: (now - start) / 1000,
        };
        writeSync(metricsFile, JSON.stringify(last) + '\n');
        request.onMetrics?.(last);
        windowStart = now;
        windowSteps = 0;
      }
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  } finally {
    closeSync(metricsFile);
  }
  saveModel(request.out, model, vocab);
  return {
    dir: request.out, steps: done, metrics: last, parameterCount: model.parameterCount, vocabSize: vocab.size, tokens: tokens.length,
    interrupted: done < config.steps, config,
  };
}
