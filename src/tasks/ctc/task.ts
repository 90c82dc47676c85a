// Speech recognition as a task: utterances of a directory (transcripts.tsv and WAV files) as log-mel frames,
// batched by length and masked, a recurrent stack (bidirectional by default) with a per-frame head over the
// alphabet plus the blank, and the CTC loss; validation reports the loss and greedy CER/WER.
import { PlannedBatches } from '../planned-batches.js';
import { initialisedModel } from '../initialised-model.js';
import { DEFAULT_FEATURES, type FeatureSettings } from '../../audio/features.js';
import type { Backend } from '../../backend/types.js';
import { badCheckpoint, invalidOption } from '../../errors.js';
import type { Model } from '../../model/model.js';
import { Alphabet } from '../../speech/alphabet.js';
import { CtcWorkspace } from '../../speech/ctc-model.js';
import type { TrainConfig } from '../../train/config.js';
import { BatchPlanner } from '../classify/batcher.js';
import { type DataSource, type DataSummary, type TaskRun, type Validation, refuseChangedData } from '../task.js';
import { loadBatch, scoreSpeech } from './batch.js';
import { type SpeechData, type SpeechSet, prepareSpeechData } from './data.js';
import { saveRecogniser } from './model-file.js';
import { featuresOf } from './recogniser-file.js';

const longest = (values: Iterable<number>): number => Math.max(1, ...values);

/** The feature settings of a run: the defaults with its --stack. */
export const featureSettingsOf = (config: TrainConfig): FeatureSettings => ({
  ...DEFAULT_FEATURES,
  stack: config.stack,
});

export class CtcRun extends PlannedBatches implements TaskRun {
  readonly task = 'ctc' as const;
  readonly summary: DataSummary;
  readonly data: DataSource;
  readonly alphabet: Alphabet;
  protected readonly batches: BatchPlanner;
  protected readonly workspace: CtcWorkspace;
  private readonly train: SpeechSet;
  private readonly val: SpeechSet | null;

  constructor(
    readonly model: Model,
    config: TrainConfig,
    readonly features: FeatureSettings,
    speech: SpeechData,
  ) {
    super();
    if (config.gradflowEvery > 0) throw invalidOption('--gradflow-every is not available for --task ctc (yet)');
    ({ alphabet: this.alphabet, train: this.train, val: this.val, data: this.data } = speech);
    this.batches = new BatchPlanner(this.train.frames, config.batch, config.seed);
    const sets = [this.train, ...(this.val ? [this.val] : [])];
    const maxT = longest(sets.flatMap((s) => [...s.frames]));
    const maxS = longest(sets.flatMap((s) => s.labels.map((l) => l.length)));
    this.workspace = new CtcWorkspace(model, maxT, config.batch, maxS, { dropout: config.dropout });
    const tooShort = sets.flatMap((s) => s.labels.filter((l, i) => minimumFrames(l) > s.frames[i]!)).length;
    const hours = speech.seconds / 3600;
    const notes = [
      `${hours.toFixed(2)} h of audio; ${(this.batches.epochStats(0).paddedShare * 100).toFixed(1)} % of the frames computed in an epoch are padding`,
      `alphabet ${JSON.stringify(this.alphabet.symbols.join(''))} and the blank; features: ${this.features.mels} log-mels, ${this.features.stack} frames stacked (${this.features.mels * this.features.stack} inputs per frame)`,
    ];
    if (tooShort > 0)
      notes.push(
        `${tooShort} utterances have fewer frames than their transcript needs: their loss counts as 0 (zero_infinity); lower --stack`,
      );
    this.summary = {
      unit: 'utterances',
      train: this.train.frames.length,
      validation: this.val?.frames.length ?? 0,
      vocabSize: this.alphabet.size,
      perStep: `${config.batch} utterances/step`,
      notes,
    };
  }

  trainStep(dropoutSeed: number | undefined): { loss: number; tokens: number } {
    const { T, B, S, frames } = loadBatch(this.workspace, this.train, this.batches.nextExamples());
    const loss = this.workspace.forward(T, B, S, dropoutSeed);
    this.workspace.backward(T, B);
    return { loss, tokens: frames };
  }

  validate(): Validation | null {
    if (!this.val) return null;
    const { loss, cer, wer } = scoreSpeech(this.workspace, this.val, this.alphabet);
    return { loss, metrics: { cer, wer } };
  }

  saveModel(dir: string): void {
    saveRecogniser(dir, { model: this.model, alphabet: this.alphabet, features: this.features });
  }

  override stateMeta(): Record<string, unknown> {
    return { alphabet: this.alphabet.symbols, features: this.features };
  }
}

/** Frames CTC needs for a transcript: one per label and one blank between each pair of equal neighbours. */
export function minimumFrames(labels: readonly number[]): number {
  let repeats = 0;
  for (let i = 1; i < labels.length; i++) if (labels[i] === labels[i - 1]) repeats++;
  return labels.length + repeats;
}

export function createCtcRun(dir: string, config: TrainConfig, backend: Backend): CtcRun {
  if (config.embed > 0)
    throw invalidOption(`--embed ${config.embed}: a recogniser reads float frames, which have no embedding`);
  const features = featureSettingsOf(config);
  const speech = prepareSpeechData(dir, features, { valFrac: config.valFrac, seed: config.seed });
  const C = speech.alphabet.size;
  const shape = { ...config, embed: 0, vocabSize: C, outputs: C, frameWidth: features.mels * features.stack };
  return new CtcRun(initialisedModel(backend, shape, config), config, features, speech);
}

export function restoreCtcRun(
  model: Model,
  config: TrainConfig,
  meta: Record<string, unknown>,
  data: DataSource,
  dir: string,
): CtcRun {
  const path = `${dir}: trainer state`;
  const symbols = meta['alphabet'];
  if (!Array.isArray(symbols) || !symbols.every((s) => typeof s === 'string'))
    throw badCheckpoint(`${path}: alphabet must be a list of characters`);
  const features = featuresOf(meta['features'], path);
  const speech = prepareSpeechData(data.source, features, {
    valFrac: config.valFrac,
    seed: config.seed,
    alphabet: new Alphabet(symbols as string[]),
  });
  refuseChangedData(data, speech.data, dir);
  return new CtcRun(model, config, features, speech);
}
