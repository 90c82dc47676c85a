// WAV input: PCM (8, 16, 24, 32 bit) and IEEE float (32, 64 bit) WAV files parsed by `wavefile`, mixed down
// to mono and resampled to the feature rate. Anything else — compressed encodings, truncated or empty data,
// broken headers — is refused with one line naming the file and the problem.
import wavefile from 'wavefile';
import { invalidInput } from '../errors.js';
import { readBounded } from '../io/read-bounded.js';
import { resample } from './resample.js';

const { WaveFile } = wavefile;

/** 1 PCM, 3 IEEE float, 0xFFFE WAVE_FORMAT_EXTENSIBLE (its sub-format decides; wavefile reports it in bitDepth). */
const READABLE_FORMATS = new Set([1, 3, 0xfffe]);
/** Full scale of each sample code wavefile reports; 8-bit PCM is unsigned (offset 128). */
const FULL_SCALE: Record<string, number> = {
  '8': 128,
  '16': 32768,
  '24': 8388608,
  '32': 2147483648,
  '32f': 1,
  '64': 1,
};

export interface Audio {
  /** Mono samples in [-1, 1] at `sampleRate`. */
  samples: Float32Array;
  sampleRate: number;
  /** The file's own rate and channel count. */
  fileRate: number;
  channels: number;
}

interface WaveFields {
  container: string;
  fmt: { audioFormat: number; numChannels: number; sampleRate: number; blockAlign: number };
  data: { chunkSize: number; samples: Uint8Array };
  bitDepth: string;
  getSamples(interleaved: boolean, type: Float64ArrayConstructor): Float64Array | Float64Array[];
}

/** Parses WAV bytes; `name` prefixes every error. Returns mono audio at `rate` Hz. */
export function decodeWav(bytes: Uint8Array, name: string, rate = 16000): Audio {
  let wav: WaveFields;
  try {
    wav = new WaveFile(bytes) as unknown as WaveFields;
  } catch (error) {
    throw invalidInput(`${name}: not a WAV file wavefile can read (${(error as Error).message})`);
  }
  const { fmt, data } = wav;
  if (!READABLE_FORMATS.has(fmt.audioFormat) || !(wav.bitDepth in FULL_SCALE)) {
    throw invalidInput(
      `${name}: unsupported WAV encoding (format tag ${fmt.audioFormat}, ${wav.bitDepth} bits): expected PCM of 8, 16, 24 or 32 bits or 32/64-bit float`,
    );
  }
  if (!(fmt.numChannels >= 1)) throw invalidInput(`${name}: the WAV header declares ${fmt.numChannels} channels`);
  if (!(fmt.sampleRate >= 1000 && fmt.sampleRate <= 768000))
    throw invalidInput(`${name}: sample rate ${fmt.sampleRate} Hz is outside 1000–768000 Hz`);
  if (data.samples.length < data.chunkSize) {
    throw invalidInput(
      `${name}: truncated WAV file (the data chunk declares ${data.chunkSize} bytes, ${data.samples.length} are present)`,
    );
  }
  if (!(fmt.blockAlign >= 1) || data.samples.length % fmt.blockAlign !== 0) {
    throw invalidInput(
      `${name}: the data chunk (${data.samples.length} bytes) is not a whole number of ${fmt.blockAlign}-byte sample frames`,
    );
  }
  if (data.samples.length === 0) throw invalidInput(`${name}: the WAV file has no audio (an empty data chunk)`);
  const channels = wav.getSamples(false, Float64Array);
  const perChannel = fmt.numChannels === 1 ? [channels as Float64Array] : (channels as Float64Array[]);
  const scale = FULL_SCALE[wav.bitDepth]!,
    offset = wav.bitDepth === '8' ? 128 : 0;
  const n = perChannel[0]?.length ?? 0;
  if (perChannel.length !== fmt.numChannels || n === 0) {
    throw invalidInput(
      `${name}: the WAV header (${fmt.numChannels} channels of ${wav.bitDepth} bits) does not describe its ${data.samples.length}-byte data chunk`,
    );
  }
  const mono = new Float32Array(n);
  for (const channel of perChannel)
    for (let i = 0; i < n; i++) mono[i] = mono[i]! + (channel[i]! - offset) / scale / perChannel.length;
  return {
    samples: resample(mono, fmt.sampleRate, rate),
    sampleRate: rate,
    fileRate: fmt.sampleRate,
    channels: fmt.numChannels,
  };
}

/** Reads and decodes a WAV file (at most 1 GiB). */
export function readWav(path: string, rate = 16000): Audio {
  return decodeWav(readBounded(path, 'a WAV file'), path, rate);
}

/** 16-bit PCM mono WAV bytes of samples in [-1, 1] (clipped). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767);
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, '16', pcm);
  return wav.toBuffer();
}
