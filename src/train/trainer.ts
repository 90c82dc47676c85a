// The training loop: truncated BPTT over char-rnn batches, clipping, an optimizer step per chunk, a
// learning-rate schedule, validation with early stopping, metrics.jsonl, and checkpoints from which a run
// continues exactly (same backend and thread count: the same bits as an uninterrupted run).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { Batcher } from '../data/batcher.js';
import { readSource } from '../data/corpus.js';
import { Vocabulary } from '../data/vocab.js';
import { RnnkitError, invalidInput, invalidOption } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { loadModel, saveModel } from '../io/checkpoint.js';
import { validateConfig } from '../model/config.js';
import { Model } from '../model/model.js';
import { Workspace, checkWorkspaceSize } from '../model/workspace.js';
import { Random } from '../util/random.js';
import { type ShapeOptions, type TrainConfig, validateTrainConfig } from './config.js';
import { evaluateTokens } from './evaluate.js';
import { sample, samplingWorkspace } from '../generate/sample.js';
import { Optimizer, clipGradients } from './optimizer.js';
import { learningRate } from './schedule.js';
import { type RunPosition, type TextSource, loadTrainerState, saveTrainerState, textHash } from './state.js';

export * from './config.js';

export interface StepMetrics {
  step: number;
  epoch: number;
  loss: number;
  smooth_loss: number;
  grad_norm: number;
  lr: number;
  tokens_per_s: number;
  elapsed_s: number;
  val_loss?: number;
  val_bpc?: number;
  skipped_steps?: number;
}

export type TrainEvent =
  | { type: 'start'; dir: string; step: number; steps: number; parameters: number; vocabSize: number; trainCharacters: number; valCharacters: number; tokensPerStep: number; backend: ReturnType<Backend['info']> }
  | { type: 'step'; metrics: StepMetrics }
  | { type: 'validation'; step: number; loss: number; bpc: number; perplexity: number; best: boolean }
  | { type: 'checkpoint'; step: number; dir: string; reason: 'periodic' | 'final' | 'interrupted' | 'best' }
  | { type: 'skipped'; step: number; loss: number; gradNorm: number; skippedSteps: number }
  | { type: 'sample'; step: number; text: string };

export interface TrainRequest {
  text: string;
  /** Where the text came from (a path, or the built-in corpus' name), recorded for --resume. */
  source?: string;
  config: TrainConfig;
  backend: Backend;
  out: string;
  /** Start from this checkpoint's weights; its shape and vocabulary win, `explicitShape` must agree. */
  initFrom?: string;
  explicitShape?: Partial<ShapeOptions>;
  onEvent?: (event: TrainEvent) => void;
  /** Abort = save the checkpoint and stop after the current step. */
  signal?: AbortSignal;
}

export interface TrainResult {
  dir: string;
  /** The step the run reached. */
  steps: number;
  metrics: StepMetrics | null;
  parameterCount: number;
  vocabSize: number;
  tokens: number;
  /** True when the signal stopped the run early. */
  interrupted: boolean;
  /** True when early stopping ended the run. */
  stoppedEarly: boolean;
  bestValLoss: number | null;
  skippedSteps: number;
  /** The settings in effect (with --init-from, the checkpoint's shape). */
  config: TrainConfig;
}

/** Splits off the last `valFrac` of the text (by code points) for validation, as char-rnn does. */
function splitText(tokens: Int32Array, c: TrainConfig): { train: Int32Array; val: Int32Array | null } {
  if (c.valFrac === 0) return { train: tokens, val: null };
  const valLength = Math.floor(tokens.length * c.valFrac);
  const val = tokens.subarray(tokens.length - valLength);
  if (val.length < c.seq + 1) {
    throw invalidInput(`--val-frac ${c.valFrac} leaves ${val.length} characters for validation; at least --seq + 1 = ${c.seq + 1} are needed`);
  }
  return { train: tokens.subarray(0, tokens.length - valLength), val };
}

/** The moving average of the loss (decay 0.999, as min-char-rnn's), corrected for its start at 0 so that
 *  early values mean something: an average of the n losses folded in so far, weighted towards recent ones. */
const debiased = (average: number, n: number): number => (n > 0 ? average / (1 - 0.999 ** n) : Number.NaN);

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One run: the model, its optimizer, the data and everything that moves as it trains. */
class Run {
  readonly workspace: Workspace;
  readonly evalWorkspace: Workspace | null;
  readonly sampleWorkspace: Workspace | null;
  readonly optimizer: Optimizer;
  readonly batcher: Batcher;
  readonly val: Int32Array | null;
  random: Random;
  pos: RunPosition;

