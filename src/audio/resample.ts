// Band-limited resampling: each output sample is a Hann-windowed sinc interpolation of the input, with the
// cutoff at 0.95 × the lower of the two Nyquist frequencies (so downsampling does not alias). Between two
// integer rates the output samples fall on L = toRate / gcd phases of the input grid; the kernel of each
// phase is computed once (when there are at most MAX_PHASES of them, else per sample).
const ZERO_CROSSINGS = 16;
const MAX_PHASES = 4096;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

interface Phase {
  /** Offset of the first tap from floor(centre). */
  first: number;
  weights: Float64Array;
}

export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return samples;
  const ratio = toRate / fromRate;
  const cutoff = 0.95 * Math.min(1, ratio); // in units of the input's Nyquist frequency
  const halfWidth = ZERO_CROSSINGS / cutoff; // kernel half-width in input samples
  const kernel = (x: number): number => {
    const arg = Math.PI * cutoff * x;
    return (0.5 + 0.5 * Math.cos((Math.PI * x) / halfWidth)) * cutoff * (arg === 0 ? 1 : Math.sin(arg) / arg);
  };
  const phaseOf = (fraction: number): Phase => {
    const first = Math.ceil(fraction - halfWidth),
      last = Math.floor(fraction + halfWidth);
    return { first, weights: Float64Array.from({ length: last - first + 1 }, (_, k) => kernel(first + k - fraction)) };
  };
  const integral = Number.isInteger(fromRate) && Number.isInteger(toRate);
  const g = integral ? gcd(fromRate, toRate) : 1;
  const L = toRate / g,
    M = fromRate / g;
  const table = integral && L <= MAX_PHASES ? Array.from({ length: L }, (_, p) => phaseOf(p / L)) : null;
  const out = new Float32Array(Math.max(1, Math.round(samples.length * ratio)));
  for (let i = 0; i < out.length; i++) {
    const base = table ? Math.floor((i * M) / L) : Math.floor(i / ratio);
    const { first, weights } = table ? table[(i * M) % L]! : phaseOf(i / ratio - base);
    const from = Math.max(0, -(base + first)),
      to = Math.min(weights.length, samples.length - (base + first));
    let sum = 0;
    for (let k = from; k < to; k++) sum += samples[base + first + k]! * weights[k]!;
    out[i] = sum;
  }
  return out;
}
