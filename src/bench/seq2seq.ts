// The sequence-to-sequence rows of the benchmark (issue #11), end to end on one backend with the model of
// `--task seq2seq`'s defaults (bidirectional LSTM H256, embedding 64) on generated words (4–12 letters, the
// target their letters as tokens: CMUdict-like lengths). X1: training steps (model, loss, backward, Adam) in
// target tokens/s; X5: beam search K = 5 over batches of 64 words (outputs of at most 12 tokens), words/s,
// the goal's measure (≥ 1,000 words/s natively). An untrained model rarely ends early, so X5 decodes more
// steps per word than a trained one does (`rnnkit eval DIR --beam 5` reports the rate of a trained model).
import type { Backend } from '../backend/types.js';
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

export const SEQ2SEQ_BENCH_DESCRIPTION =
  'X1: seq2seq training, bidirectional LSTM H256 E64 with attention, B64, Adam, words of 4–12 letters (target tokens/s); X5: beam search K5, batches of 64 words, ≤ 12 output tokens (words/s)';

function words(n: number, seed: number): Pair[] {
  const random = new Random(seed);
  return Array.from({ length: n }, (_, i) => {
    const length = 4 + Math.floor(random.uniform() * 9);
    const word = Array.from({ length }, () => String.fromCharCode(97 + Math.floor(random.uniform() * 26))).join('');
    return { source: word, target: [...word].join(' '), line: i + 1 };
  });
}

/** X1's step (returns the target tokens it trained on) and X5's (returns the words it decoded). */
export function seq2seqBenchSteps(backend: Backend): { train: () => number; beam: () => number } {
  const config = { ...DEFAULT_TRAIN_CONFIG, ...TASK_DEFAULTS.seq2seq, task: 'seq2seq' } as TrainConfig;
  const prepared = preparePairs(
    'bench',
    { train: { source: 'bench', pairs: words(2048, 1) }, val: { source: 'bench', pairs: [] } },
    { sourceTokens: 'chars', targetTokens: 'words' },
  );
  const run = runOf(prepared, config, backend);
  const optimizer = new Optimizer(backend, config, run.model.parameterCount);
  const inputs = prepared.train.sources.slice(0, 64);
  const decoder = new Seq2SeqDecoder(run.model, 12, 64, 5);
  return {
    train: () => trainingStep(run, optimizer, config, config.lr).tokens,
    beam: () => decoder.beamSearch(inputs, { beam: 5, nbest: 1, lengthPenalty: 0, maxLength: 12 }).length,
  };
}