  constructor(
    readonly model: Model,
    readonly vocab: Vocabulary,
    readonly config: TrainConfig,
    readonly text: TextSource,
    readonly out: string,
    tokens: Int32Array,
  ) {
    const c = config;
    const { train, val } = splitText(tokens, c);
    this.val = val;
    this.batcher = new Batcher(train, c.batch, c.seq);
    this.workspace = new Workspace(model, c.seq, c.batch, { dropout: c.dropout });
    this.evalWorkspace = val ? new Workspace(model, Math.min(256, val.length - 1), 1) : null;
    this.sampleWorkspace = c.sampleEvery > 0 ? samplingWorkspace(model) : null;
    this.optimizer = new Optimizer(model.backend, c, model.parameterCount);
    this.random = new Random(c.seed + 0x5eed); // dropout masks: their own stream, apart from initialisation
    this.pos = {
      step: 0, epoch: 0, position: 0, optimizerSteps: 0, random: this.random.state(), smoothLoss: 0,
      bestValLoss: null, evalsWithoutImprovement: 0, skippedSteps: 0, elapsedS: 0,
    };
    this.workspace.resetState();
  }

  /** Writes trainer.safetensors (self-contained) then model.safetensors, each atomically. */
  save(dir = this.out): void {
    this.pos.epoch = this.batcher.cursor.epoch;
    this.pos.position = this.batcher.cursor.position;
    this.pos.optimizerSteps = this.optimizer.stepCount;
    this.pos.random = this.random.state();
    const hidden = this.model.config.layers;
    saveTrainerState(dir, {
      config: this.config, model: this.model.config, vocab: this.vocab, text: this.text, position: { ...this.pos },
      params: Float32Array.from(this.model.params.all.data),
      optimizer: new Map([...this.optimizer.state].map(([name, span]) => [name, Float32Array.from(span.data)])),
      hidden: Array.from({ length: hidden }, (_, l) => {
        const { h, c } = this.workspace.state(l);
        return { h: Float32Array.from(h.data), c: c ? Float32Array.from(c.data) : null };
      }),
    });
    saveModel(dir, this.model, this.vocab);
  }

  /** Restores a run position saved by save(). */
  restore(state: ReturnType<typeof loadTrainerState>): void {
    if (state.params.length !== this.model.parameterCount) throw invalidInput(`the trainer state has ${state.params.length} parameters, the model ${this.model.parameterCount}`);
    this.model.params.all.data.set(state.params);
    for (const [name, span] of this.optimizer.state) {
      const saved = state.optimizer.get(name);
      if (!saved || saved.length !== span.length) throw invalidInput(`the trainer state has no optimizer buffer ${name} of ${span.length} values for this model`);
      span.data.set(saved);
    }
    if (state.optimizer.size !== this.optimizer.state.size) throw invalidInput('the trainer state has optimizer buffers this optimizer does not use');
    this.optimizer.stepCount = state.position.optimizerSteps;
    this.random = Random.fromState(state.position.random);
    this.pos = { ...state.position };
    if (state.position.position >= this.batcher.stepsPerEpoch) throw invalidInput('the trainer state points past the end of the epoch');
    this.batcher.cursor = { epoch: state.position.epoch, position: state.position.position };
    this.workspace.resetState();
    state.hidden.forEach(({ h, c }, l) => {
      const target = this.workspace.state(l);
      if (h.length !== target.h.length) throw invalidInput(`the trainer state's hidden state of layer ${l} has ${h.length} values, expected ${target.h.length}`);
      target.h.data.set(h);
      if (c && target.c) target.c.data.set(c);
    });
  }
}

function prepareOutDir(out: string): void {
  mkdirSync(out, { recursive: true });
  // Temporary files left by a crash during a save.
  for (const name of readdirSync(out)) if (/^\..*\.tmp$/.test(name)) rmSync(join(out, name), { force: true });
}

