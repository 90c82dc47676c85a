// WAV input (src/audio/wav.ts): PCM 8/16/24/32-bit and float files written by wavefile, mono and stereo,
// resampled to 16 kHz; and hostile files (truncated, wrong chunk sizes, compressed, empty, garbage, random
// header damage): each refused with one line naming the file, never a crash.
import wavefile from 'wavefile';
import { describe, expect, it } from 'vitest';
import { resample } from '../src/audio/resample.js';
import { decodeWav, encodeWav16 } from '../src/audio/wav.js';
import { RnnkitError } from '../src/errors.js';
import { expectClose, makeRandom } from './helpers.js';

const { WaveFile } = wavefile;
const sine = (hz: number, seconds: number, rate: number, amplitude = 0.5): Float32Array =>
  Float32Array.from(
    { length: Math.round(seconds * rate) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate),
  );

/** WAV bytes of the channels (floats in [-1, 1]) at a wavefile bit depth code (RIFF, or big-endian RIFX). */
function wavBytes(channels: Float32Array[], rate: number, depth: string, container = 'RIFF'): Uint8Array {
  const full: Record<string, number> = { '8': 127, '16': 32767, '24': 8388607, '32': 2147483647 };
  const coded = channels.map((c) =>
    depth.endsWith('f') || depth === '64'
      ? Float64Array.from(c)
      : Float64Array.from(c, (v) => Math.round(v * full[depth]!) + (depth === '8' ? 128 : 0)),
  );
  const wav = new WaveFile();
  wav.fromScratch(channels.length, rate, depth, channels.length === 1 ? coded[0]! : coded, { container });
  return wav.toBuffer();
}

/** Asserts decodeWav refuses the bytes with an RnnkitError whose one-line message starts with the name and contains `part`. */
function expectRefused(bytes: Uint8Array, part: string): void {
  let error: unknown;
  try {
    decodeWav(bytes, 'bad.wav');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RnnkitError);
  const message = (error as Error).message;
  expect(message.startsWith('bad.wav: ')).toBe(true);
  expect(message).not.toContain('\n');
  expect(message).toContain(part);
}

describe('WAV files that are read', () => {
  it('16-bit PCM mono at 16 kHz: the samples within one step of 16-bit quantisation', () => {
    const x = sine(440, 0.25, 16000);
    const audio = decodeWav(encodeWav16(x, 16000), 'a.wav');
    expect(audio).toMatchObject({ sampleRate: 16000, fileRate: 16000, channels: 1 });
    expectClose(audio.samples, x, 1 / 32767, 0);
  });

  for (const depth of ['8', '16', '24', '32', '32f', '64']) {
    it(`${depth}-bit ${depth.endsWith('f') || depth === '64' ? 'float' : 'PCM'} stereo at 48 kHz: mixed down and resampled to 16 kHz`, () => {
      const left = sine(1000, 0.3, 48000, 0.6),
        right = sine(1000, 0.3, 48000, 0.2);
      const audio = decodeWav(wavBytes([left, right], 48000, depth), 's.wav');
      expect(audio).toMatchObject({ sampleRate: 16000, fileRate: 48000, channels: 2 });
      expect(audio.samples.length).toBe(4800);
      const expected = sine(1000, 0.3, 16000, 0.4);
      // away from the edges (the band-limited kernel sees zeros past them)
      expectClose(audio.samples.subarray(200, 4600), expected.subarray(200, 4600), depth === '8' ? 1.5e-2 : 2e-3, 0);
    });
  }

  for (const depth of ['16', '24', '32f']) {
    it(`${depth}: big-endian (RIFX) and WAVE_FORMAT_EXTENSIBLE (3 channels) give the samples of the plain file`, () => {
      const x = sine(700, 0.05, 16000, 0.5);
      const plain = decodeWav(wavBytes([x], 16000, depth), 'plain.wav').samples;
      expect(decodeWav(wavBytes([x], 16000, depth, 'RIFX'), 'rifx.wav').samples).toEqual(plain);
      // wavefile writes 3 channels with the 40-byte extensible fmt chunk but leaves the tag 1 or 3 (and its
      // sub-format GUID, at byte 24 of the chunk, PCM even for floats): set them as other writers do.
      const extensible = wavBytes([x, x, x], 16000, depth);
      const header = new DataView(extensible.buffer, extensible.byteOffset);
      expect(header.getUint32(16, true)).toBe(40);
      header.setUint16(20 + 24, header.getUint16(20, true), true);
      header.setUint16(20, 0xfffe, true);
      expectClose(decodeWav(extensible, 'ext.wav').samples, plain, 1e-6, 0); // (x + x + x) / 3 rounds
    });
  }

  it('22.05 kHz (eSpeak NG) to 16 kHz keeps a 3 kHz tone and removes a 9 kHz one', () => {
    const keep = resample(sine(3000, 0.2, 22050), 22050, 16000);
    expectClose(keep.subarray(300, 2900), sine(3000, 0.2, 16000).subarray(300, 2900), 2e-3, 0);
    const removed = resample(sine(9000, 0.2, 22050), 22050, 16000);
    expect(Math.max(...removed.subarray(300, 2900).map(Math.abs))).toBeLessThan(0.01);
  });
});

