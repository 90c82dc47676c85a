// Transcription with a trained recogniser (rnnkit transcribe, rnnkit eval, and rnnkit/web's loadTranscriber):
// audio in, text out. Utterances are run in batches of similar length (masked, so each result is the one it
// would get alone) and decoded greedily or by prefix beam search (with an optional character language model:
// shallow fusion). No file system: the browser runs it (recognise-files.ts reads WAV files and data directories).
import type { LogMel } from '../../audio/features.js';
import type { Audio } from '../../audio/wav.js';
import type { Vocabulary } from '../../data/vocab.js';
import { invalidInput } from '../../errors.js';
import type { Model } from '../../model/model.js';
import { type WordTiming, viterbiAlign, wordTimings } from '../../speech/align.js';
import type { Utterance } from '../../speech/dataset.js';
import { type Fusion, beamDecode, greedyDecode } from '../../speech/decode.js';
import { CtcWorkspace } from '../../speech/ctc-model.js';
import { LanguageModelFusion } from '../../speech/lm-fusion.js';
import { sortByLength } from '../classify/batcher.js';
import { loadBatch } from './batch.js';
import type { Recogniser } from './recogniser-file.js';

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

export const workspaceFor = (r: Recogniser, utterances: readonly Utterance[], maxS: number): CtcWorkspace =>
  new CtcWorkspace(
    r.model,
    Math.max(1, ...utterances.map((u) => u.frames)),
    Math.min(BATCH, Math.max(1, utterances.length)),
    maxS,
  );

/** The model frames of audio at the feature rate, with the name its transcription reports as `file`. */
export function utteranceOf(extractor: LogMel, audio: Audio, file: string): Utterance {
  const { frames, data } = extractor.features(audio.samples);
  return { file, text: '', features: data, frames, seconds: audio.samples.length / audio.sampleRate };
}

/** Beam width with a language model when none is given. */
export const FUSION_BEAM = 8;
export const MAX_BEAM = 1024,
  MAX_LM_WEIGHT = 100;

/** A character language model (rnnkit train --task lm) for shallow fusion, with its weight λ. */
export interface LanguageModelOption {
  model: Model;
  vocab: Vocabulary;
  weight: number;
}

/** The decoding of `beam` prefixes (greedy when undefined; FUSION_BEAM with a language model), with `lm`
 *  fused; dispose() frees the fusion's buffers. */
export function decodingWith(
  r: Recogniser,
  beam: number | undefined,
  lm?: LanguageModelOption,
): DecodeOptions & { dispose(): void } {
  if (beam !== undefined && !(Number.isInteger(beam) && beam >= 1 && beam <= MAX_BEAM))
    throw invalidInput(`beam must be an integer from 1 to ${MAX_BEAM}, got ${String(beam)}`);
  const width = beam ?? (lm ? FUSION_BEAM : undefined);
  if (!lm) return { beam: width, dispose: () => {} };
  if (!(typeof lm.weight === 'number' && lm.weight >= 0 && lm.weight <= MAX_LM_WEIGHT))
    throw invalidInput(
      `the language model's weight must be a number from 0 to ${MAX_LM_WEIGHT}, got ${String(lm.weight)}`,
    );
  const fusion = new LanguageModelFusion(lm.model, lm.vocab, r.alphabet, width!);
  return { beam: width, lm: { model: fusion, weight: lm.weight }, dispose: () => fusion.dispose() };
}

/** Transcribes utterances (in their order). */
export function transcribe(r: Recogniser, utterances: Utterance[], options: DecodeOptions = {}): Transcription[] {
  const out: Transcription[] = new Array(utterances.length);
  if (utterances.length === 0) return out;
  const workspace = workspaceFor(r, utterances, 1);
  try {
    transcribeIn(workspace, r, utterances, options, out);
  } finally {
    workspace.dispose();
  }
  return out;
}

/** Transcribes utterances into out[i] in batches of the workspace. */
function transcribeIn(
  workspace: CtcWorkspace,
  r: Recogniser,
  utterances: Utterance[],
  options: DecodeOptions,
  out: Transcription[],
): void {
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
}