function freshRun(request: TrainRequest): Run {
  const config = validateTrainConfig({ ...request.config });
  const { backend, text } = request;
  let model: Model, vocab: Vocabulary, effective = config;
  if (request.initFrom) {
    ({ model, vocab } = loadModel(request.initFrom, backend));
    for (const [key, value] of Object.entries(request.explicitShape ?? {})) {
      const actual = model.config[key as keyof ShapeOptions];
      if (value !== undefined && value !== actual) {
        throw invalidOption(`--${key} ${String(value)} disagrees with the checkpoint in ${request.initFrom}, which has ${key} ${String(actual)}`);
      }
    }
    const { cell, nonlinearity, hidden, layers, embed } = model.config;
    effective = { ...config, cell, nonlinearity, hidden, layers, embed };
    checkWorkspaceSize(model.config, config.seq, config.batch);
  } else {
    vocab = Vocabulary.fromText(text);
    // Validate the shapes (refusing sizes that would exhaust memory) before allocating anything.
    checkWorkspaceSize(validateConfig({ ...config, vocabSize: vocab.size }), config.seq, config.batch);
    model = new Model(backend, { ...config, vocabSize: vocab.size });
    model.initialize(config.seed, config.init);
  }
  const tokens = vocab.encode(text, 'the training text');
  const source = { source: request.source ?? '(in memory)', characters: text.length, hash: textHash(text) };
  return new Run(model, vocab, effective, source, request.out, tokens);
}

/** Continues the run saved in `dir` to `steps` total steps (default: its own total), on `text` (default:
 *  the source the checkpoint recorded). */
export function resumeRun(dir: string, backend: Backend, text?: string, steps?: number): Run {
  const state = loadTrainerState(dir);
  text ??= readSource(state.text.source);
  const config = { ...state.config, steps: steps ?? state.config.steps };
  validateTrainConfig(config);
  if (textHash(text) !== state.text.hash || text.length !== state.text.characters) {
    throw invalidInput(`the training text (${state.text.source}) changed since the checkpoint in ${dir} was written (${text.length} characters, fingerprint ${textHash(text)}; expected ${state.text.characters}, ${state.text.hash})`);
  }
  if (config.steps < state.position.step) throw invalidOption(`--steps ${config.steps} is below the checkpoint's step ${state.position.step}`);
  const model = new Model(backend, state.model);
  const run = new Run(model, state.vocab, config, state.text, dir, state.vocab.encode(text, 'the training text'));
  run.restore(state);
  return run;
}

/** Metrics lines up to `step`: a resumed run drops those it will write again. */
function truncateMetrics(path: string, step: number): void {
  if (!existsSync(path)) return;
  const kept = readFileSync(path, 'utf8').split('\n').filter((line) => line && (JSON.parse(line) as StepMetrics).step <= step);
  writeFileSync(path, kept.map((l) => l + '\n').join(''));
}

