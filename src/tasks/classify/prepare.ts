// From a data file (or the built-in corpus) to encoded training and validation sets: read, split
// (stratified, seeded) or read a separate validation file, build the label set and the vocabulary from the
// training part (or take both from a checkpoint), and encode with --max-len.
import { invalidOption } from '../../errors.js';
import { readClassifyFile, type ClassifyDataset, type ClassifyFormat } from './dataset.js';
import { encodeExamples, type EncodedSet } from './encode.js';
import { LabelSet } from './labels.js';
import { loadSpamAssassin, type SpamOptions } from './spam.js';
import { stratifiedSplit } from './split.js';
import { CharVocabulary } from './vocab.js';

export interface ClassifyDataOptions {
  /** The data file; absent: the built-in SpamAssassin corpus. */
  file?: string;
  format?: ClassifyFormat;
  spam?: SpamOptions;
  /** A separate validation file (every label in it must occur in the training data); excludes valFrac. */
  valFile?: string;
  valFrac: number;
  seed: number;
  maxLen?: number;
  /** Training characters seen fewer times are encoded as unknown (default 1: none). */
  minCount?: number;
  /** From a checkpoint (resume, --init-from): used instead of building them from the training data. */
  labels?: LabelSet;
  vocab?: CharVocabulary;
}

export interface ClassifyData {
  source: string;
  labels: LabelSet;
  vocab: CharVocabulary;
  train: EncodedSet;
  val: EncodedSet | null;
}

export function prepareClassifyData(options: ClassifyDataOptions): ClassifyData {
  if (options.valFile !== undefined && options.valFrac > 0) throw invalidOption('give either val-frac or a validation file, not both');
  const data: ClassifyDataset = options.file === undefined ? loadSpamAssassin(options.spam) : readClassifyFile(options.file, { format: options.format });
  const { train, val } = stratifiedSplit(data.examples, options.valFrac, options.seed);
  const labels = options.labels ?? LabelSet.fromExamples(train, data.source);
  const vocab = options.vocab ?? CharVocabulary.fromTexts(train.map((e) => e.text), options.minCount);
  const encode = (examples: typeof train, source: string): EncodedSet => encodeExamples(examples, vocab, labels, source, options.maxLen);
  let valSet: EncodedSet | null = val.length > 0 ? encode(val, data.source) : null;
  if (options.valFile !== undefined) {
    const separate = readClassifyFile(options.valFile, { format: options.format });
    valSet = encode(separate.examples, separate.source);
  }
  return { source: data.source, labels, vocab, train: encode(train, data.source), val: valSet };
}

/** One line for the user: sizes, classes, vocabulary, and how many examples --max-len cut. */
export function describeClassifyData(data: ClassifyData, maxLen?: number): string {
  const n = (x: number): string => x.toLocaleString('en-US');
  const count = (set: EncodedSet): number => set.lengths.length;
  const parts = [
    `${n(count(data.train))} training${data.val ? ` + ${n(count(data.val))} validation` : ''} examples`,
    `${data.labels.size} classes`,
    `vocabulary ${n(data.vocab.size)} (id 0 = unknown)`,
  ];
  const cut = data.train.truncated + (data.val?.truncated ?? 0);
  if (maxLen !== undefined && maxLen !== Infinity) parts.push(`${n(cut)} examples cut to --max-len ${n(maxLen)}`);
  if (data.val && data.val.unknown > 0) parts.push(`${n(data.val.unknown)} validation characters unknown`);
  return parts.join(' | ');
}
