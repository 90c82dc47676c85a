// Band-limited resampling: each output sample is a Hann-windowed sinc interpolation of the input, with the
// cutoff at 0.95 × the lower of the two Nyquist frequencies (so downsampling does not alias).
const ZERO_CROSSINGS = 16;

export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (fromRate === toRate) return samples;
  const ratio = toRate / fromRate;
  const cutoff = 0.95 * Math.min(1, ratio); // in units of the input's Nyquist frequency
  const halfWidth = ZERO_CROSSINGS / cutoff; // kernel half-width in input samples
  const out = new Float32Array(Math.max(1, Math.round(samples.length * ratio)));
  for (let i = 0; i < out.length; i++) {
    const centre = i / ratio;
    const first = Math.max(0, Math.ceil(centre - halfWidth)), last = Math.min(samples.length - 1, Math.floor(centre + halfWidth));
    let sum = 0;
    for (let j = first; j <= last; j++) {
      const x = j - centre;
      const window = 0.5 + 0.5 * Math.cos((Math.PI * x) / halfWidth);
      const arg = Math.PI * cutoff * x;
      sum += samples[j]! * window * cutoff * (arg === 0 ? 1 : Math.sin(arg) / arg);
    }
    out[i] = sum;
  }
  return out;
}
