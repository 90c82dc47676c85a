// WAV bytes: PCM (8, 16, 24, 32 bit) and IEEE float (32, 64 bit) in a RIFF (little-endian) or RIFX
// (big-endian) container, plain or WAVE_FORMAT_EXTENSIBLE, mixed down to mono and resampled to the feature
// rate. Anything else — compressed encodings, truncated or empty data, broken headers — is refused with one
// line naming the input and the problem. No file system: the browser entry decodes uploads with it
// (wav-file.ts reads files).
import { invalidInput } from '../errors.js';
import { resample } from './resample.js';

export interface Audio {
  /** Mono samples in [-1, 1] at `sampleRate`. */
  samples: Float32Array;
  sampleRate: number;
  /** The input's own rate and channel count. */
  fileRate: number;
  channels: number;
}

const PCM = 1,
  FLOAT = 3,
  EXTENSIBLE = 0xfffe;
/** Full scale of each PCM sample size in bits (8-bit PCM is unsigned: offset 128). */
const PCM_SCALE: Record<number, number> = { 8: 128, 16: 32768, 24: 8388608, 32: 2147483648 };
export const MIN_RATE = 1000,
  MAX_RATE = 768000;

interface Format {
  /** PCM or FLOAT (an extensible file's sub-format). */
  encoding: number;
  tag: number;
  channels: number;
  rate: number;
  blockAlign: number;
  bits: number;
}

const ascii = (bytes: Uint8Array, at: number): string => String.fromCharCode(...bytes.subarray(at, at + 4));

/** The fmt chunk's fields; `size` is the chunk's (checked to lie inside the bytes). */
function formatOf(view: DataView, at: number, size: number, little: boolean, name: string): Format {
  if (size < 16) throw invalidInput(`${name}: not a WAV file (its fmt chunk has ${size} bytes, fewer than 16)`);
  const tag = view.getUint16(at, little);
  const format = {
    tag,
    encoding: tag,
    channels: view.getUint16(at + 2, little),
    rate: view.getUint32(at + 4, little),
    blockAlign: view.getUint16(at + 12, little),
    bits: view.getUint16(at + 14, little),
  };
  // WAVE_FORMAT_EXTENSIBLE: the sub-format GUID (at byte 24 of the chunk) starts with the format tag.
  if (tag === EXTENSIBLE) format.encoding = size >= 40 ? view.getUint16(at + 24, little) : 0;
  return format;
}

