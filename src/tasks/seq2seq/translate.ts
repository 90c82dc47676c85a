// Translating texts with a seq2seq checkpoint (rnnkit translate, rnnkit eval, and rnnkit/web's loadTranslator):
// tokens → ids (a token never seen in training reads as the unknown entry, and is reported), greedy decoding
// (beam 1) or beam search, ids → text; the attention matrix of an output. No file system: the browser runs it.
import { invalidInput } from '../../errors.js';
import { Seq2SeqWorkspace } from '../../model/seq2seq.js';
import { type DecodeOptions, type Hypothesis, Seq2SeqDecoder, checkDecodeOptions } from '../../model/seq2seq-decode.js';
import type { Translator } from './translator-file.js';
import { detokenize, tokenize } from './tokens.js';
import { SOURCE_UNKNOWN } from './vocab.js';

/** Inputs decoded at once. */
export const TRANSLATE_BATCH = 64;

/** The beam width when none is given (rnnkit translate's and rnnkit eval's --beam default). */
export const DEFAULT_BEAM = 5;

export interface TranslateOptions extends Partial<DecodeOptions> {
  /** Also return the attention matrix of each best output (rnnkit translate --attention). */
  attention?: boolean;
}

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
  /** --attention: the best output's attention weights, rows `target` (its tokens, then </s>), columns `source`. */
  attention?: Attention;
}

export interface Attention {
  source: string[];
  target: string[];
  weights: number[][];
}

/** The options in effect: beam DEFAULT_BEAM unless given, --max-length 10 more than the longest training target. */
export function decodeOptions(t: Translator, o: TranslateOptions = {}): DecodeOptions {
  const options = {
    beam: o.beam ?? DEFAULT_BEAM,
    nbest: o.nbest ?? 1,
    lengthPenalty: o.lengthPenalty ?? 0,
    maxLength: o.maxLength ?? t.maxTargetLength + 10,
  };
  checkDecodeOptions(options);
  return options;
}

/** The source tokens of an input, as the model reads them (lowercased if it was trained so). */
const sourceTokens = (t: Translator, input: string): string[] =>
  tokenize(t.lowercase ? input.toLowerCase() : input, t.sourceVocab.unit);

/** The source ids of each input; an input without tokens is refused, naming it. */
export function encodeInputs(t: Translator, inputs: readonly string[]): { ids: Int32Array[]; unknown: string[][] } {
  const unknown: string[][] = [];
  const ids = inputs.map((input, i) => {
    if (typeof input !== 'string') throw invalidInput(`input ${i + 1} is not a string`);
    const tokens = sourceTokens(t, input);
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

/** rnnkit translate's results: each input's best output and score, its unknown tokens, and (when asked) its
 *  n best and the best output's attention. Inputs are decoded in batches of TRANSLATE_BATCH. */
export function translate(t: Translator, inputs: readonly string[], o: TranslateOptions = {}): Translation[] {
  if (!Array.isArray(inputs)) throw invalidInput('translate: expected an array of strings');
  const options = decodeOptions(t, o);
  const { ids, unknown } = encodeInputs(t, inputs);
  return decodeIds(t, ids, options).map((list, i) => {
    const candidates = list.map((h) => ({ output: outputText(t, h.ids), score: h.score }));
    const best = list[0]!;
    return {
      input: inputs[i]!,
      ...candidates[0]!,
      unknown: unknown[i]!,
      ...(o.nbest !== undefined ? { nbest: candidates } : {}),
      ...(o.attention
        ? {
            attention: {
              source: sourceTokens(t, inputs[i]!),
              target: [...best.ids.map((id) => t.targetVocab.token(id)), '</s>'],
              weights: attentionMatrix(t, ids[i]!, best.ids),
            },
          }
        : {}),
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
