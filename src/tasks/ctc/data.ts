// The data side of the ctc task: a speech directory's utterances as model frames (computed once, kept in
// memory), their transcripts as label ids, and a seeded train/validation split by utterance.
import { type FeatureSettings, LogMel } from '../../audio/features.js';
import { invalidInput, invalidOption } from '../../errors.js';
import { Alphabet } from '../../speech/alphabet.js';
import { type Utterance, loadUtterances } from '../../speech/dataset.js';
import { Random } from '../../util/random.js';
import { shuffle } from '../classify/split.js';
import { textHash } from '../lm-run.js';
import type { DataSource } from '../task.js';

/** Utterances ready for the network: frames [frames[i]][F] each, labels in [1, C). */
export interface SpeechSet {
  utterances: Utterance[];
  /** Frames of each utterance (after stacking). */
  frames: Int32Array;
  labels: number[][];
}

export interface SpeechData {
  alphabet: Alphabet;
  train: SpeechSet;
  val: SpeechSet | null;
  data: DataSource;
  /** Seconds of audio in both parts. */
  seconds: number;
}

/** Encodes utterances with `alphabet` (a character it lacks is refused, naming the file). */
export function speechSet(utterances: Utterance[], alphabet: Alphabet): SpeechSet {
  return {
    utterances,
    frames: Int32Array.from(utterances, (u) => u.frames),
    labels: utterances.map((u) => alphabet.encode(u.text, u.file)),
  };
}

/** A fingerprint of the transcripts and the audio lengths, so that a resume on changed data is refused. */
export const utterancesHash = (utterances: readonly Utterance[]): string =>
  textHash(utterances.map((u) => `${u.file}\t${u.text}\t${u.frames}`).join('\n'));

/** Reads DIR (transcripts.tsv and its WAV files), computes the frames and splits off `valFrac` of the
 *  utterances (seeded) for validation. `alphabet`: a resumed run's own (else the transcripts' characters). */
export function prepareSpeechData(
  dir: string,
  features: FeatureSettings,
  options: { valFrac: number; seed: number; alphabet?: Alphabet },
): SpeechData {
  const utterances = loadUtterances(dir, new LogMel(features));
  const alphabet = options.alphabet ?? Alphabet.of(utterances.map((u) => u.text));
  const order = Int32Array.from(utterances.keys());
  shuffle(order, new Random(options.seed));
  const nVal = options.valFrac === 0 ? 0 : Math.max(1, Math.round(utterances.length * options.valFrac));
  if (nVal >= utterances.length)
    throw invalidOption(`--val-frac ${options.valFrac} leaves no training utterance of ${utterances.length}`);
  const isVal = new Uint8Array(utterances.length);
  for (let k = 0; k < nVal; k++) isVal[order[k]!] = 1;
  const part = (val: boolean): Utterance[] => utterances.filter((_, i) => Boolean(isVal[i]) === val);
  if (alphabet.symbols.length === 0) throw invalidInput(`${dir}: the transcripts have no characters`);
  return {
    alphabet,
    train: speechSet(part(false), alphabet),
    val: nVal > 0 ? speechSet(part(true), alphabet) : null,
    data: { source: dir, size: utterances.length, hash: utterancesHash(utterances) },
    seconds: utterances.reduce((s, u) => s + u.seconds, 0),
  };
}
