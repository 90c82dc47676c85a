// The data of a seq2seq run: the training and validation pairs (CMUdict's fixed split, or a file's pairs
// split by a hash of the source, so that a word's alternatives stay on one side), the two vocabularies
// (from the training pairs) and every pair as ids; validation groups each distinct source with all its
// targets, the references WER/PER are scored against.
import { invalidInput } from '../../errors.js';
import { textHash } from '../lm-run.js';
import type { DataSource } from '../task.js';
import { CMUDICT, cmudictSplit, fnv1a, loadCmudict } from './cmudict.js';
import { type Pair, type PairsDataset, groupBySource, readPairsFile } from './pairs.js';
import { type TokenUnit, tokenize } from './tokens.js';
import { TokenVocabulary } from './vocab.js';

/** Pairs as ids: pair i's source is sources[i] (≥ 1 id), its target targets[i] (no <s> or </s>). */
export interface EncodedPairs {
  sources: Int32Array[];
  targets: Int32Array[];
}

/** Each distinct source once, with every target it has (as tokens): what an output is scored against. */
export interface ReferenceSet {
  sources: Int32Array[];
  references: string[][][];
}

export interface Seq2SeqData {
  data: DataSource;
  sourceVocab: TokenVocabulary;
  targetVocab: TokenVocabulary;
  train: EncodedPairs;
  val: EncodedPairs | null;
  valReferences: ReferenceSet | null;
  /** Source tokens of the validation pairs that the training pairs never had (encoded as unknown). */
  unknownSourceTokens: number;
}

export interface Seq2SeqSettings {
  sourceTokens: TokenUnit;
  targetTokens: TokenUnit;
  /** A file's share of sources held out for validation (CMUdict has its own split). */
  valFrac: number;
}

/** The training and validation pairs of `source` (a file path, or 'cmudict'). */
export function readSeq2SeqPairs(source: string, valFrac: number): { train: PairsDataset; val: PairsDataset } {
  if (source === CMUDICT) {
    const entries = loadCmudict();
    return { train: cmudictSplit(entries, 'train'), val: cmudictSplit(entries, 'validation') };
  }
  const all = readPairsFile(source);
  const held = (pair: Pair): boolean => fnv1a(pair.source) % 10_000 < valFrac * 10_000;
  const train = all.pairs.filter((p) => !held(p));
  if (train.length === 0)
    throw invalidInput(`${source}: --val-frac ${valFrac} leaves no pairs for training (the split is by source)`);
  return { train: { source, pairs: train }, val: { source, pairs: all.pairs.filter(held) } };
}

/** A fingerprint of the pairs, so that a resume on changed data is refused. */
export const pairsHash = (pairs: readonly Pair[]): string =>
  textHash(pairs.map((p) => `${p.source}\t${p.target}`).join('\n'));

export function encodePairs(pairs: readonly Pair[], source: TokenVocabulary, target: TokenVocabulary): EncodedPairs {
  return {
    sources: pairs.map((p) => source.encode(p.source)),
    targets: pairs.map((p) => target.encode(p.target)),
  };
}

export function referenceSet(pairs: readonly Pair[], source: TokenVocabulary, targetUnit: TokenUnit): ReferenceSet {
  const groups = [...groupBySource(pairs)];
  return {
    sources: groups.map(([text]) => source.encode(text)),
    references: groups.map(([, targets]) => targets.map((t) => tokenize(t, targetUnit))),
  };
}

export function prepareSeq2SeqData(
  source: string,
  settings: Seq2SeqSettings,
  vocabs?: { source: TokenVocabulary; target: TokenVocabulary },
): Seq2SeqData {
  return preparePairs(source, readSeq2SeqPairs(source, settings.valFrac), settings, vocabs);
}

/** The data of training and validation pairs already read (`source` names them). */
export function preparePairs(
  source: string,
  { train, val }: { train: PairsDataset; val: PairsDataset },
  settings: Omit<Seq2SeqSettings, 'valFrac'>,
  vocabs?: { source: TokenVocabulary; target: TokenVocabulary },
): Seq2SeqData {
  const sourceVocab =
    vocabs?.source ??
    TokenVocabulary.fromTexts(
      train.pairs.map((p) => p.source),
      settings.sourceTokens,
      'source',
    );
  const targetVocab =
    vocabs?.target ??
    TokenVocabulary.fromTexts(
      train.pairs.map((p) => p.target),
      settings.targetTokens,
      'target',
    );
  const hasVal = val.pairs.length > 0;
  let unknown = 0;
  for (const pair of val.pairs) for (const id of sourceVocab.encode(pair.source)) if (id === 0) unknown++;
  return {
    data: { source, size: train.pairs.length + val.pairs.length, hash: pairsHash([...train.pairs, ...val.pairs]) },
    sourceVocab,
    targetVocab,
    train: encodePairs(train.pairs, sourceVocab, targetVocab),
    val: hasVal ? encodePairs(val.pairs, sourceVocab, targetVocab) : null,
    valReferences: hasVal ? referenceSet(val.pairs, sourceVocab, settings.targetTokens) : null,
    unknownSourceTokens: unknown,
  };
}
