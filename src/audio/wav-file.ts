// WAV files on disk: read (at most 1 GiB) and decoded by wav.ts.
import { readBounded } from '../io/read-bounded.js';
import { type Audio, decodeWav } from './wav.js';

/** Reads and decodes a WAV file, resampled to `rate` Hz. */
export function readWav(path: string, rate = 16000): Audio {
  return decodeWav(readBounded(path, 'a WAV file'), path, rate);
}