async function execute(run: Run, request: Pick<TrainRequest, 'onEvent' | 'signal'>, resumed: boolean): Promise<TrainResult> {
  const { model, config: c, workspace, batcher, optimizer, out } = run;
  const backend = model.backend;
  const emit = request.onEvent ?? (() => {});
  const tokensPerStep = c.seq * c.batch;
  prepareOutDir(out);
  if (!resumed) {
    writeFileAtomic(join(out, 'run.json'), JSON.stringify({ ...c, source: run.text.source, backend: backend.info(), vocabSize: run.vocab.size, parameters: model.parameterCount }, null, 2) + '\n');
    run.save();
  }
  const metricsPath = join(out, 'metrics.jsonl');
  truncateMetrics(metricsPath, run.pos.step);
  const metricsFile = openSync(metricsPath, 'a');
  emit({
    type: 'start', dir: out, step: run.pos.step, steps: c.steps, parameters: model.parameterCount, vocabSize: run.vocab.size,
    trainCharacters: batcher.tokens.length, valCharacters: run.val?.length ?? 0, tokensPerStep, backend: backend.info(),
  });
  let last: StepMetrics | null = null;
  let stoppedEarly = false;
  const startElapsed = run.pos.elapsedS;
  const start = performance.now();
  let windowStart = start, windowSteps = 0, lastYield = start;
  const checkpoint = (reason: 'periodic' | 'final' | 'interrupted'): void => {
    run.pos.elapsedS = startElapsed + (performance.now() - start) / 1000;
    run.save();
    emit({ type: 'checkpoint', step: run.pos.step, dir: out, reason });
  };
  try {
    while (run.pos.step < c.steps && !request.signal?.aborted && !stoppedEarly) {
      const step = run.pos.step + 1;
      const epoch = batcher.cursor.epoch;
      const lr = learningRate(c, step, epoch);
      if (batcher.next(workspace.ids.data, workspace.targets.data)) workspace.resetState();
      const loss = workspace.forward(c.seq, true, c.dropout > 0 ? run.random.nextUint32() : undefined) / tokensPerStep;
      model.zeroGrads();
      workspace.backward(c.seq);
      const gradNorm = clipGradients(backend, model.grads.all, c.clipValue, c.clipNorm);
      run.pos.step = step;
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) {
        if (!c.skipNonfinite) {
          throw new RnnkitError('ERR_NON_FINITE', `the ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(loss) ? gradNorm : loss} at step ${step}; training stopped and the last checkpoint in ${out} was kept (lower --lr, use --clip-norm, or pass --skip-nonfinite)`);
        }
        run.pos.skippedSteps++;
        workspace.resetState(); // a non-finite state must not flow into the next chunk
        emit({ type: 'skipped', step, loss, gradNorm, skippedSteps: run.pos.skippedSteps });
      } else {
        optimizer.step(model.params.all, model.grads.all, lr);
        run.pos.smoothLoss = run.pos.smoothLoss * 0.999 + loss * 0.001;
      }
      windowSteps++;
      let validated: { loss: number; bpc: number } | null = null;
      if (run.val && run.evalWorkspace && (step % c.evalEvery === 0 || step === c.steps)) {
        const evaluation = evaluateTokens(run.evalWorkspace, run.val);
        const best = run.pos.bestValLoss === null || evaluation.loss < run.pos.bestValLoss;
        if (best) {
          run.pos.bestValLoss = evaluation.loss;
          run.pos.evalsWithoutImprovement = 0;
          saveModel(join(out, 'best'), model, run.vocab);
        } else {
          run.pos.evalsWithoutImprovement++;
        }
        validated = evaluation;
        emit({ type: 'validation', step, loss: evaluation.loss, bpc: evaluation.bpc, perplexity: evaluation.perplexity, best });
        if (best) emit({ type: 'checkpoint', step, dir: join(out, 'best'), reason: 'best' });
        stoppedEarly = c.patience > 0 && run.pos.evalsWithoutImprovement >= c.patience;
      }
      if (step % c.logEvery === 0 || step === c.steps || validated || stoppedEarly) {
        const now = performance.now();
        last = {
          step, epoch, loss, smooth_loss: debiased(run.pos.smoothLoss, step - run.pos.skippedSteps), grad_norm: gradNorm, lr,
          tokens_per_s: (windowSteps * tokensPerStep) / ((now - windowStart) / 1000),
          elapsed_s: startElapsed + (now - start) / 1000,
          ...(validated ? { val_loss: validated.loss, val_bpc: validated.bpc } : {}),
          ...(run.pos.skippedSteps ? { skipped_steps: run.pos.skippedSteps } : {}),
        };
        writeSync(metricsFile, JSON.stringify(last) + '\n');
        emit({ type: 'step', metrics: last });
        windowStart = now;
        windowSteps = 0;
      }
      if (run.sampleWorkspace && step % c.sampleEvery === 0) {
        // Its own workspace and generator: watching the model learn does not change the run.
        emit({ type: 'sample', step, text: sample(model, run.vocab, { length: c.sampleLength, temperature: 0.8, seed: c.seed }, run.sampleWorkspace) });
      }
      if (c.saveEvery > 0 && step % c.saveEvery === 0 && step < c.steps) checkpoint('periodic');
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    const interrupted = run.pos.step < c.steps && !stoppedEarly;
    checkpoint(interrupted ? 'interrupted' : 'final');
    return {
      dir: out, steps: run.pos.step, metrics: last, parameterCount: model.parameterCount, vocabSize: run.vocab.size,
      tokens: batcher.tokens.length, interrupted, stoppedEarly, bestValLoss: run.pos.bestValLoss, skippedSteps: run.pos.skippedSteps, config: c,
    };
  } finally {
    closeSync(metricsFile);
  }
}

/** Trains in this thread (yielding to the event loop every 50 ms). */
export async function runTraining(request: TrainRequest): Promise<TrainResult> {
  return execute(freshRun(request), request, false);
}

/** Continues a run saved in `dir` (its settings, its text) up to `steps` total steps. */
export async function resumeTraining(options: { dir: string; backend: Backend; text?: string; steps?: number } & Pick<TrainRequest, 'onEvent' | 'signal'>): Promise<TrainResult> {
  return execute(resumeRun(options.dir, options.backend, options.text, options.steps), options, true);
}
