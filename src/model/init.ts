// Initialisations of the recurrent weights beside PyTorch's defaults: Le et al. 2015's identity (the IRNN:
// a ReLU RNN whose W_hh starts as I with zero biases, so h_t = h_{t−1} + input and gradients neither vanish
// nor explode at first) and orthogonal W_hh (every gate's H×H block orthogonal, as
// torch.nn.init.orthogonal_ makes one: Q of a Gaussian matrix's QR with R's diagonal made positive).
import type { FloatSpan } from '../backend/types.js';
import type { Random } from '../util/random.js';

export const INIT_SCHEMES = ['pytorch', 'randn', 'identity', 'orthogonal'] as const;
export type InitScheme = (typeof INIT_SCHEMES)[number];

/** A random orthogonal n×n matrix (row-major) into out: Gram–Schmidt (twice, for float64-level
 *  orthogonality) on the columns of a matrix of N(0, 1) draws. */
export function orthogonalInto(out: { [i: number]: number }, offset: number, n: number, random: Random): void {
  const q = new Float64Array(n * n); // column-major while we work: column j is q[j·n … j·n + n)
  for (let i = 0; i < n * n; i++) q[i] = random.normal();
  for (let j = 0; j < n; j++) {
    const col = q.subarray(j * n, (j + 1) * n);
    for (let pass = 0; pass < 2; pass++) {
      for (let k = 0; k < j; k++) {
        const prev = q.subarray(k * n, (k + 1) * n);
        let dot = 0;
        for (let i = 0; i < n; i++) dot += prev[i]! * col[i]!;
        for (let i = 0; i < n; i++) col[i] = col[i]! - dot * prev[i]!;
      }
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += col[i]! * col[i]!;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) col[i] = col[i]! / norm;
  }
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) out[offset + r * n + c] = q[c * n + r]!;
}

/** Rewrites W_hh [G·H, H] (every gate block) and, for identity, zeroes the recurrent layers' biases. */
export function initRecurrent(
  scheme: 'identity' | 'orthogonal',
  tensors: readonly { name: string; view: FloatSpan }[],
  H: number,
  random: Random,
): void {
  for (const tensor of tensors) {
    const data = tensor.view.data;
    if (/^(rnn|encoder|decoder)\.weight_hh_/u.test(tensor.name)) {
      for (let block = 0; block < data.length / (H * H); block++) {
        const offset = block * H * H;
        if (scheme === 'orthogonal') orthogonalInto(data, offset, H, random);
        else for (let i = 0; i < H * H; i++) data[offset + i] = i % (H + 1) === 0 ? 1 : 0;
      }
    } else if (scheme === 'identity' && /^(rnn|encoder|decoder)\.bias_/u.test(tensor.name)) {
      data.fill(0);
    }
  }
}
