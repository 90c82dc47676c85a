// Log-mel features (src/audio/features.ts) against the numpy reference of test/fixtures/make_speech_fixtures.py,
// and on generated signals: a sine lands in the mel band around its frequency, silence gives the floor,
// normalisation and stacking do what they say.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FEATURES, LOG_FLOOR, LogMel, hzToMel, melToHz, stackFrames } from '../src/audio/features.js';
import { expectClose } from './helpers.js';

interface FeatureCase {
  name: string;
  samples: number[];
  frames: number;
  logmel: number[];
  features: number[];
}
const fixture = JSON.parse(
  readFileSync(resolve(import.meta.dirname, 'fixtures', 'speech', 'features.json'), 'utf8'),
) as { cases: FeatureCase[] };
const extractor = new LogMel();
const sine = (hz: number, seconds: number, amplitude = 0.5, rate = 16000): Float32Array =>
  Float32Array.from(
    { length: Math.round(seconds * rate) },
    (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate),
  );

describe('log-mel features match the numpy reference', () => {
  for (const c of fixture.cases) {
    it(c.name, () => {
      const { frames, data } = extractor.logMel(Float32Array.from(c.samples));
      expect(frames).toBe(c.frames);
      expectClose(data, c.logmel, 2e-3, 1e-4, 'log-mel');
      const features = extractor.features(Float32Array.from(c.samples));
      expect(features.frames).toBe(Math.ceil(c.frames / 3));
      expectClose(features.data, c.features, 5e-3, 1e-3, 'normalised and stacked');
    });
  }
});

describe('log-mel features on generated signals', () => {
  it('the defaults: 80 mels, 25 ms Hann window, 10 ms hop, 512-point FFT, stack 3', () => {
    expect(DEFAULT_FEATURES).toEqual({ sampleRate: 16000, mels: 80, windowMs: 25, hopMs: 10, fftSize: 512, stack: 3 });
    expect(extractor.window.length).toBe(400);
    expect(extractor.hop).toBe(160);
    expect(extractor.width).toBe(240);
  });

  for (const hz of [300, 1000, 2500, 6000]) {
    it(`a ${hz} Hz sine peaks in the band whose centre is nearest ${hz} Hz`, () => {
      const { frames, data } = extractor.logMel(sine(hz, 0.5));
      const top = hzToMel(8000);
      const centres = Array.from({ length: 80 }, (_, m) => melToHz((top * (m + 1)) / 81));
      const nearest = centres.reduce((best, c, m) => (Math.abs(c - hz) < Math.abs(centres[best]! - hz) ? m : best), 0);
      for (let f = 1; f < frames - 1; f++) {
        const row = Array.from(data.subarray(f * 80, (f + 1) * 80));
        const peak = row.indexOf(Math.max(...row));
        expect(Math.abs(peak - nearest), `frame ${f}: peak band ${peak}, expected ${nearest}`).toBeLessThanOrEqual(1);
      }
    });
  }

  it('silence gives the floor ln(1e-10) in every band, and normalises to zeros', () => {
    const silent = new Float32Array(8000);
    const { frames, data } = extractor.logMel(silent);
    expect(frames).toBe(48);
    expect(new Set(data)).toEqual(new Set([Math.fround(Math.log(LOG_FLOOR))]));
    const normalised = extractor.features(silent);
    expect(normalised.data.every((v) => v === 0)).toBe(true);
  });

  it('louder by 20 dB adds ln(100) to every band above the floor', () => {
    const quiet = extractor.logMel(sine(1000, 0.2, 0.01)).data,
      loud = extractor.logMel(sine(1000, 0.2, 0.1)).data;
    for (let i = 0; i < quiet.length; i++)
      if (quiet[i]! > -15) expect(loud[i]! - quiet[i]!).toBeCloseTo(Math.log(100), 3);
  });

  it('normalisation gives each dimension mean 0 and variance 1', () => {
    const noise = Float32Array.from(
      { length: 16000 },
      (_, i) => Math.sin(i * 0.37) * Math.sin(i * 0.0021) + 0.1 * Math.sin(i * 1.3),
    );
    const unstacked = new LogMel({ ...DEFAULT_FEATURES, stack: 1 }).features(noise);
    for (const d of [0, 17, 79]) {
      const column = Array.from({ length: unstacked.frames }, (_, f) => unstacked.data[f * 80 + d]!);
      const mean = column.reduce((a, b) => a + b, 0) / column.length;
      expect(mean).toBeCloseTo(0, 4);
      expect(column.reduce((a, b) => a + (b - mean) ** 2, 0) / column.length).toBeCloseTo(1, 3);
    }
  });

  it('stacking concatenates k frames, keeps every k-th and pads the last group with zeros', () => {
    const data = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]); // 5 frames of width 2
    expect(stackFrames(data, 5, 2, 3)).toEqual({
      frames: 2,
      data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 0]),
    });
    expect(stackFrames(data, 5, 2, 1).data).toBe(data);
  });

  it('bad settings are refused', () => {
    expect(() => new LogMel({ ...DEFAULT_FEATURES, fftSize: 256 })).toThrow(
      'features: the FFT size 256 must be a power of two of at least the window (400 samples)',
    );
    expect(() => new LogMel({ ...DEFAULT_FEATURES, stack: 0 })).toThrow(
      'features: hop, mels and stack must be positive',
    );
  });
});
