// Training a character language model in memory (a page or a Web Worker): the loop of src/train/trainer.ts
// (the same steps, dropout seeds, schedule, validation, early stopping and samples, so the same seed gives the
// same weights as the CLI on the same backend) without a run directory. The model stays in memory; its
// model.safetensors bytes are one call away (modelBytes()).
import type { Backend } from '../backend/types.js';
import { invalidOption } from '../errors.js';
import { LanguageModelSteps, newLanguageModel, textSource } from '../tasks/lm-run.js';
import {
  DEFAULT_TRAIN_CONFIG,
  TRAIN_CONFIG_KEYS,
  type TrainConfig,
  refuseUnknownKeys,
  validateTrainConfig,
} from '../train/config.js';
import { startEvent, validationRow } from '../train/events.js';
import { differsFrom, refuseIneffective } from '../train/ineffective.js';
import { Optimizer } from '../train/optimizer.js';
import { ProgressWindow } from '../train/progress.js';
import { learningRate } from '../train/schedule.js';
import { trainingStep } from '../train/step.js';
import type { StepMetrics, TrainEvent, TrainResult } from '../train/trainer.js';
import { Random } from '../util/random.js';
import { yieldToEventLoop } from '../util/yield.js';

/** Where an in-memory run's events say it lives (the Node API's `dir`). */
export const IN_MEMORY = '(in memory)';

/** The Node API's TrainResult, less the run directory (there is none), the task (always lm) and the time
 *  limit (a page stops a run with its signal). */
export type MemoryTrainResult = Omit<TrainResult, 'dir' | 'task' | 'timeLimitReached'>;

/** The checked settings of an in-memory run. */
export function memoryTrainConfig(config: Partial<TrainConfig> = {}): TrainConfig {
  refuseUnknownKeys(config, TRAIN_CONFIG_KEYS, 'config');
  const c = validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...config });
  if (c.task !== 'lm') throw invalidOption(`the browser trains the language model (task lm) only, got task ${c.task}`);
  refuseIneffective(c, differsFrom(c, DEFAULT_TRAIN_CONFIG));
  return c;
}

/** A run: call train() once; `run` (model, vocabulary, modelBytes()) is usable before, during and after. */
export class MemoryTraining {
  readonly config: TrainConfig;
  readonly run: LanguageModelSteps;
  readonly #optimizer: Optimizer;

  constructor(
    readonly text: string,
    backend: Backend,
    config: Partial<TrainConfig> = {},
  ) {
    if (typeof text !== 'string' || text.length === 0) throw invalidOption('text must be a non-empty string');
    this.config = memoryTrainConfig(config);
    const { model, vocab } = newLanguageModel(backend, text, this.config);
    this.run = new LanguageModelSteps(
      model,
      vocab,
      this.config,
      textSource(text),
      vocab.encode(text, 'the training text'),
    );
    this.#optimizer = new Optimizer(backend, this.config, model.parameterCount);
  }

  async train(hooks: { onEvent?: (event: TrainEvent) => void; signal?: AbortSignal } = {}): Promise<MemoryTrainResult> {
    const { run, config: c } = this;
    const { model, summary } = run;
    const emit = hooks.onEvent ?? (() => {});
    const random = new Random(c.seed + 0x5eed); // dropout masks, as the CLI's trainer draws them
    emit(
      startEvent({ dir: IN_MEMORY, task: 'lm', step: 0, steps: c.steps }, model.parameterCount, summary, model.backend),
    );
    let step = 0,
      smoothLoss = 0,
      skipped = 0,
      tokensProcessed = 0,
      windowTokens = 0;
    let bestValLoss: number | null = null,
      evalsWithoutImprovement = 0,
      stoppedEarly = false,
      last: StepMetrics | null = null;
    const start = performance.now();
    let windowStart = start,
      lastYield = start;
    const progress = new ProgressWindow(start);
    while (step < c.steps && !hooks.signal?.aborted && !stoppedEarly) {
      step++;
      const epoch = run.cursor.epoch;
      const lr = learningRate(c, step, epoch);
      const { loss, tokens, gradNorm, updated } = trainingStep(
        run,
        this.#optimizer,
        c,
        lr,
        c.dropout > 0 ? random.nextUint32() : undefined,
      );
      if (!updated) {
        if (!c.skipNonfinite)
          throw invalidOption(
            `the loss or gradient became non-finite at step ${step} (lower lr, use clipNorm, or set skipNonfinite)`,
          );
        skipped++;
        run.discardState();
        emit({ type: 'skipped', step, loss, gradNorm, skippedSteps: skipped });
      } else {
        smoothLoss = smoothLoss * 0.999 + loss * 0.001;
      }
      windowTokens += tokens;
      tokensProcessed += tokens;
      const tick = progress.add(step, c.steps, loss, tokens, updated, performance.now());
      if (tick) emit(tick);
      let validated: Record<string, number> | null = null;
      if (step % c.evalEvery === 0 || step === c.steps) {
        const validation = run.validate();
        if (validation) {
          const best = bestValLoss === null || validation.loss < bestValLoss;
          if (best) [bestValLoss, evalsWithoutImprovement] = [validation.loss, 0];
          else evalsWithoutImprovement++;
          validated = validationRow(validation);
          emit({ type: 'validation', step, loss: validation.loss, metrics: validation.metrics, best });
          stoppedEarly = c.patience > 0 && evalsWithoutImprovement >= c.patience;
        }
      }
      if (step % c.logEvery === 0 || step === c.steps || validated || stoppedEarly) {
        const now = performance.now();
        const n = step - skipped;
        last = {
          step,
          epoch,
          loss,
          smooth_loss: n > 0 ? smoothLoss / (1 - 0.999 ** n) : Number.NaN,
          grad_norm: gradNorm,
          lr,
          tokens_per_s: windowTokens / ((now - windowStart) / 1000),
          elapsed_s: (now - start) / 1000,
          ...validated,
          ...(skipped ? { skipped_steps: skipped } : {}),
        };
        emit({ type: 'step', metrics: last });
        [windowStart, windowTokens] = [now, 0];
      }
      if (c.sampleEvery > 0 && step % c.sampleEvery === 0) {
        const text = run.sample(c.sampleLength, (c.seed + step) % 2 ** 53);
        if (text !== null) emit({ type: 'sample', step, text });
      }
      if (performance.now() - lastYield > 50) {
        await yieldToEventLoop(); // lets an abort (or the page) in
        lastYield = performance.now();
      }
    }
    return {
      steps: step,
      metrics: last,
      parameterCount: model.parameterCount,
      vocabSize: summary.vocabSize,
      trainSize: summary.train,
      tokensProcessed,
      interrupted: step < c.steps && !stoppedEarly,
      stoppedEarly,
      bestValLoss,
      skippedSteps: skipped,
      config: c,
    };
  }

  /** Frees the model, its workspaces and the optimizer state (wasm memory). */
  dispose(): void {
    this.#optimizer.dispose();
    this.run.dispose();
  }
}
