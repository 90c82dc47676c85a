// Sequence classification as a task: examples of any length (bucketed by length, padded, masked by their
// lengths), a recurrent stack, pooling, a linear head and softmax cross-entropy; accuracy and macro-F1.
import { PlannedBatches } from '../planned-batches.js';
import { initialisedModel } from '../initialised-model.js';
import type { Backend } from '../../backend/types.js';
import { RnnkitError, invalidOption } from '../../errors.js';
import { ClassifierWorkspace } from '../../model/classifier.js';
import type { Model } from '../../model/model.js';
import type { TrainConfig } from '../../train/config.js';
import { textHash } from '../lm.js';
import { type DataSource, type DataSummary, type TaskRun, type Validation, refuseChangedData } from '../task.js';
import { BucketBatcher } from './batcher.js';
import type { ClassifyDataset, Example } from './dataset.js';
import type { EncodedSet } from './encode.js';
import { LabelSet } from './labels.js';
import { saveClassifier } from './model-file.js';
import { classificationMetrics } from './metrics.js';
import { load, scoreExamples } from './scoring.js';
import { prepareClassifyData } from './prepare.js';
import { CharVocabulary } from './vocab.js';

/** A fingerprint of the examples (labels and texts, in order), so that a resume on changed data is refused. */
export function examplesHash(examples: readonly Example[]): string {
  return textHash(examples.map((e) => `${e.label}\t${e.text}`).join('\n'));
}

const sum = (values: Int32Array): number => values.reduce((a, b) => a + b, 0);

export class ClassifierRun extends PlannedBatches implements TaskRun {
  readonly task = 'classify' as const;
  readonly summary: DataSummary;
  /** Padded steps / steps computed in the first epoch. */
  readonly paddedShare: number;
  protected readonly batches: BucketBatcher;
  protected readonly workspace: ClassifierWorkspace;

  constructor(
    readonly model: Model,
    readonly vocab: CharVocabulary,
    readonly labels: LabelSet,
    private readonly config: TrainConfig,
    readonly data: DataSource,
    train: EncodedSet,
    private readonly val: EncodedSet | null,
  ) {
    super();
    this.batches = new BucketBatcher(train, config.batch, config.seed);
    const longest = Math.max(this.batches.maxLength, ...(val ? [Math.max(...val.lengths)] : []));
    try {
      this.workspace = new ClassifierWorkspace(model, longest, config.batch, config.pool, {
        dropout: config.dropout,
        stateGradients: config.gradflowEvery > 0,
      });
    } catch (error) {
      if (!(error instanceof RnnkitError)) throw error;
      throw invalidOption(
        `the longest input has ${longest.toLocaleString('en-US')} characters: ${error.message}; cut the inputs with --max-len or lower --batch`,
      );
    }
    this.paddedShare = this.batches.epochStats(0).paddedShare;
    const notes = [
      `${(this.paddedShare * 100).toFixed(1)} % of the steps computed in an epoch are padding (batches of similar length)`,
    ];
    const cut = train.truncated + (val?.truncated ?? 0);
    if (cut > 0)
      notes.push(
        `${cut.toLocaleString('en-US')} inputs were longer than --max-len ${config.maxLen} and were cut to their first ${config.maxLen} characters`,
      );
    this.summary = {
      unit: 'examples',
      train: train.lengths.length,
      validation: val?.lengths.length ?? 0,
      vocabSize: vocab.size,
      perStep: `${config.batch} examples/step`,
      notes,
    };
  }

  trainStep(dropoutSeed: number | undefined): { loss: number; tokens: number } {
    const batch = this.batches.next();
    load(this.workspace, batch);
    const loss = this.workspace.forward(batch.T, batch.B, true, dropoutSeed) / batch.B;
    this.workspace.backward(batch.T, batch.B);
    return { loss, tokens: sum(batch.lengths) };
  }

  validate(): Validation | null {
    if (!this.val) return null;
    const { loss, predicted } = scoreExamples(this.workspace, this.val, this.config.batch);
    const m = classificationMetrics(predicted, this.val.labels, this.labels.labels, loss);
    return { loss, metrics: { accuracy: m.accuracy, macro_f1: m.macro_f1 } };
  }

  saveModel(dir: string): void {
    saveClassifier(dir, {
      model: this.model,
      vocab: this.vocab,
      labels: this.labels,
      pool: this.config.pool,
      maxLen: this.config.maxLen,
    });
  }

  override stateMeta(): Record<string, unknown> {
    return { vocab: this.vocab.toJSON(), labels: this.labels.toJSON() };
  }
}

const maxLenOf = (config: TrainConfig): number => (config.maxLen > 0 ? config.maxLen : Infinity);

export function createClassifierRun(dataset: ClassifyDataset, config: TrainConfig, backend: Backend): ClassifierRun {
  const { vocab, labels, train, val } = prepareClassifyData(dataset, {
    valFrac: config.valFrac,
    seed: config.seed,
    maxLen: maxLenOf(config),
  });
  const model = initialisedModel(backend, { ...config, vocabSize: vocab.size, outputs: labels.size }, config);
  const data = { source: dataset.source, size: dataset.examples.length, hash: examplesHash(dataset.examples) };
  return new ClassifierRun(model, vocab, labels, config, data, train, val);
}

export function restoreClassifierRun(
  model: Model,
  config: TrainConfig,
  meta: Record<string, unknown>,
  data: DataSource,
  dataset: ClassifyDataset,
  dir: string,
): ClassifierRun {
  refuseChangedData(data, { hash: examplesHash(dataset.examples), size: dataset.examples.length }, dir);
  const { vocab, labels, train, val } = prepareClassifyData(dataset, {
    valFrac: config.valFrac,
    seed: config.seed,
    maxLen: maxLenOf(config),
    vocab: CharVocabulary.fromJSON(meta['vocab']),
    labels: LabelSet.fromJSON(meta['labels']),
  });
  return new ClassifierRun(model, vocab, labels, config, data, train, val);
}