describe('hostile WAV files are refused with one line, never a crash', () => {
  const good = wavBytes([sine(440, 0.01, 16000)], 16000, '16'); // 160 samples, data at byte 44
  const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

  it('truncated in the data', () =>
    expectRefused(good.slice(0, 100), 'truncated WAV file (the data chunk declares 320 bytes, 56 are present)'));
  it('a data chunk size larger than the file', () => {
    const b = good.slice();
    view(b).setUint32(40, 1_000_000, true);
    expectRefused(b, 'truncated WAV file (the data chunk declares 1000000 bytes');
  });
  it('a fmt chunk size that runs past the data', () => {
    const b = good.slice();
    view(b).setUint32(16, 1_000_000, true);
    expectRefused(b, 'not a WAV file wavefile can read');
  });
  it('zero-length audio', () =>
    expectRefused(wavBytes([new Float32Array(0)], 16000, '16'), 'no audio (an empty data chunk)'));
  it('only the header', () => expectRefused(good.slice(0, 44), 'truncated WAV file'));
  it('an odd number of bytes of 16-bit data', () => {
    const b = good.slice(0, 44 + 7);
    view(b).setUint32(40, 7, true);
    expectRefused(b, 'not a whole number of 2-byte sample frames');
  });
  it('compressed: A-law, µ-law and IMA ADPCM', () => {
    for (const [convert, tag] of [
      ['toALaw', 6],
      ['toMuLaw', 7],
      ['toIMAADPCM', 17],
    ] as const) {
      const wav = new WaveFile();
      wav.fromScratch(1, 8000, '16', new Int16Array(1010).fill(1000));
      wav[convert]();
      expectRefused(wav.toBuffer(), `unsupported WAV encoding (format tag ${tag}`);
    }
  });
  it('not a WAV file at all: empty, text, zeros, a RIFF that is not WAVE', () => {
    expectRefused(new Uint8Array(0), 'not a WAV file');
    expectRefused(new TextEncoder().encode('hello, this is not audio'), 'not a WAV file');
    expectRefused(new Uint8Array(64), 'not a WAV file');
    const riff = good.slice();
    riff.set(new TextEncoder().encode('AVI '), 8);
    expectRefused(riff, 'not a WAV file');
  });
  it('a sample rate of 0', () => {
    const b = good.slice();
    view(b).setUint32(24, 0, true);
    expectRefused(b, 'sample rate 0 Hz is outside 1000–768000 Hz');
  });
  it('1,000 files with random header bytes damaged: decoded or refused with an RnnkitError, nothing else', () => {
    const random = makeRandom(20);
    let refused = 0;
    for (let i = 0; i < 1000; i++) {
      const b = good.slice();
      for (let k = 0; k < 3; k++) b[Math.floor(random() * 48)] = Math.floor(random() * 256);
      try {
        const audio = decodeWav(b, 'bad.wav');
        expect(audio.samples.length).toBeGreaterThan(0);
        expect(audio.samples.every(Number.isFinite)).toBe(true);
      } catch (error) {
        if (!(error instanceof RnnkitError)) throw error;
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(100);
  });
});
