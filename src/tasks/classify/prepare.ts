// From labelled examples to encoded training and validation sets: split (stratified, seeded), build the
// label set and the vocabulary from the training part (or take both from a checkpoint), encode with --max-len.
import type { ClassifyDataset } from './dataset.js';
import { encodeExamples, type EncodedSet } from './encode.js';
import { LabelSet } from './labels.js';
import { stratifiedSplit } from './split.js';
import { CharVocabulary } from './vocab.js';

export interface ClassifyDataOptions {
  valFrac: number;
  seed: number;
  /** Keep the first maxLen code points of each text (default: all). */
  maxLen?: number;
  /** Training characters seen fewer times are encoded as unknown (default 1: none). */
  minCount?: number;
  /** From a checkpoint (resume): used instead of building them from the training data. */
  labels?: LabelSet;
  vocab?: CharVocabulary;
}

export interface ClassifyData {
  labels: LabelSet;
  vocab: CharVocabulary;
  train: EncodedSet;
  val: EncodedSet | null;
}

/** Splits the examples (stratified, seeded), builds labels and vocabulary from the training part, and encodes both parts. */
export function prepareClassifyData(data: ClassifyDataset, options: ClassifyDataOptions): ClassifyData {
  const { train, val } = stratifiedSplit(data.examples, options.valFrac, options.seed);
  const labels = options.labels ?? LabelSet.fromExamples(train, data.source);
  const vocab =
    options.vocab ??
    CharVocabulary.fromTexts(
      train.map((e) => e.text),
      options.minCount,
    );
  const encode = (examples: typeof train, source: string): EncodedSet =>
    encodeExamples(examples, vocab, labels, source, options.maxLen);
  return {
    labels,
    vocab,
    train: encode(train, data.source),
    val: val.length > 0 ? encode(val, `${data.source} (validation split)`) : null,
  };
}
