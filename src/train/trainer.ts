// The training loop, the same for every task: a step of the task (forward and backward on its next
// batch), clipping, an optimizer step, a learning-rate schedule, validation with early stopping on the
// task's validation loss, metrics.jsonl, and checkpoints from which a run continues exactly (same backend
// and thread count: the same bits as an uninterrupted run). Tasks are given to it; it names none.
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Backend } from '../backend/types.js';
import { RnnkitError, invalidInput, invalidOption } from '../errors.js';
import { describeNonFinite } from '../io/finite.js';
import { BEST_DIR, MetricsLog, writeRunJson } from '../io/rundir.js';
import { Model } from '../model/model.js';
import type { TaskRun } from '../tasks/task.js';
import { Random } from '../util/random.js';
import { VERSION } from '../version.js';
import { type TrainConfig, validateTrainConfig } from './config.js';
import { Optimizer } from './optimizer.js';
import { startEvent, validationRow } from './events.js';
import { ClipCounter, GRADFLOW_FILE, partGradNorms } from './gradflow.js';
import { type ProgressTick, ProgressWindow } from './progress.js';
import { learningRate } from './schedule.js';
import { trainingStep } from './step.js';
import { type RunPosition, type TrainerState, loadTrainerState, saveTrainerState } from './state.js';

export * from './config.js';
export { trainingStep } from './step.js';

/** One row of metrics.jsonl, written for every step (tokens_per_s: that step's), and the `step` event, sent
 *  every logEvery steps, on validations and at the end (tokens_per_s: since the previous event).
 *  Validation fields appear on the steps that validated:
 *  val_loss always, then the task's own metrics (val_bpc, val_perplexity; val_accuracy, val_macro_f1). */
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
  val_perplexity?: number;
  val_accuracy?: number;
  val_macro_f1?: number;
  /** seq2seq: greedy outputs' word and phoneme error rates; ctc: greedy character and word error rates. */
  val_cer?: number;
  val_wer?: number;
  val_per?: number;
  skipped_steps?: number;
  /** The sample generated at this step (sampleEvery). */
  sample?: string;
}

export type TrainEvent =
  | {
      type: 'start';
      dir: string;
      task: string;
      step: number;
      steps: number;
      parameters: number;
      vocabSize: number;
      unit: string;
      trainSize: number;
      valSize: number;
      perStep: string;
      notes: string[];
      backend: ReturnType<Backend['info']>;
    }
  | { type: 'step'; metrics: StepMetrics }
  | { type: 'validation'; step: number; loss: number; metrics: Record<string, number>; best: boolean }
  | {
      type: 'checkpoint';
      step: number;
      dir: string;
      reason: 'periodic' | 'final' | 'interrupted' | 'time-limit' | 'best';
    }
  | { type: 'skipped'; step: number; loss: number; gradNorm: number; skippedSteps: number }
  | { type: 'sample'; step: number; text: string }
  | { type: 'warning'; message: string }
  | ProgressTick;

export interface TrainResult {
  dir: string;
  task: string;
  /** The step the run reached. */
  steps: number;
  metrics: StepMetrics | null;
  parameterCount: number;
  vocabSize: number;
  /** Training characters (lm) or examples (classify). */
  trainSize: number;
  /** Real (unpadded) tokens trained on by this call (not counting steps before a resume). */
  tokensProcessed: number;
  /** True when the signal or the time limit stopped the run before its last step (it continues with --resume). */
  interrupted: boolean;
  /** True when the time limit (`deadline`) was what stopped it. */
  timeLimitReached: boolean;
  /** True when early stopping ended the run. */
  stoppedEarly: boolean;
  bestValLoss: number | null;
  skippedSteps: number;
  /** The settings in effect (with --init-from, the checkpoint's shape). */
  config: TrainConfig;
}

export interface RunHooks {
  onEvent?: (event: TrainEvent) => void;
  /** Abort = save the checkpoint and stop after the current step. */
  signal?: AbortSignal;
  /** A time (Date.now()'s milliseconds) past which the run stops as an abort does: after the step under way. */
  deadline?: number;
  /** The command line that started the run (the CLI's), for run.json. */
  command?: string;
}

/** The moving average of the loss (decay 0.999, as min-char-rnn's), corrected for its start at 0 so that
 *  early values mean something: an average of the n losses folded in so far, weighted towards recent ones. */
