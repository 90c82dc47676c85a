// Transcription and evaluation with a trained recogniser: WAV files in, text out. Utterances are run in
// batches of similar length (masked, so each result is the one it would get alone) and decoded greedily
// or by prefix beam search (with an optional character language model: shallow fusion).
import { LogMel } from '../../audio/features.js';
import { readWav } from '../../audio/wav.js';
import { type WordTiming, viterbiAlign, wordTimings } from '../../speech/align.js';
import { type Utterance, loadUtterances } from '../../speech/dataset.js';
import { type Fusion, beamDecode, greedyDecode } from '../../speech/decode.js';
import { CtcWorkspace } from '../../speech/ctc-model.js';
import { sortByLength } from '../classify/batcher.js';
import { type SpeechScore, loadBatch, scoreSpeech } from './batch.js';
import { speechSet } from './data.js';
import { errorRates } from '../../speech/metrics.js';
import type { Recogniser } from './model-file.js';

/** Utterances per forward pass. */
const BATCH = 16;
/** Beam search tries only symbols of probability ≥ 1e-4 at a frame (ctcdecode's cutoff, for speed). */
export const BEAM_CUTOFF = Math.log(1e-4);

export interface DecodeOptions {
  /** Prefix beam search with this many prefixes; undefined or 0: greedy. */
  beam?: number;
  /** Shallow fusion with a character language model (with beam; alone: a beam of 1). */
  lm?: Fusion;
}

export interface Transcription {
  file: string;
  text: string;
  /** Greedy: log-probability of the best path; beam: of the text over all alignments (+ λ·LM with --lm). */
  score: number;
  seconds: number;
  words: WordTiming[];
}

const workspaceFor = (r: Recogniser, utterances: readonly Utterance[], maxS: number): CtcWorkspace =>
  new CtcWorkspace(
    r.model,
    Math.max(1, ...utterances.map((u) => u.frames)),
    Math.min(BATCH, Math.max(1, utterances.length)),
    maxS,
  );

/** The frames of each WAV file under the recogniser's feature settings. */
export function readUtterances(r: Recogniser, files: readonly string[]): Utterance[] {
  const extractor = new LogMel(r.features);
  return files.map((file) => {
    const audio = readWav(file, r.features.sampleRate);
    const { frames, data } = extractor.features(audio.samples);
    return { file, text: '', features: data, frames, seconds: audio.samples.length / audio.sampleRate };
  });
}

/** Transcribes utterances (in their order). */
export function transcribe(r: Recogniser, utterances: Utterance[], options: DecodeOptions = {}): Transcription[] {
  const out: Transcription[] = new Array(utterances.length);
  if (utterances.length === 0) return out;
  const workspace = workspaceFor(r, utterances, 1);
  const set = { utterances, frames: Int32Array.from(utterances, (u) => u.frames), labels: utterances.map(() => []) };
  const order = Int32Array.from(utterances.keys());
  sortByLength(order, set.frames);
  const C = r.alphabet.size;
  const frameSeconds = (r.features.hopMs / 1000) * r.features.stack;
  for (let start = 0; start < order.length; start += workspace.maxB) {
    const examples = order.subarray(start, Math.min(order.length, start + workspace.maxB));
    const { T, B } = loadBatch(workspace, set, examples);
    workspace.forward(T, B, null);
    examples.forEach((i, b) => {
      const u = utterances[i]!;
      const logProbs = workspace.logProbs(T, B, b);
      const decoded =
        options.beam || options.lm
          ? beamDecode(logProbs, u.frames, C, options.beam || 1, options.lm, BEAM_CUTOFF)
          : greedyDecode(logProbs, u.frames, C);
      const text = r.alphabet.decode(decoded.labels);
      const emitted = viterbiAlign(logProbs, u.frames, C, decoded.labels);
      const words = emitted ? wordTimings(text, emitted, frameSeconds) : [];
      out[i] = { file: u.file, text, score: decoded.score, seconds: u.seconds, words };
    });
  }
  return out;
}

/** Loss, CER and WER of a speech directory (transcripts.tsv and its WAV files), decoded greedily or as
 *  `options` say. */
export function evaluateRecogniser(
  r: Recogniser,
  dir: string,
  options: DecodeOptions = {},
): Omit<SpeechScore, 'hypotheses'> {
  const utterances = loadUtterances(dir, new LogMel(r.features));
  const set = speechSet(utterances, r.alphabet);
  const workspace = workspaceFor(r, utterances, Math.max(1, ...set.labels.map((l) => l.length)));
  const greedy = scoreSpeech(workspace, set, r.alphabet);
  if (!options.beam && !options.lm)
    return { loss: greedy.loss, cer: greedy.cer, wer: greedy.wer, utterances: greedy.utterances };
  const hypotheses = transcribe(r, utterances, options).map((t) => t.text);
  const rates = errorRates(utterances.map((u, i) => ({ reference: u.text, hypothesis: hypotheses[i]! })));
  return { loss: greedy.loss, ...rates };
}
