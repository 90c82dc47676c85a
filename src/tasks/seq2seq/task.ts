// Sequence to sequence as a task (issue #11): pairs bucketed by source length, the encoder–decoder with
// attention trained by teacher forcing on the mean cross-entropy of the scored target tokens; validation
// reports that loss and the greedy outputs' word and phoneme (token) error rates.
import { PlannedBatches } from '../planned-batches.js';
import { initialisedModel } from '../initialised-model.js';
import type { Backend } from '../../backend/types.js';
import { invalidOption } from '../../errors.js';
import type { Model } from '../../model/model.js';
import { Seq2SeqWorkspace } from '../../model/seq2seq.js';
import { Seq2SeqDecoder } from '../../model/seq2seq-decode.js';
import type { TrainConfig } from '../../train/config.js';
import { BucketBatcher } from '../classify/batcher.js';
import { type DataSource, type DataSummary, type TaskRun, type Validation, refuseChangedData } from '../task.js';
import { loadPairs, longestOf, sourceSet } from './batches.js';
import { CMUDICT } from './cmudict.js';
import { scoreSequences } from './metrics.js';
import { saveTranslator } from './model-file.js';
import { type EncodedPairs, type ReferenceSet, type Seq2SeqData, prepareSeq2SeqData } from './prepare.js';
import { TokenVocabulary } from './vocab.js';

/** Inputs decoded at once when validating. */
const DECODE_BATCH = 256;

/** Mean cross-entropy per scored token of `pairs` (teacher forcing), in batches of `batch`. */
export function pairsLoss(ws: Seq2SeqWorkspace, pairs: EncodedPairs, batch: number): number {
  const order = Array.from(pairs.sources.keys()).sort((a, b) => pairs.sources[a]!.length - pairs.sources[b]!.length);
  let loss = 0,
    tokens = 0;
  for (let i = 0; i < order.length; i += batch) {
    const { S, T, B } = loadPairs(ws, pairs, order.slice(i, i + batch));
    const result = ws.forward(S, T, B, true);
    loss += result.loss;
    tokens += result.tokens;
  }
  return loss / tokens;
}

/** WER and PER of greedy outputs against the references. */
export function greedyScores(
  decoder: Seq2SeqDecoder,
  set: ReferenceSet,
  targetVocab: TokenVocabulary,
  maxLength: number,
) {
  const outputs = decoder
    .greedy(set.sources, { maxLength, lengthPenalty: 0 })
    .map((h) => h.ids.map((id) => targetVocab.token(id)));
  return scoreSequences(outputs, set.references);
}

export class Seq2SeqRun extends PlannedBatches implements TaskRun {
  readonly task = 'seq2seq' as const;
  readonly summary: DataSummary;
  readonly data: DataSource;
  protected readonly batches: BucketBatcher;
  protected readonly workspace: Seq2SeqWorkspace;
  private readonly decoder: Seq2SeqDecoder | null;
  private readonly maxTargetLength: number;

  constructor(
    readonly model: Model,
    private readonly config: TrainConfig,
    private readonly prepared: Seq2SeqData,
  ) {
    super();
    const { train, val } = prepared;
    this.data = prepared.data;
    this.batches = new BucketBatcher(sourceSet(train), config.batch, config.seed);
    const longest = longestOf(
      val ? { sources: [...train.sources, ...val.sources], targets: [...train.targets, ...val.targets] } : train,
    );
    this.maxTargetLength = longestOf(train).T - 1;
    this.workspace = new Seq2SeqWorkspace(model, longest.S, longest.T, config.batch, { dropout: config.dropout });
    const refs = prepared.valReferences;
    this.decoder = refs ? new Seq2SeqDecoder(model, longest.S, Math.min(DECODE_BATCH, refs.sources.length), 1) : null;
    const notes = [
      `source: ${prepared.sourceVocab.size} ${prepared.sourceVocab.unit === 'chars' ? 'characters' : 'tokens'} (with <unk>); target: ${prepared.targetVocab.size} (with <pad> <s> </s> <unk>)`,
    ];
    if (refs) notes.push(`validation: ${refs.sources.length.toLocaleString('en-US')} distinct sources, greedy WER/PER`);
    if (prepared.unknownSourceTokens > 0)
      notes.push(`${prepared.unknownSourceTokens} validation source tokens never occur in training (read as <unk>)`);
    this.summary = {
      unit: 'pairs',
      train: train.sources.length,
      validation: val?.sources.length ?? 0,
      vocabSize: prepared.targetVocab.size,
      perStep: `${config.batch} pairs/step`,
      notes,
    };
  }

  trainStep(dropoutSeed: number | undefined): { loss: number; tokens: number } {
    const batch = this.batches.next();
    const { S, T, B } = loadPairs(this.workspace, this.prepared.train, batch.indices);
    const { loss, tokens } = this.workspace.forward(S, T, B, true, dropoutSeed, this.config.labelSmoothing);
    this.workspace.backward(S, T, B);
    return { loss: loss / tokens, tokens };
  }

  validate(): Validation | null {
    const { val, valReferences } = this.prepared;
    if (!val || !valReferences || !this.decoder) return null;
    const loss = pairsLoss(this.workspace, val, this.config.batch);
    const scores = greedyScores(this.decoder, valReferences, this.prepared.targetVocab, this.maxTargetLength + 10);
    return { loss, metrics: { wer: scores.wer, per: scores.per } };
  }

  saveModel(dir: string): void {
    saveTranslator(dir, {
      model: this.model,
      sourceVocab: this.prepared.sourceVocab,
      targetVocab: this.prepared.targetVocab,
      maxTargetLength: this.maxTargetLength,
      lowercase: this.data.source === CMUDICT,
    });
  }

  override stateMeta(): Record<string, unknown> {
    return { source_vocab: this.prepared.sourceVocab.toJSON(), target_vocab: this.prepared.targetVocab.toJSON() };
  }
}

const settingsOf = (config: TrainConfig) => ({
  sourceTokens: config.sourceTokens,
  targetTokens: config.targetTokens,
  valFrac: config.valFrac,
});

export function createSeq2SeqRun(source: string, config: TrainConfig, backend: Backend): Seq2SeqRun {
  if (config.gradflowEvery > 0) throw invalidOption('--gradflow-every is not available for --task seq2seq (yet)');
  return runOf(prepareSeq2SeqData(source, settingsOf(config)), config, backend);
}

/** A fresh run (a new model of config's shape) on prepared data. */
export function runOf(prepared: Seq2SeqData, config: TrainConfig, backend: Backend): Seq2SeqRun {
  const shape = {
    architecture: 'seq2seq' as const,
    cell: config.cell,
    nonlinearity: config.nonlinearity,
    hidden: config.hidden,
    layers: config.layers,
    embed: config.embed,
    bidirectional: config.bidirectional,
    vocabSize: prepared.sourceVocab.size,
    outputs: prepared.targetVocab.size,
  };
  return new Seq2SeqRun(initialisedModel(backend, shape, config), config, prepared);
}

export function restoreSeq2SeqRun(
  model: Model,
  config: TrainConfig,
  meta: Record<string, unknown>,
  data: DataSource,
  dir: string,
): Seq2SeqRun {
  const vocabs = {
    source: TokenVocabulary.fromJSON(meta['source_vocab'], 'source'),
    target: TokenVocabulary.fromJSON(meta['target_vocab'], 'target'),
  };
  const prepared = prepareSeq2SeqData(data.source, settingsOf(config), vocabs);
  refuseChangedData(data, prepared.data, dir);
  return new Seq2SeqRun(model, config, prepared);
}