const debiased = (average: number, n: number): number => (n > 0 ? average / (1 - 0.999 ** n) : Number.NaN);

/** --skip-nonfinite stops the run after this many consecutive skipped steps: no update can happen any more. */
export const MAX_CONSECUTIVE_SKIPS = 100;

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One run: a task's run, the optimizer and everything that moves as it trains. */
export class Run {
  readonly optimizer: Optimizer;
  random: Random;
  pos: RunPosition;
  /** The step of the last checkpoint written (or restored). */
  savedStep: number | null = null;

  constructor(
    readonly task: TaskRun,
    readonly config: TrainConfig,
    readonly out: string,
  ) {
    validateTrainConfig(config);
    this.optimizer = new Optimizer(task.model.backend, config, task.model.parameterCount);
    this.random = new Random(config.seed + 0x5eed); // dropout masks: their own stream, apart from initialisation
    this.pos = {
      step: 0,
      epoch: 0,
      position: 0,
      optimizerSteps: 0,
      random: this.random.state(),
      smoothLoss: 0,
      bestValLoss: null,
      evalsWithoutImprovement: 0,
      skippedSteps: 0,
      elapsedS: 0,
    };
  }

  get model(): Model {
    return this.task.model;
  }

  /** Writes trainer.safetensors (self-contained) then model.safetensors, each atomically; refuses (keeping
   *  the files on disk) when any number to be saved is not finite. */
  save(dir = this.out): void {
    const { task } = this;
    this.pos.epoch = task.cursor.epoch;
    this.pos.position = task.cursor.position;
    this.pos.optimizerSteps = this.optimizer.stepCount;
    this.pos.random = this.random.state();
    const optimizer = new Map([...this.optimizer.state].map(([name, span]) => [name, Float32Array.from(span.data)]));
    const taskTensors = task.stateTensors();
    this.assertFinite(
      [...optimizer].map(([name, data]) => ({ name: `optimizer.${name}`, data })),
      [...taskTensors].map(([name, data]) => ({ name: `task.${name}`, data })),
    );
    saveTrainerState(dir, {
      task: task.task,
      config: this.config,
      model: this.model.config,
      taskMeta: task.stateMeta(),
      data: task.data,
      position: { ...this.pos },
      params: Float32Array.from(this.model.params.all.data),
      optimizer,
      taskTensors,
    });
    task.saveModel(dir);
    this.savedStep = this.pos.step;
  }

  /** Throws ERR_NON_FINITE when a parameter (or one of `more`) is NaN or infinite: nothing is saved then. */
  assertFinite(...more: { name: string; data: ArrayLike<number> }[][]): void {
    const found = describeNonFinite([
      ...this.model.params.tensors.map((t) => ({ name: t.name, data: t.view.data })),
      ...more.flat(),
    ]);
    if (!found) return;
    const kept =
      this.savedStep === null
        ? 'nothing was saved'
        : `the last checkpoint in ${this.out} (step ${this.savedStep}) was kept`;
    throw new RnnkitError(
      'ERR_NON_FINITE',
      `the model became non-finite by step ${this.pos.step} (${found}); training stopped and ${kept} (lower --lr, use --clip-norm)`,
    );
  }

  /** Restores a run position saved by save(). */
  restore(state: TrainerState): void {
    if (state.params.length !== this.model.parameterCount)
      throw invalidInput(
        `the trainer state has ${state.params.length} parameters, the model ${this.model.parameterCount}`,
      );
    this.model.params.all.data.set(state.params);
    for (const [name, span] of this.optimizer.state) {
      const saved = state.optimizer.get(name);
      if (!saved || saved.length !== span.length)
        throw invalidInput(`the trainer state has no optimizer buffer ${name} of ${span.length} values for this model`);
      span.data.set(saved);
    }
    if (state.optimizer.size !== this.optimizer.state.size)
      throw invalidInput('the trainer state has optimizer buffers this optimizer does not use');
    this.optimizer.stepCount = state.position.optimizerSteps;
    this.random = Random.fromState(state.position.random);
    this.pos = { ...state.position };
    this.task.cursor = { epoch: state.position.epoch, position: state.position.position };
    this.task.restoreStateTensors(state.taskTensors);
    this.savedStep = state.position.step;
  }
}

/** Rebuilds a task's run around a model of the saved shape (parameters are restored by the trainer). */
export type RestoreTask = (state: TrainerState, model: Model, dir: string) => TaskRun;

