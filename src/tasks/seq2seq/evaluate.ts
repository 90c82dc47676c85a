// Scoring a seq2seq checkpoint on a file of pairs (rnnkit eval): the loss under teacher forcing, and the WER
// and PER of its decoded outputs.
import { Seq2SeqWorkspace } from '../../model/seq2seq.js';
import { scoreSequences } from './metrics.js';
import type { Translator } from './model-file.js';
import type { PairsDataset } from './pairs.js';
import { encodePairs, referenceSet } from './prepare.js';
import { pairsLoss } from './task.js';
import { type TranslateOptions, decodeIds, decodeOptions } from './translate.js';
import { SOURCE_UNKNOWN } from './vocab.js';

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
