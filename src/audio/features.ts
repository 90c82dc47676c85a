// Log-mel filterbank features: a periodic Hann window over each frame, the power spectrum of a real FFT
// (fft.js), triangular filters on the HTK mel scale (mel = 2595·log10(1 + f/700), no area normalisation,
// as torchaudio's melscale_fbanks(norm=None, mel_scale='htk')), the natural log of each energy with a floor
// (ln max(e, 1e-10)), then per-utterance mean and variance normalisation of every dimension and frame
// stacking with subsampling (stack k: k consecutive frames concatenated, every k-th kept).
import { PowerSpectrum } from './power-spectrum.js';

export interface FeatureSettings {
  sampleRate: number;
  mels: number;
  windowMs: number;
  hopMs: number;
  fftSize: number;
  /** Frames concatenated and kept one in `stack` (1: no stacking). */
  stack: number;
}

export const DEFAULT_FEATURES: FeatureSettings = {
  sampleRate: 16000,
  mels: 80,
  windowMs: 25,
  hopMs: 10,
  fftSize: 512,
  stack: 3,
};

/** The floor under the log: silence gives ln(1e-10) ≈ −23.03 in every band. */
export const LOG_FLOOR = 1e-10;

export const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
export const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

/** The triangular filters packed for a tight loop: filter m weighs FFT bins first[m] … first[m] + count[m] − 1
 *  with weights[offset[m] …]. */
interface MelFilters {
  first: Int32Array;
  count: Int32Array;
  offset: Int32Array;
  weights: Float64Array;
}

/** A feature extractor for fixed settings (window, FFT plan and filters made once). */
export class LogMel {
  readonly window: Float64Array;
  readonly hop: number;
  readonly filters: MelFilters;
  readonly #spectrum: PowerSpectrum;
  readonly #frame: Float64Array;
  readonly #power: Float64Array;

  constructor(readonly settings: FeatureSettings = DEFAULT_FEATURES) {
    const { sampleRate, mels, windowMs, hopMs, fftSize, stack } = settings;
    const length = Math.round((sampleRate * windowMs) / 1000);
    this.hop = Math.round((sampleRate * hopMs) / 1000);
    if (!(fftSize >= length && (fftSize & (fftSize - 1)) === 0))
      throw new RangeError(
        `features: the FFT size ${fftSize} must be a power of two of at least the window (${length} samples)`,
      );
    if (!(this.hop >= 1 && mels >= 1 && Number.isInteger(stack) && stack >= 1))
      throw new RangeError('features: hop, mels and stack must be positive');
    this.window = Float64Array.from({ length }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / length));
    this.filters = melFilters(mels, fftSize, sampleRate);
    this.#spectrum = new PowerSpectrum(fftSize);
    this.#frame = new Float64Array(fftSize);
    this.#power = new Float64Array(fftSize / 2 + 1);
  }

  /** Width of one output frame (mels × stack). */
  get width(): number {
    return this.settings.mels * this.settings.stack;
  }

  /** Frames of ln mel energies, [frames][mels] row-major (no normalisation, no stacking). `padTo` rounds the
   *  array's length up to whole groups of that many frames (zeros), for stacking without a copy. */
  logMel(samples: Float32Array, padTo = 1): { frames: number; data: Float32Array } {
    const { mels } = this.settings;
    const { window, hop } = this;
    const length = window.length;
    const frames = samples.length <= length ? 1 : 1 + Math.floor((samples.length - length) / hop);
    const data = new Float32Array(Math.ceil(frames / padTo) * padTo * mels);
    const frame = this.#frame,
      power = this.#power;
    const { first, count, offset, weights } = this.filters;
    for (let f = 0; f < frames; f++) {
      const start = f * hop,
        n = Math.min(length, samples.length - start);
      for (let i = 0; i < n; i++) frame[i] = samples[start + i]! * window[i]!;
      if (n < length) frame.fill(0, n, length); // the last frame of a short signal; past `length` stays 0
      this.#spectrum.power(frame, power);
      const row = f * mels;
      for (let m = 0; m < mels; m++) {
        const from = first[m]!,
          w = offset[m]! - from,
          to = from + count[m]!;
        let energy = 0;
        for (let k = from; k < to; k++) energy += weights[w + k]! * power[k]!;
        data[row + m] = Math.log(energy > LOG_FLOOR ? energy : LOG_FLOOR);
      }
    }
    return { frames, data };
  }

  /** The model's input: log-mel, normalised per utterance, stacked. [frames][width] row-major. */
  features(samples: Float32Array): { frames: number; data: Float32Array } {
    const { mels, stack } = this.settings;
    const { frames, data } = this.logMel(samples, stack);
    normalise(data, frames, mels);
    return stackFrames(data, frames, mels, stack);
  }
}

/** Triangles between mel-spaced points from 0 Hz to the Nyquist frequency, evaluated at the FFT bins. */
function melFilters(mels: number, fftSize: number, sampleRate: number): MelFilters {
  const top = hzToMel(sampleRate / 2);
  const edges = Array.from({ length: mels + 2 }, (_, i) => melToHz((top * i) / (mels + 1)));
  const bins = fftSize / 2 + 1,
    binHz = sampleRate / fftSize;
  const filters = Array.from({ length: mels }, (_, m) => {
    const [left, centre, right] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const weights: number[] = [];
    let first = -1;
    for (let k = 0; k < bins; k++) {
      const hz = k * binHz;
      const w = Math.max(0, Math.min((hz - left) / (centre - left), (right - hz) / (right - centre)));
      if (w > 0 && first < 0) first = k;
      if (first >= 0) weights.push(w);
    }
    while (weights.length > 0 && weights[weights.length - 1] === 0) weights.pop();
    return { first: Math.max(first, 0), weights: Float32Array.from(weights) };
  });
  const offset = new Int32Array(mels);
  for (let m = 1; m < mels; m++) offset[m] = offset[m - 1]! + filters[m - 1]!.weights.length;
  const weights = new Float64Array(offset[mels - 1]! + filters[mels - 1]!.weights.length);
  filters.forEach((f, m) => weights.set(f.weights, offset[m]));
  return {
    first: Int32Array.from(filters, (f) => f.first),
    count: Int32Array.from(filters, (f) => f.weights.length),
    offset,
    weights,
  };
}

/** Per-dimension (x − mean) / sqrt(variance + 1e-10) over the frames, in place. */
export function normalise(data: Float32Array, frames: number, width: number): void {
  for (let d = 0; d < width; d++) {
    let sum = 0,
      squares = 0;
    for (let f = 0; f < frames; f++) sum += data[f * width + d]!;
    const mean = sum / frames;
    for (let f = 0; f < frames; f++) squares += (data[f * width + d]! - mean) ** 2;
    const scale = 1 / Math.sqrt(squares / frames + 1e-10);
    for (let f = 0; f < frames; f++) data[f * width + d] = (data[f * width + d]! - mean) * scale;
  }
}

/** k consecutive frames concatenated, every k-th kept: ceil(frames / k) outputs, zeros past the end. In
 *  row-major order that is the same numbers, so `data` is only padded (it is returned as is when it already
 *  holds whole groups of k frames, as features() arranges). */
export function stackFrames(
  data: Float32Array,
  frames: number,
  width: number,
  k: number,
): { frames: number; data: Float32Array } {
  const count = Math.ceil(frames / k);
  if (data.length === count * k * width) return { frames: count, data };
  const out = new Float32Array(count * width * k);
  out.set(data.subarray(0, frames * width));
  return { frames: count, data: out };
}
