// The power spectrum of a real frame (src/audio/power-spectrum.ts, fft.js's real transform) against a plain
// float64 DFT, Σ x_n e^{−2πikn/N}, on random frames of every size the features may use, and on a pure tone
// (all its energy in one bin).
import { describe, expect, it } from 'vitest';
import { PowerSpectrum } from '../src/audio/power-spectrum.js';
import { makeRandom } from './helpers.js';

function dftPower(x: Float64Array): Float64Array {
  const N = x.length;
  return Float64Array.from({ length: N / 2 + 1 }, (_, k) => {
    let re = 0,
      im = 0;
    for (let n = 0; n < N; n++) {
      re += x[n]! * Math.cos((2 * Math.PI * k * n) / N);
      im -= x[n]! * Math.sin((2 * Math.PI * k * n) / N);
    }
    return re * re + im * im;
  });
}

describe('PowerSpectrum', () => {
  const random = makeRandom(3);
  for (const N of [2, 4, 8, 16, 64, 512, 1024]) {
    it(`N = ${N}: equals the DFT's |X_k|² for k = 0 … N/2`, () => {
      const x = Float64Array.from({ length: N }, () => 2 * random() - 1);
      const power = new Float64Array(N / 2 + 1);
      new PowerSpectrum(N).power(x, power);
      const expected = dftPower(x);
      const scale = Math.max(...expected);
      for (let k = 0; k <= N / 2; k++) expect(Math.abs(power[k]! - expected[k]!)).toBeLessThan(1e-12 * scale);
    });
  }

  it('a cosine of 5 cycles in 32 samples: (N/2)² in bin 5, nothing elsewhere', () => {
    const x = Float64Array.from({ length: 32 }, (_, n) => Math.cos((2 * Math.PI * 5 * n) / 32));
    const power = new Float64Array(17);
    new PowerSpectrum(32).power(x, power);
    power.forEach((p, k) => expect(p).toBeCloseTo(k === 5 ? 256 : 0, 9));
  });

  it('refuses a size that is not a power of two of at least 2', () => {
    for (const N of [0, 1, 3, 12, 400.5]) expect(() => new PowerSpectrum(N)).toThrow(RangeError);
  });
});
