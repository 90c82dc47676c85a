// WAV bytes: PCM (8, 16, 24, 32 bit) and IEEE float (32, 64 bit) parsed by `wavefile`, mixed down to mono and
// resampled to the feature rate. Anything else — compressed encodings, truncated or empty data, broken
// headers — is refused with one line naming the input and the problem. No file system: the browser entry
// decodes uploads with it (wav-file.ts reads files).
import { invalidInput } from '../errors.js';
import { WaveFile } from '../vendor/wavefile.js';
import { resample } from './resample.js';

const PCM = 1,
  FLOAT = 3,
  EXTENSIBLE = 0xfffe;
/** Full scale of each sample code we read (wavefile's codes; 8-bit PCM is unsigned: offset 128). */
const FULL_SCALE: Record<string, number> = {
  '8': 128,
  '16': 32768,
  '24': 8388608,
  '32': 2147483648,
  '32f': 1,
  '64': 1,
};
const MIN_RATE = 1000,
  MAX_RATE = 768000;

export interface Audio {
  /** Mono samples in [-1, 1] at `sampleRate`. */
  samples: Float32Array;
  sampleRate: number;
  /** The input's own rate and channel count. */
  fileRate: number;
  channels: number;
}

interface WaveFields {
  fmt: {
    audioFormat: number;
    numChannels: number;
    sampleRate: number;
    blockAlign: number;
    bitsPerSample: number;
    /** WAVE_FORMAT_EXTENSIBLE's sub-format GUID as 4 uint32; the first is the format tag. */
    subformat: number[];
  };
  data: { chunkSize: number; samples: Uint8Array };
  bitDepth: string;
  getSamples(interleaved: boolean, type: Float64ArrayConstructor): Float64Array | Float64Array[];
}

/** Parses WAV bytes; `name` prefixes every error. Returns mono audio at `rate` Hz. */
export function decodeWav(bytes: Uint8Array, name: string, rate = 16000): Audio {
  // Ours, before wavefile's "Not a supported format.": what a page passing the wrong file is told.
  const container = String.fromCharCode(...bytes.subarray(0, 4));
  if (bytes.length < 12 || (container !== 'RIFF' && container !== 'RIFX'))
    throw invalidInput(`${name}: not a WAV file (no RIFF header)`);
  let wav: WaveFields;
  try {
    wav = new WaveFile(bytes) as unknown as WaveFields;
  } catch (error) {
    throw invalidInput(`${name}: not a WAV file wavefile can read (${(error as Error).message})`);
  }
  const { fmt, data } = wav;
  const depth = depthOf(fmt);
  if (!depth) {
    throw invalidInput(
      `${name}: unsupported WAV encoding (format tag ${fmt.audioFormat}, ${fmt.bitsPerSample} bits): expected PCM of 8, 16, 24 or 32 bits or 32/64-bit float`,
    );
  }
  if (!(fmt.numChannels >= 1)) throw invalidInput(`${name}: the WAV header declares ${fmt.numChannels} channels`);
  if (!(fmt.sampleRate >= MIN_RATE && fmt.sampleRate <= MAX_RATE))
    throw invalidInput(`${name}: sample rate ${fmt.sampleRate} Hz is outside ${MIN_RATE}–${MAX_RATE} Hz`);
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
  let perChannel = fmt.numChannels === 1 ? [channels as Float64Array] : (channels as Float64Array[]);
  // wavefile takes an extensible file's 32-bit samples for integers whatever its sub-format: a float file's
  // codes are then the floats' bit patterns.
  if (depth === '32f' && wav.bitDepth === '32')
    perChannel = perChannel.map((codes) => Float64Array.from(new Float32Array(Int32Array.from(codes).buffer)));
  const scale = FULL_SCALE[depth]!,
    offset = depth === '8' ? 128 : 0;
  const n = perChannel[0]?.length ?? 0;
  if (perChannel.length !== fmt.numChannels || n === 0) {
    throw invalidInput(
      `${name}: the WAV header (${fmt.numChannels} channels of ${fmt.bitsPerSample} bits) does not describe its ${data.samples.length}-byte data chunk`,
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

/** The FULL_SCALE code of the header's encoding (an extensible file's sub-format), if we read it. */
function depthOf(fmt: WaveFields['fmt']): string | undefined {
  const encoding = fmt.audioFormat === EXTENSIBLE ? fmt.subformat[0] : fmt.audioFormat,
    bits = fmt.bitsPerSample;
  if (encoding === PCM && [8, 16, 24, 32].includes(bits)) return String(bits);
  if (encoding === FLOAT && (bits === 32 || bits === 64)) return bits === 32 ? '32f' : '64';
  return undefined;
}

/** Mono samples at `fileRate` (in [-1, 1], finite) resampled to `rate`, as decodeWav returns them. */
export function audioOf(samples: Float32Array, fileRate: number, name: string, rate = 16000): Audio {
  if (!(samples instanceof Float32Array)) throw invalidInput(`${name}: the samples must be a Float32Array`);
  if (!(Number.isFinite(fileRate) && fileRate >= MIN_RATE && fileRate <= MAX_RATE))
    throw invalidInput(`${name}: sample rate ${fileRate} Hz is outside ${MIN_RATE}–${MAX_RATE} Hz`);
  if (samples.length === 0) throw invalidInput(`${name}: no audio (0 samples)`);
  const bad = samples.findIndex((x) => !Number.isFinite(x));
  if (bad >= 0) throw invalidInput(`${name}: sample ${bad} is ${samples[bad]}, not a finite number`);
  return { samples: resample(samples, fileRate, rate), sampleRate: rate, fileRate, channels: 1 };
}

/** 16-bit PCM mono WAV bytes of samples in [-1, 1] (clipped). */
export function encodeWav16(samples: Float32Array, sampleRate: number): Uint8Array {
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) pcm[i] = Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767);
  const wav = new WaveFile();
  wav.fromScratch(1, sampleRate, '16', pcm);
  return wav.toBuffer();
}