/** Parses WAV bytes; `name` prefixes every error. Returns mono audio at `rate` Hz. */
export function decodeWav(bytes: Uint8Array, name: string, rate = 16000): Audio {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const container = bytes.length >= 12 ? ascii(bytes, 0) : '';
  if (container !== 'RIFF' && container !== 'RIFX') throw invalidInput(`${name}: not a WAV file (no RIFF header)`);
  if (ascii(bytes, 8) !== 'WAVE')
    throw invalidInput(`${name}: not a WAV file (a RIFF file of type ${JSON.stringify(ascii(bytes, 8))})`);
  const little = container === 'RIFF';
  let format: Format | undefined, data: { at: number; size: number } | undefined;
  // The chunks: the fmt chunk must lie inside the bytes; the data chunk may be cut short (said below).
  for (let at = 12; at + 8 <= bytes.length && !(format && data);) {
    const id = ascii(bytes, at),
      size = view.getUint32(at + 4, little);
    if (id === 'fmt ') {
      if (at + 8 + size > bytes.length)
        throw invalidInput(`${name}: not a WAV file (its fmt chunk of ${size} bytes runs past the end)`);
      format = formatOf(view, at + 8, size, little, name);
    } else if (id === 'data') data = { at: at + 8, size };
    at += 8 + size + (size & 1); // chunks are padded to an even size
  }
  if (!format) throw invalidInput(`${name}: not a WAV file (no fmt chunk)`);
  if (!data) throw invalidInput(`${name}: not a WAV file (no data chunk)`);
  const { encoding, tag, channels, bits, blockAlign } = format;
  const readable = encoding === PCM ? bits in PCM_SCALE : encoding === FLOAT && (bits === 32 || bits === 64);
  if (!readable || (tag !== PCM && tag !== FLOAT && tag !== EXTENSIBLE))
    throw invalidInput(
      `${name}: unsupported WAV encoding (format tag ${tag}, ${bits} bits): expected PCM of 8, 16, 24 or 32 bits or 32/64-bit float`,
    );
  if (!(channels >= 1)) throw invalidInput(`${name}: the WAV header declares ${channels} channels`);
  if (!(format.rate >= MIN_RATE && format.rate <= MAX_RATE))
    throw invalidInput(`${name}: sample rate ${format.rate} Hz is outside ${MIN_RATE}–${MAX_RATE} Hz`);
  const present = Math.min(data.size, bytes.length - data.at);
  if (present < data.size)
    throw invalidInput(
      `${name}: truncated WAV file (the data chunk declares ${data.size} bytes, ${present} are present)`,
    );
  const width = bits / 8;
  if (blockAlign !== channels * width)
    throw invalidInput(
      `${name}: the WAV header's block size ${blockAlign} is not ${channels} channels × ${width} bytes`,
    );
  if (data.size % blockAlign !== 0)
    throw invalidInput(
      `${name}: the data chunk (${data.size} bytes) is not a whole number of ${blockAlign}-byte sample frames`,
    );
  if (data.size === 0) throw invalidInput(`${name}: the WAV file has no audio (an empty data chunk)`);
  const n = data.size / blockAlign;
  const sample = sampleReader(view, encoding, bits, little);
  const scale = encoding === FLOAT ? 1 : PCM_SCALE[bits]!,
    offset = bits === 8 ? 128 : 0;
  const mono = new Float32Array(n);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < n; i++)
      mono[i] = mono[i]! + (sample(data.at + i * blockAlign + c * width) - offset) / scale / channels;
  return { samples: resample(mono, format.rate, rate), sampleRate: rate, fileRate: format.rate, channels };
}

/** The sample code at a byte offset, as a number. */
function sampleReader(view: DataView, encoding: number, bits: number, little: boolean): (at: number) => number {
  if (encoding === FLOAT)
    return bits === 32 ? (at) => view.getFloat32(at, little) : (at) => view.getFloat64(at, little);
  if (bits === 8) return (at) => view.getUint8(at);
  if (bits === 16) return (at) => view.getInt16(at, little);
  if (bits === 32) return (at) => view.getInt32(at, little);
  return little
    ? (at) => ((view.getUint8(at + 2) << 24) | (view.getUint16(at, true) << 8)) >> 8
    : (at) => ((view.getUint16(at, false) << 16) | (view.getUint8(at + 2) << 8)) >> 8;
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
  const bytes = new Uint8Array(44 + 2 * samples.length);
  const view = new DataView(bytes.buffer);
  const text = (at: number, s: string): void => [...s].forEach((ch, i) => (bytes[at + i] = ch.charCodeAt(0)));
  text(0, 'RIFF');
  view.setUint32(4, 36 + 2 * samples.length, true);
  text(8, 'WAVE');
  text(12, 'fmt ');
  view.setUint32(16, 16, true);
  view.setUint16(20, PCM, true);
  view.setUint16(22, 1, true); // channels
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, 2 * sampleRate, true); // bytes per second
  view.setUint16(32, 2, true); // block size
  view.setUint16(34, 16, true);
  text(36, 'data');
  view.setUint32(40, 2 * samples.length, true);
  for (let i = 0; i < samples.length; i++)
    view.setInt16(44 + 2 * i, Math.round(Math.max(-1, Math.min(1, samples[i]!)) * 32767), true);
  return bytes;
}
