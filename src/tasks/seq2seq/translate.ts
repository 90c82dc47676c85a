// Translating texts with a seq2seq checkpoint (rnnkit translate, rnnkit eval): tokens → ids (a token never
// seen in training reads as the unknown entry, and is reported), greedy decoding (--beam 1) or beam search,
// ids → text; the attention matrix of an output; the loss, WER and PER on a file of pairs.
import { invalidInput } from '../../errors.js';
import { Seq2SeqWorkspace } from '../../model/seq2seq.js';
import { type DecodeOptions, type Hypothesis, Seq2SeqDecoder, checkDecodeOptions } from '../../model/seq2seq-decode.js';
import type { Translator } from './model-file.js';
import { scoreSequences } from './metrics.js';
import type { PairsDataset } from './pairs.js';
import { encodePairs, referenceSet } from './prepare.js';
import { pairsLoss } from './task.js';
import { detokenize, tokenize } from './tokens.js';
import { SOURCE_UNKNOWN } from './vocab.js';

/** Inputs decoded at once. */
export const TRANSLATE_BATCH = 64;

export interface TranslateOptions extends Partial<DecodeOptions> {}

export interface Candidate {
  output: string;
  /** log P / GNMT length penalty (log P with --length-penalty 0). */
  score: number;
}

export interface Translation extends Candidate {
  input: string;
  /** The source tokens never seen in training (each read as the unknown entry). */
  unknown: string[];
  /** --nbest: the best hypotheses, best first (the first is output/score). */
  nbest?: Candidate[];
}

/** The options in effect: beam 1 (greedy) unless given, --max-length 10 more than the longest training target. */
export function decodeOptions(t: Translator, o: TranslateOptions = {}): DecodeOptions {
  const options = {
    beam: o.beam ?? 1,
    nbest: o.nbest ?? 1,
    lengthPenalty: o.lengthPenalty ?? 0,
    maxLength: o.maxLength ?? t.maxTargetLength + 10,
  };
  checkDecodeOptions(options);
  return options;
}

/** The source ids of each input; an input without tokens is refused, naming it. */
export function encodeInputs(t: Translator, inputs: readonly string[]): { ids: Int32Array[]; unknown: string[][] } {
  const unknown: string[][] = [];
  const ids = inputs.map((input, i) => {
    const tokens = tokenize(t.lowercase ? input.toLowerCase() : input, t.sourceVocab.unit);
    if (tokens.length === 0) throw invalidInput(`input ${i + 1} is empty (no ${t.sourceVocab.unit} to translate)`);
    const encoded = Int32Array.from(tokens, (token) => t.sourceVocab.id(token));
    unknown.push(tokens.filter((_, j) => encoded[j] === SOURCE_UNKNOWN));
    return encoded;
  });
  return { ids, unknown };
}

/** Greedy decoding (beam 1) or beam search of encoded inputs: per input, its n-best hypotheses. */
export function decodeIds(t: Translator, sources: readonly Int32Array[], options: DecodeOptions): Hypothesis[][] {
  if (sources.length === 0) return [];
  const maxS = Math.max(...sources.map((s) => s.length));
  const decoder = new Seq2SeqDecoder(t.model, maxS, Math.min(TRANSLATE_BATCH, sources.length), options.beam);
  try {
    return options.beam === 1 ? decoder.greedy(sources, options).map((h) => [h]) : decoder.beamSearch(sources, options);
  } finally {
    decoder.dispose();
  }
}

export const outputText = (t: Translator, ids: readonly number[]): string =>
  detokenize(
    ids.map((id) => t.targetVocab.token(id)),
    t.targetVocab.unit,
  );

export function translate(t: Translator, inputs: readonly string[], o: TranslateOptions = {}): Translation[] {
  const options = decodeOptions(t, o);
  const { ids, unknown } = encodeInputs(t, inputs);
  return decodeIds(t, ids, options).map((list, i) => {
    const candidates = list.map((h) => ({ output: outputText(t, h.ids), score: h.score }));
    return {
      input: inputs[i]!,
      ...candidates[0]!,
      unknown: unknown[i]!,
      ...(o.nbest !== undefined ? { nbest: candidates } : {}),
    };
  });
}

/** Attention weights of `output` given `input`: rows the output tokens then </s>, columns the source tokens. */
export function attentionMatrix(t: Translator, input: Int32Array, output: readonly number[]): number[][] {
  const S = input.length,
    T = output.length + 1;
  const ws = new Seq2SeqWorkspace(t.model, S, T, 1);
  try {
    ws.sourceIds.data.set(input);
    ws.sourceLengths.data[0] = S;
    ws.targetIn.data.set([1, ...output]);
    ws.forward(S, T, 1, false);
    const weights = ws.attention(T, 1, S).data;
    return Array.from({ length: T }, (_, row) => Array.from(weights.subarray(row * S, (row + 1) * S)));
  } finally {
    ws.dispose();
  }
}

export interface Seq2SeqEvaluation {
  /** Mean cross-entropy per target token (with </s>), teacher forcing. */
  loss: number;
  wer: number;
  per: number;
  /** Distinct sources scored. */
  examples: number;
  /** Source tokens never seen in training (read as the unknown entry). */
  unknown_tokens: number;
  beam: number;
  /** Decoding time and rate (outputs per second of decoding, batched). */
  decode_s: number;
  words_per_s: number;
}

export function evaluateTranslator(t: Translator, data: PairsDataset, o: TranslateOptions = {}): Seq2SeqEvaluation {
  const options = decodeOptions(t, o);
  const pairs = encodePairs(data.pairs, t.sourceVocab, t.targetVocab);
  const S = Math.max(...pairs.sources.map((s) => s.length)),
    T = Math.max(...pairs.targets.map((s) => s.length)) + 1;
  const batch = 64;
  const ws = new Seq2SeqWorkspace(t.model, S, T, Math.min(batch, pairs.sources.length));
  let loss: number;
  try {
    loss = pairsLoss(ws, pairs, Math.min(batch, pairs.sources.length));
  } finally {
    ws.dispose();
  }
  const refs = referenceSet(data.pairs, t.sourceVocab, t.targetVocab.unit);
  const started = performance.now();
  const outputs = decodeIds(t, refs.sources, options).map((list) => list[0]!.ids.map((id) => t.targetVocab.token(id)));
  const seconds = (performance.now() - started) / 1000;
  const scores = scoreSequences(outputs, refs.references);
  let unknown = 0;
  for (const s of refs.sources) for (const id of s) if (id === SOURCE_UNKNOWN) unknown++;
  return {
    loss,
    wer: scores.wer,
    per: scores.per,
    examples: scores.examples,
    unknown_tokens: unknown,
    beam: options.beam,
    decode_s: seconds,
    words_per_s: scores.examples / seconds,
  };
}
