// The power spectrum of a real frame, |X_k|² for k = 0 … N/2, from fft.js's real-input transform.
import FFT from '../vendor/fft.js';

export class PowerSpectrum {
  readonly #fft: FFT;
  /** fft.js's interleaved complex output (re, im, …); realTransform fills bins 0 … N/2 of it. */
  readonly #spectrum: number[];

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= 2 && (size & (size - 1)) === 0))
      throw new RangeError(`PowerSpectrum: the size must be a power of two of at least 2, got ${size}`);
    this.#fft = new FFT(size);
    this.#spectrum = this.#fft.createComplexArray() as number[];
  }

  /** |X_k|² of the real frame x (N samples), X_k = Σ_n x_n e^{−2πikn/N}, into `power` (N/2 + 1 values). */
  power(frame: Float64Array, power: Float64Array): void {
    const spectrum = this.#spectrum;
    this.#fft.realTransform(spectrum, frame);
    for (let k = 0; k <= this.size / 2; k++) {
      const re = spectrum[2 * k]!,
        im = spectrum[2 * k + 1]!;
      power[k] = re * re + im * im;
    }
  }
}
