// The adding problem as a task: a fresh batch of generated sequences every step (batch i of the run's seed,
// so a resume continues exactly), a last-step regressor, mean squared error; validation on its own stream.
import { IndependentBatches } from '../independent-batches.js';
import type { Backend } from '../../backend/types.js';
import { invalidInput, invalidOption } from '../../errors.js';
import type { Model } from '../../model/model.js';
import { initialisedModel } from '../initialised-model.js';
import { RegressorWorkspace } from '../../model/regressor.js';
import type { RecurrentStack } from '../../model/stack.js';
import type { TrainConfig } from '../../train/config.js';
import type { DataCursor, DataSource, DataSummary, TaskRun, Validation } from '../task.js';
import { ADDING_BASELINE, addingBatch, batchRandom } from './generate.js';
import { saveSyntheticModel } from './model-file.js';
import { VALIDATION_SEQUENCES, scoreAdding } from './score.js';

/** Nominal epoch of a generated task (the data never repeats): the step schedule's unit. */
export const GENERATED_EPOCH = 1000;

/** What a generated task's run records as its data: the generator, so that a resume with another is refused. */
export const generatedSource = (task: string, length: number): DataSource => ({
  source: task,
  size: length,
  hash: `${task}-v1`,
});

/** The cursor of a generated task: step index → (nominal epoch, position). */
export class GeneratedCursor {
  index = 0;
  get cursor(): DataCursor {
    return { epoch: Math.floor(this.index / GENERATED_EPOCH), position: this.index % GENERATED_EPOCH };
  }
  set cursor(c: DataCursor) {
    if (c.position >= GENERATED_EPOCH) throw invalidInput('the trainer state points past the end of the epoch');
    this.index = c.epoch * GENERATED_EPOCH + c.position;
  }
}

/** The fresh run or restored run's data side must match the generator it was trained with. */
export function checkGenerated(data: DataSource, task: string, length: number, dir: string): void {
  const expected = generatedSource(task, length);
  if (data.source !== expected.source || data.size !== expected.size || data.hash !== expected.hash) {
    throw invalidInput(
      `the checkpoint in ${dir} was trained on ${data.source} (${data.size}, ${data.hash}), not ${expected.source} (${expected.size}, ${expected.hash})`,
    );
  }
}

export class AddingRun extends IndependentBatches implements TaskRun {
  readonly task = 'adding' as const;
  readonly summary: DataSummary;
  readonly stepsPerEpoch = GENERATED_EPOCH;
  readonly data: DataSource;
  readonly workspace: RegressorWorkspace;
  private readonly position = new GeneratedCursor();

  get stack(): RecurrentStack {
    return this.workspace.stack;
  }

  constructor(
    readonly model: Model,
    private readonly config: TrainConfig,
  ) {
    super();
    this.data = generatedSource('adding', config.length);
    this.workspace = new RegressorWorkspace(model, config.length, config.batch, {
      dropout: config.dropout,
      stateGradients: config.gradflowEvery > 0,
    });
    this.summary = {
      unit: 'sequences (generated)',
      train: config.steps * config.batch,
      validation: VALIDATION_SEQUENCES,
      vocabSize: 2,
      perStep: `${config.batch} sequences of ${config.length} steps/step`,
      notes: [
        `a fresh batch every step; predicting 1 always scores MSE ${ADDING_BASELINE.toFixed(4)}, the bar to beat`,
      ],
    };
  }

  get cursor(): DataCursor {
    return this.position.cursor;
  }

  set cursor(cursor: DataCursor) {
    this.position.cursor = cursor;
  }

  /** Loads training batch `index` into the workspace. */
  loadBatch(index: number): void {
    const { length: T, batch: B, seed } = this.config;
    addingBatch(batchRandom(seed, 'train', index), T, B, this.workspace.frames.data, this.workspace.targets.data);
  }

  trainStep(dropoutSeed: number | undefined): { loss: number; tokens: number } {
    const { length: T, batch: B } = this.config;
    this.loadBatch(this.position.index++);
    const loss = this.workspace.forward(T, B, true, dropoutSeed) / B;
    this.workspace.backward(T, B);
    return { loss, tokens: T * B };
  }

  validate(): Validation {
    const mse = scoreAdding(this.workspace, this.config.length, this.config.seed, 'validation', VALIDATION_SEQUENCES);
    return { loss: mse, metrics: { mse } };
  }

  saveModel(dir: string): void {
    saveSyntheticModel(dir, { task: 'adding', model: this.model, length: this.config.length });
  }
}

export function createAddingRun(config: TrainConfig, backend: Backend): AddingRun {
  if (config.embed > 0)
    throw invalidOption(
      `--embed ${config.embed}: the adding problem reads float frames (a value and a marker), which have no embedding; leave --embed out`,
    );
  return new AddingRun(initialisedModel(backend, { ...config, embed: 0, vocabSize: 2, outputs: 1 }, config), config);
}
