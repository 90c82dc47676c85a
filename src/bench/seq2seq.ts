// The sequence-to-sequence rows of the benchmark (issue #11), end to end on one backend with the model of
// `--task seq2seq`'s defaults (bidirectional LSTM H256, embedding 64) on generated words (4–12 letters, the
// target their letters as tokens: CMUdict-like lengths). X1: training steps (model, loss, backward, Adam) in
// target tokens/s; X5: beam search K = 5 of 512 words per call, decoded as `rnnkit eval` and `translate`
// decode a file (batches of 64 words of similar lengths, the decoder's weights prepared once per call),
// outputs of at most 12 tokens, words/s: the goal's measure (≥ 1,000 words/s natively). An untrained model
// rarely ends early, so X5 decodes more steps per word than a trained one does (`rnnkit eval DIR --beam 5`
// reports the rate of a trained model).
import { type Backend, gatesOf } from '../backend/types.js';
import { cellKind } from '../model/config.js';
import { Seq2SeqDecoder } from '../model/seq2seq-decode.js';
import type { TrainConfig } from '../train/config.js';
import { Optimizer } from '../train/optimizer.js';
import { trainingStep } from '../train/step.js';
import { TASK_DEFAULTS } from '../tasks/index.js';
import type { Pair } from '../tasks/seq2seq/pairs.js';
import { preparePairs } from '../tasks/seq2seq/prepare.js';
import { runOf } from '../tasks/seq2seq/task.js';
import { DEFAULT_TRAIN_CONFIG } from '../train/config.js';
import { Random } from '../util/random.js';
import { decoderFlopsPerRow } from './decoder.js';

export const SEQ2SEQ_BENCH_DESCRIPTION =
  'X1: seq2seq training (the task defaults: bidirectional LSTM 2×256 E64 with attention, dropout 0.2, label smoothing 0.1), B64, Adam, words of 4–12 letters (target tokens/s); X5: beam search K5, 512 words per call in batches of 64, ≤ 12 output tokens (words/s)';

function words(n: number, seed: number): Pair[] {
  const random = new Random(seed);
  return Array.from({ length: n }, (_, i) => {
    const length = 4 + Math.floor(random.uniform() * 9);
    const word = Array.from({ length }, () => String.fromCharCode(97 + Math.floor(random.uniform() * 26))).join('');
    return { source: word, target: [...word].join(' '), line: i + 1 };
  });
}

/** Matrix-product FLOPs: of one decoder row-step forward (cell, attention over `S` positions, W_c, head),
 *  and of one encoder source token forward (both directions). */
export function seq2seqFlops(c: TrainConfig, Vt: number, S: number): { decoderRow: number; sourceToken: number } {
  const GH = gatesOf(cellKind(c)) * c.hidden,
    H = c.hidden,
    M = (c.bidirectional ? 2 : 1) * H;
  return {
    decoderRow: decoderFlopsPerRow({ kind: cellKind(c), L: c.layers, T: 1, B: 1, S, E: c.embed, H, M }) + 2 * H * Vt,
    sourceToken: (c.bidirectional ? 2 : 1) * (2 * GH * (c.embed + H) + (c.layers - 1) * 2 * GH * (M + H)),
  };
}

/** X1's step (returns the target tokens it trained on) and X5's (returns the words it decoded), and the
 *  FLOPs of a unit of each (X5's from the decoder rows the measured searches ran). */
export function seq2seqBenchSteps(backend: Backend): {
  train: () => number;
  beam: () => number;
  trainFlopsPerToken: number;
  beamFlopsPerWord: () => number;
} {
  const config = { ...DEFAULT_TRAIN_CONFIG, ...TASK_DEFAULTS.seq2seq, task: 'seq2seq' } as TrainConfig;
  const prepared = preparePairs(
    'bench',
    { train: { source: 'bench', pairs: words(2048, 1) }, val: { source: 'bench', pairs: [] } },
    { sourceTokens: 'chars', targetTokens: 'words' },
  );
  const run = runOf(prepared, config, backend);
  const optimizer = new Optimizer(backend, config, run.model.parameterCount);
  const inputs = prepared.train.sources.slice(0, 512);
  const decoder = new Seq2SeqDecoder(run.model, 12, 64, 5);
  // Mean lengths of the generated words: 8 letters in, 8 tokens and </s> out.
  const flops = seq2seqFlops(config, prepared.targetVocab.size, 8);
  let decodedWords = 0;
  return {
    train: () => trainingStep(run, optimizer, config, config.lr).tokens,
    beam: () => {
      decodedWords += inputs.length;
      return decoder.beamSearch(inputs, { beam: 5, nbest: 1, lengthPenalty: 0, maxLength: 12 }).length;
    },
    // Backward costs two forward products: training is 3× forward.
    trainFlopsPerToken: 3 * (flops.decoderRow + (8 / 9) * flops.sourceToken),
    beamFlopsPerWord: () => (decoder.rowSteps * flops.decoderRow) / decodedWords + 8 * flops.sourceToken,
  };
}
