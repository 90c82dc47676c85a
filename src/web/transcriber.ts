// Speech recognition in the browser: a recogniser checkpoint of `rnnkit train --task ctc` (bytes or a Blob), and
// the code rnnkit transcribe runs — the same WAV decoding, features, decoding and word timings — so the page
// gets the CLI's texts, scores and timings. Audio comes as WAV files or as samples (e.g. from Web Audio).
import { LogMel } from '../audio/features.js';
import { type Audio, audioOf, decodeWav } from '../audio/wav.js';
import type { Backend } from '../backend/types.js';
import { invalidInput } from '../errors.js';
import {
  type LanguageModelOption,
  type Transcription,
  decodingWith,
  transcribe,
  utteranceOf,
} from '../tasks/ctc/recognise.js';
import { type Recogniser, decodeRecogniser } from '../tasks/ctc/recogniser-file.js';
import { type Source, bytesOf } from './checkpoint.js';

/** Mono samples in [-1, 1] at any rate from 1000 to 768000 Hz (resampled to the model's, as WAV files are). */
export interface Samples {
  samples: Float32Array;
  sampleRate: number;
  /** Reported as the transcription's `file` and in error messages (default: `input N`). */
  name?: string;
}

/** A WAV file (bytes, an ArrayBuffer, or a Blob such as an uploaded File, whose name is reported) or samples. */
export type AudioInput = Source | Samples;

export interface WebTranscribeOptions {
  /** Prefix beam search keeping this many prefixes (rnnkit transcribe --beam); default greedy, or 8 with `lm`. */
  beam?: number;
  /** Shallow fusion with a character language model (loadLanguageModel) and its weight λ (--lm, --lm-weight). */
  lm?: LanguageModelOption;
}

export interface WebTranscriber extends Recogniser {
  /** What `rnnkit transcribe --json` prints for each input, in order (`file`: the input's name). Every input
   *  is decoded, and refused if broken, before any is transcribed. */
  transcribe(inputs: readonly AudioInput[], options?: WebTranscribeOptions): Promise<Transcription[]>;
  /** Frees the model's backend memory; the transcriber cannot be used afterwards. */
  dispose(): void;
}

const isSamples = (input: AudioInput): input is Samples =>
  typeof input === 'object' && input !== null && 'samples' in input && 'sampleRate' in input;

/** An input's name: a Samples' name, a File's name, else `input N`. */
function nameOf(input: AudioInput, i: number): string {
  const name = (input as { name?: unknown } | null)?.name;
  return typeof name === 'string' && name !== '' ? name : `input ${i + 1}`;
}

/** An input as mono audio at `rate` Hz. */
async function audioOfInput(input: AudioInput, name: string, rate: number): Promise<Audio> {
  if (isSamples(input)) return audioOf(input.samples, input.sampleRate, name, rate);
  const isFile =
    input instanceof Uint8Array ||
    input instanceof ArrayBuffer ||
    (typeof Blob === 'function' && input instanceof Blob);
  if (!isFile)
    throw invalidInput(
      `${name}: expected WAV bytes (a Uint8Array, an ArrayBuffer or a Blob) or { samples: Float32Array, sampleRate }`,
    );
  return decodeWav(await bytesOf(input, name), name, rate);
}

/** A transcriber from the model.safetensors of `rnnkit train --task ctc` (bytes, an ArrayBuffer, or a Blob such
 *  as an uploaded File); `name` names it in error messages. */
export async function loadTranscriber(
  source: Source,
  backend: Backend,
  name = 'model.safetensors',
): Promise<WebTranscriber> {
  const recogniser = decodeRecogniser(await bytesOf(source, name), backend, name);
  const extractor = new LogMel(recogniser.features);
  return {
    ...recogniser,
    async transcribe(inputs, options = {}) {
      if (!Array.isArray(inputs)) throw invalidInput('transcribe: expected an array of audio inputs');
      const decoding = decodingWith(recogniser, options.beam, options.lm);
      try {
        const utterances = [];
        for (const [i, input] of inputs.entries()) {
          const file = nameOf(input, i);
          utterances.push(
            utteranceOf(extractor, await audioOfInput(input, file, recogniser.features.sampleRate), file),
          );
        }
        return transcribe(recogniser, utterances, decoding);
      } finally {
        decoding.dispose();
      }
    },
    dispose: () => recogniser.model.dispose(),
  };
}
