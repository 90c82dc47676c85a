// The power spectrum of a real frame: a radix-2 FFT of the frame's N/2 even/odd sample pairs as complex numbers,
// then the split that separates the even and odd halves' spectra (the usual real-input trick: half the work of
// a complex FFT of N points). Float64 throughout; the tables are made once per size.
export class PowerSpectrum {
  /** M = N/2: the complex FFT's size. */
  readonly #half: number;
  readonly #re: Float64Array;
  readonly #im: Float64Array;
  /** Bit-reversed index of each of the M points. */
  readonly #bitrev: Uint32Array;
  /** cos, sin of 2πj/M for j < M/2: the butterflies' twiddles. */
  readonly #cos: Float64Array;
  readonly #sin: Float64Array;
  /** cos, sin of 2πk/N for k ≤ M: the split's twiddles. */
  readonly #splitCos: Float64Array;
  readonly #splitSin: Float64Array;

  constructor(readonly size: number) {
    if (!(Number.isInteger(size) && size >= 4 && (size & (size - 1)) === 0))
      throw new RangeError(`PowerSpectrum: the size must be a power of two of at least 4, got ${size}`);
    const M = size / 2;
    this.#half = M;
    this.#re = new Float64Array(M);
    this.#im = new Float64Array(M);
    const bits = Math.log2(M);
    this.#bitrev = Uint32Array.from({ length: M }, (_, i) => {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >>> b) & 1) << (bits - 1 - b);
      return r;
    });
    this.#cos = Float64Array.from({ length: M / 2 }, (_, j) => Math.cos((2 * Math.PI * j) / M));
    this.#sin = Float64Array.from({ length: M / 2 }, (_, j) => Math.sin((2 * Math.PI * j) / M));
    this.#splitCos = Float64Array.from({ length: M + 1 }, (_, k) => Math.cos((2 * Math.PI * k) / size));
    this.#splitSin = Float64Array.from({ length: M + 1 }, (_, k) => Math.sin((2 * Math.PI * k) / size));
  }

  /** |X_k|² for k = 0 … N/2 of the real frame x (N samples), X_k = Σ_n x_n e^{−2πikn/N}, into `power`. */
  power(frame: Float64Array, power: Float64Array): void {
    const M = this.#half,
      re = this.#re,
      im = this.#im,
      bitrev = this.#bitrev,
      cos = this.#cos,
      sin = this.#sin;
    for (let m = 0; m < M; m++) {
      re[bitrev[m]!] = frame[2 * m]!;
      im[bitrev[m]!] = frame[2 * m + 1]!;
    }
    for (let len = 2; len <= M; len <<= 1) {
      const half = len >>> 1,
        stride = M / len;
      for (let start = 0; start < M; start += len) {
        for (let j = 0; j < half; j++) {
          const wr = cos[j * stride]!,
            wi = -sin[j * stride]!; // e^{−2πij/len}
          const a = start + j,
            b = a + half;
          const tr = re[b]! * wr - im[b]! * wi,
            ti = re[b]! * wi + im[b]! * wr;
          re[b] = re[a]! - tr;
          im[b] = im[a]! - ti;
          re[a] = re[a]! + tr;
          im[a] = im[a]! + ti;
        }
      }
    }
    // Z = E + iO (E, O: the spectra of the even and odd samples): E_k = (Z_k + conj Z_{M−k}) / 2,
    // O_k = (Z_k − conj Z_{M−k}) / 2i, and X_k = E_k + e^{−2πik/N} O_k.
    for (let k = 0; k <= M; k++) {
      const zr = re[k % M]!,
        zi = im[k % M]!,
        cr = re[(M - k) % M]!,
        ci = -im[(M - k) % M]!;
      const er = (zr + cr) / 2,
        ei = (zi + ci) / 2;
      const or = (zi - ci) / 2,
        oi = -(zr - cr) / 2;
      const wr = this.#splitCos[k]!,
        wi = -this.#splitSin[k]!;
      const xr = er + wr * or - wi * oi,
        xi = ei + wr * oi + wi * or;
      power[k] = xr * xr + xi * xi;
    }
  }
}
