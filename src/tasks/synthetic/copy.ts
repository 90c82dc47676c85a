// The copy-memory problem as a task: a fresh batch of generated sequences every step, a recurrent stack
// over one-hot symbols (the language model's workspace, its state reset for every batch), per-step
// softmax cross-entropy; validation loss and the accuracy of the recalled symbols on their own stream.
import { IndependentBatches } from '../independent-batches.js';
import type { Backend } from '../../backend/types.js';
import { validateConfig } from '../../model/config.js';
import type { Model } from '../../model/model.js';
import { initialisedModel } from '../initialised-model.js';
import type { RecurrentStack } from '../../model/stack.js';
import { Workspace, checkWorkspaceSize } from '../../model/workspace.js';
import type { TrainConfig } from '../../train/config.js';
import type { DataCursor, DataSource, DataSummary, TaskRun, Validation } from '../task.js';
import { GENERATED_EPOCH, GeneratedCursor, generatedSource } from './adding.js';
import { COPY_VOCAB, batchRandom, copyBaseline, copyBatch, copySteps } from './generate.js';
import { saveSyntheticModel } from './model-file.js';
import { VALIDATION_SEQUENCES, scoreCopy } from './score.js';

export class CopyRun extends IndependentBatches implements TaskRun {
  readonly task = 'copy' as const;
  readonly summary: DataSummary;
  readonly stepsPerEpoch = GENERATED_EPOCH;
  readonly data: DataSource;
  readonly workspace: Workspace;
  private readonly position = new GeneratedCursor();

  constructor(
    readonly model: Model,
    private readonly config: TrainConfig,
  ) {
    super();
    this.data = generatedSource('copy', config.delay);
    this.workspace = new Workspace(model, copySteps(config.delay), config.batch, {
      dropout: config.dropout,
      stateGradients: config.gradflowEvery > 0,
    });
    this.summary = {
      unit: 'sequences (generated)',
      train: config.steps * config.batch,
      validation: VALIDATION_SEQUENCES,
      vocabSize: COPY_VOCAB,
      perStep: `${config.batch} sequences of ${copySteps(config.delay)} steps/step`,
      notes: [
        `a fresh batch every step; the memoryless strategy scores ${copyBaseline(config.delay).toFixed(4)} nats/step (10·ln 8/(delay + 20)), the bar to beat`,
      ],
    };
  }

  get stack(): RecurrentStack {
    return this.workspace.stack;
  }

  get cursor(): DataCursor {
    return this.position.cursor;
  }

  set cursor(cursor: DataCursor) {
    this.position.cursor = cursor;
  }

  /** Loads training batch `index` into the workspace, from a zero state. */
  loadBatch(index: number): void {
    copyBatch(
      batchRandom(this.config.seed, 'train', index),
      this.config.delay,
      this.config.batch,
      this.workspace.ids.data,
      this.workspace.targets.data,
    );
    this.workspace.resetState();
  }

  trainStep(dropoutSeed: number | undefined): { loss: number; tokens: number } {
    const T = copySteps(this.config.delay),
      B = this.config.batch;
    this.loadBatch(this.position.index++);
    const loss = this.workspace.forward(T, true, dropoutSeed) / (T * B);
    this.workspace.backward(T);
    return { loss, tokens: T * B };
  }

  validate(): Validation {
    const { loss, accuracy } = scoreCopy(
      this.workspace,
      this.config.delay,
      this.config.seed,
      'validation',
      VALIDATION_SEQUENCES,
    );
    return { loss, metrics: { accuracy } };
  }

  saveModel(dir: string): void {
    saveSyntheticModel(dir, { task: 'copy', model: this.model, length: this.config.delay });
  }
}

export function createCopyRun(config: TrainConfig, backend: Backend): CopyRun {
  const modelConfig = validateConfig({ ...config, vocabSize: COPY_VOCAB, outputs: COPY_VOCAB });
  checkWorkspaceSize(modelConfig, copySteps(config.delay), config.batch);
  return new CopyRun(initialisedModel(backend, modelConfig, config), config);
}