/** The run saved in `dir`, ready to continue to `steps` total steps (default: its own total). */
export function resumeRun(dir: string, backend: Backend, restoreTask: RestoreTask, steps?: number): Run {
  const state = loadTrainerState(dir);
  const config = validateTrainConfig({ ...state.config, steps: steps ?? state.config.steps });
  if (config.steps < state.position.step)
    throw invalidOption(`--steps ${config.steps} is below the checkpoint's step ${state.position.step}`);
  const run = new Run(restoreTask(state, new Model(backend, state.model), dir), config, dir);
  run.restore(state);
  return run;
}

/** Trains `run` to its configured total, writing the run directory (claimed by the caller: io/rundir.ts). */
export async function execute(run: Run, hooks: RunHooks, resumed: boolean): Promise<TrainResult> {
  const { task, model, config: c, optimizer, out } = run;
  const backend = model.backend;
  const emit = hooks.onEvent ?? (() => {});
  if (!resumed) {
    const started = {
      rnnkit: VERSION,
      date: new Date().toISOString(),
      host: hostname(),
      ...(hooks.command ? { command: hooks.command } : {}),
    };
    writeRunJson(out, {
      ...c,
      source: task.data.source,
      backend: backend.info(),
      vocabSize: task.summary.vocabSize,
      parameters: model.parameterCount,
      started,
    });
    run.save();
  }
  const warn = (message: string): void => emit({ type: 'warning', message });
  const metrics = new MetricsLog(out, run.pos.step, warn);
  const gradflow = c.gradflowEvery > 0 ? new MetricsLog(out, run.pos.step, warn, GRADFLOW_FILE) : null;
  const clips = new ClipCounter(c.clipNorm);
  const { summary } = task;
  emit(
    startEvent(
      { dir: out, task: task.task, step: run.pos.step, steps: c.steps },
      model.parameterCount,
      summary,
      backend,
    ),
  );
  let last: StepMetrics | null = null;
  let stoppedEarly = false;
  let consecutiveSkips = 0;
  const startElapsed = run.pos.elapsedS;
  const start = performance.now();
  let windowStart = start,
    windowTokens = 0,
    lastYield = start,
    tokensProcessed = 0;
  const progress = new ProgressWindow(start);
  const checkpoint = (reason: 'periodic' | 'final' | 'interrupted' | 'time-limit'): void => {
    run.pos.elapsedS = startElapsed + (performance.now() - start) / 1000;
    metrics.flush(); // the rows up to the checkpoint are on disk before it is
    run.save();
    emit({ type: 'checkpoint', step: run.pos.step, dir: out, reason });
  };
  const { deadline } = hooks;
  const pastDeadline = (): boolean => deadline !== undefined && Date.now() >= deadline;
  let timeLimitReached = false;
  try {
    while (run.pos.step < c.steps && !hooks.signal?.aborted && !stoppedEarly) {
      if (pastDeadline()) {
        timeLimitReached = true;
        break;
      }
      const step = run.pos.step + 1;
      const epoch = task.cursor.epoch;
      const stepStart = performance.now();
      const lr = learningRate(c, step, epoch);
      // The gradient-flow view: the state gradients of this step's backward and the parts' gradient norms.
      const flow = gradflow !== null && (step % c.gradflowEvery === 0 || step === 1);
      let parts: ReturnType<typeof partGradNorms> | null = null;
      task.stack.recordStateGradients = flow;
      const { loss, tokens, gradNorm, updated } = trainingStep(
        task,
        optimizer,
        c,
        lr,
        c.dropout > 0 ? run.random.nextUint32() : undefined,
        flow ? () => (parts = partGradNorms(model)) : undefined,
      );
      task.stack.recordStateGradients = false;
      clips.add(gradNorm);
      if (flow && parts)
        gradflow!.append({
          step,
          state_grad_norms: task.stack.stateGradientNorms(),
          ...(parts as ReturnType<typeof partGradNorms>),
          clip_rate: clips.take(),
        });
      run.pos.step = step;
      if (!updated) {
        if (!c.skipNonfinite) {
          throw new RnnkitError(
            'ERR_NON_FINITE',
            `the ${Number.isFinite(loss) ? 'gradient norm' : 'loss'} became ${Number.isFinite(loss) ? gradNorm : loss} at step ${step}; training stopped and the last checkpoint in ${out} was kept (lower --lr, use --clip-norm, or pass --skip-nonfinite)`,
          );
        }
        run.pos.skippedSteps++;
        consecutiveSkips++;
        task.discardState();
        emit({ type: 'skipped', step, loss, gradNorm, skippedSteps: run.pos.skippedSteps });
        if (consecutiveSkips >= MAX_CONSECUTIVE_SKIPS) {
          const kept =
            run.savedStep === null
              ? 'nothing was saved'
              : `the last checkpoint in ${out} (step ${run.savedStep}) was kept`;
          throw new RnnkitError(
            'ERR_NON_FINITE',
            `${consecutiveSkips} consecutive steps (to step ${step}) had a non-finite loss or gradient, ${run.pos.skippedSteps} skipped in all; training stopped and ${kept} (lower --lr, use --clip-norm)`,
          );
        }
      } else {
        consecutiveSkips = 0;
        run.pos.smoothLoss = run.pos.smoothLoss * 0.999 + loss * 0.001;
      }
      windowTokens += tokens;
      tokensProcessed += tokens;
      const tick = progress.add(step, c.steps, loss, tokens, updated, performance.now());
      if (tick) emit(tick);
      let validated: Record<string, number> | null = null;
      if (step % c.evalEvery === 0 || step === c.steps) {
        const validation = task.validate();
        if (validation) {
          const best = run.pos.bestValLoss === null || validation.loss < run.pos.bestValLoss;
          if (best) {
            run.assertFinite();
            run.pos.bestValLoss = validation.loss;
            run.pos.evalsWithoutImprovement = 0;
            task.saveModel(join(out, BEST_DIR));
          } else {
            run.pos.evalsWithoutImprovement++;
          }
          validated = validationRow(validation);
          emit({ type: 'validation', step, loss: validation.loss, metrics: validation.metrics, best });
          if (best) emit({ type: 'checkpoint', step, dir: join(out, BEST_DIR), reason: 'best' });
          stoppedEarly = c.patience > 0 && run.pos.evalsWithoutImprovement >= c.patience;
        }
      }
      // A new seed per sample (seed + step, reproducible), or every sample would start alike. Kept in the
      // step's metrics row for the report.
      const sampled =
        c.sampleEvery > 0 && step % c.sampleEvery === 0 ? task.sample(c.sampleLength, (c.seed + step) % 2 ** 53) : null;
      // Every step is a row of metrics.jsonl (buffered, so this costs microseconds); logEvery only decides
      // which rows are also announced (the printed lines).
      const now = performance.now();
      last = {
        step,
        epoch,
        loss,
        smooth_loss: debiased(run.pos.smoothLoss, step - run.pos.skippedSteps),
        grad_norm: gradNorm,
        lr,
        tokens_per_s: tokens / ((now - stepStart) / 1000),
        elapsed_s: startElapsed + (now - start) / 1000,
        ...validated,
        ...(run.pos.skippedSteps ? { skipped_steps: run.pos.skippedSteps } : {}),
        ...(sampled !== null ? { sample: sampled } : {}),
      };
      metrics.append(last);
      if (step % c.logEvery === 0 || step === c.steps || validated || stoppedEarly) {
        metrics.flush();
        emit({ type: 'step', metrics: { ...last, tokens_per_s: windowTokens / ((now - windowStart) / 1000) } });
        windowStart = now;
        windowTokens = 0;
      }
      if (sampled !== null) emit({ type: 'sample', step, text: sampled });
      if (c.saveEvery > 0 && step % c.saveEvery === 0 && step < c.steps) checkpoint('periodic');
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    const interrupted = run.pos.step < c.steps && !stoppedEarly;
    checkpoint(timeLimitReached ? 'time-limit' : interrupted ? 'interrupted' : 'final');
    return {
      dir: out,
      task: task.task,
      steps: run.pos.step,
      metrics: last,
      parameterCount: model.parameterCount,
      vocabSize: summary.vocabSize,
      trainSize: summary.train,
      tokensProcessed,
      interrupted,
      timeLimitReached,
      stoppedEarly,
      bestValLoss: run.pos.bestValLoss,
      skippedSteps: run.pos.skippedSteps,
      config: c,
    };
  } finally {
    metrics.close();
    gradflow?.close();
  }
}
