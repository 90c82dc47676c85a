// A speech data directory: transcripts.tsv with one `file<TAB>text` line per utterance (file relative to the
// directory, text in the model's alphabet), and the WAV files it names. Each utterance is read, resampled to
// the feature rate and turned into model frames once, when the set is loaded.
import { join } from 'node:path';
import { invalidInput } from '../errors.js';
import { readBounded } from '../io/read-bounded.js';
import { LogMel } from '../audio/features.js';
import { readWav } from '../audio/wav-file.js';

export interface Transcript {
  file: string;
  text: string;
}

export interface Utterance extends Transcript {
  /** Model frames [frames][width] (normalised and stacked). */
  features: Float32Array;
  frames: number;
  /** Seconds of audio. */
  seconds: number;
}

/** The lines of DIR/transcripts.tsv; a line that is not `file<TAB>text` is refused naming its number. */
export function readTranscripts(dir: string): Transcript[] {
  const path = join(dir, 'transcripts.tsv');
  const lines = readBounded(path, 'a transcripts.tsv file').toString('utf8').split(/\r?\n/);
  const transcripts: Transcript[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const fields = line.split('\t');
    if (fields.length !== 2 || fields[0]!.trim() === '' || fields[1]!.trim() === '') {
      throw invalidInput(`${path}:${i + 1}: expected file<TAB>text, got ${JSON.stringify(line.slice(0, 80))}`);
    }
    transcripts.push({ file: fields[0]!.trim(), text: fields[1]!.trim().replace(/\s+/g, ' ') });
  });
  if (transcripts.length === 0) throw invalidInput(`${path}: no utterances`);
  return transcripts;
}

/** Reads every utterance of DIR and computes its frames with `extractor`. */
export function loadUtterances(dir: string, extractor: LogMel): Utterance[] {
  return readTranscripts(dir).map(({ file, text }) => {
    const audio = readWav(join(dir, file), extractor.settings.sampleRate);
    const { frames, data } = extractor.features(audio.samples);
    return { file, text, features: data, frames, seconds: audio.samples.length / audio.sampleRate };
  });
}
