// Batches of utterances for the CTC network: frames copied time-major into the workspace (masked by each
// utterance's frames, as PyTorch's packed sequences), transcripts packed [B,S] for the batch's own S; and a
// pass over a whole set (validation, eval) in batches of similar length, decoded greedily.
import { frameWidthOf } from '../../model/config.js';
import { errorRates } from '../../speech/metrics.js';
import { greedyDecode } from '../../speech/decode.js';
import type { Alphabet } from '../../speech/alphabet.js';
import type { CtcWorkspace } from '../../speech/ctc-model.js';
import { sortByLength } from '../classify/batcher.js';
import type { SpeechSet } from './data.js';

export interface LoadedBatch {
  T: number;
  B: number;
  S: number;
  /** Real frames in the batch. */
  frames: number;
}

/** Copies the utterances `examples` of `set` into the workspace's frames, lengths and targets. */
export function loadBatch(workspace: CtcWorkspace, set: SpeechSet, examples: ArrayLike<number>): LoadedBatch {
  const B = examples.length;
  let T = 0,
    S = 0,
    real = 0;
  for (let b = 0; b < B; b++) {
    T = Math.max(T, set.frames[examples[b]!]!);
    S = Math.max(S, set.labels[examples[b]!]!.length);
  }
  const F = frameWidthOf(workspace.model.config);
  const frames = workspace.frames.data.subarray(0, T * B * F);
  frames.fill(0); // past an utterance's end: masked, but kept deterministic
  const targets = workspace.targets.data.subarray(0, B * S);
  targets.fill(1); // padding is not read; any valid label
  for (let b = 0; b < B; b++) {
    const i = examples[b]!;
    const { features } = set.utterances[i]!;
    const length = set.frames[i]!,
      labels = set.labels[i]!;
    for (let t = 0; t < length; t++) frames.set(features.subarray(t * F, (t + 1) * F), (t * B + b) * F);
    workspace.lengths.data[b] = length;
    targets.set(labels, b * S);
    workspace.targetLengths.data[b] = labels.length;
    real += length;
  }
  return { T, B, S, frames: real };
}

export interface SpeechScore {
  /** Mean over the utterances of each one's CTC loss divided by its transcript length (nn.CTCLoss 'mean'). */
  loss: number;
  cer: number;
  wer: number;
  utterances: number;
  /** Greedy transcription of each utterance, in set order. */
  hypotheses: string[];
}

/** Runs the network over `set` in batches (sorted by length) and decodes each utterance greedily. */
export function scoreSpeech(workspace: CtcWorkspace, set: SpeechSet, alphabet: Alphabet): SpeechScore {
  const n = set.frames.length;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  sortByLength(order, set.frames);
  const C = alphabet.size;
  const hypotheses: string[] = new Array(n);
  let lossSum = 0;
  for (let start = 0; start < n; start += workspace.maxB) {
    const examples = order.subarray(start, Math.min(n, start + workspace.maxB));
    const { T, B, S } = loadBatch(workspace, set, examples);
    lossSum += workspace.forward(T, B, S) * B;
    examples.forEach((i, b) => {
      const logProbs = workspace.logProbs(T, B, b);
      hypotheses[i] = alphabet.decode(greedyDecode(logProbs, set.frames[i]!, C).labels);
    });
  }
  const rates = errorRates(set.utterances.map((u, i) => ({ reference: u.text, hypothesis: hypotheses[i]! })));
  return { loss: lossSum / n, ...rates, hypotheses };
}
