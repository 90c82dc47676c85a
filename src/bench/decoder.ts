// The decoder rows of the benchmark: the attention decoder loop of the sequence-to-sequence model (issue #11)
// alone, at a size like the CMU dictionary model's, on one backend. D1: training (decoderForward +
// decoderBackward over a batch, target tokens/s); D2: inference, one step over B·K beam rows per call (what
// beam search runs, rows·steps/s). The rates exclude the encoder, the head and the optimizer.
import { type Backend, type DecoderShape, type FloatSpan, Span, cacheWidth, gatesOf } from '../backend/types.js';
import { Random } from '../util/random.js';

/** The decoder's sizes and its layer count. */
export type DecoderBenchShape = DecoderShape & { L: number };

/** D1: LSTM H256 (E64, bidirectional encoder M512), 12 target and 10 source steps, batch 64. D2: the same
 *  model, one step over 64 inputs × beam 5. */
export const DECODER_BENCH: Record<'D1' | 'D2', DecoderBenchShape> = {
  D1: { kind: 'lstm', L: 1, T: 12, B: 64, S: 10, E: 64, H: 256, M: 512 },
  D2: { kind: 'lstm', L: 1, T: 1, B: 320, S: 10, E: 64, H: 256, M: 512 },
};

export const DECODER_BENCH_DESCRIPTION =
  'D1: decoder loop forward+backward, LSTM H256 E64 M512, T12 S10 B64 (target tokens/s); D2: one decoder step over 64 inputs × beam 5 (rows/s)';

/** Multiply-adds ×2 of one row-step forward: layer inputs and recurrences, scores, context, W_c. */
export function decoderFlopsPerRow(s: DecoderBenchShape): number {
  const GH = gatesOf(s.kind) * s.H;
  const layers = 2 * GH * (s.E + s.H) + 2 * GH * s.H + (s.L - 1) * 4 * GH * s.H;
  return layers + 2 * s.S * (s.H + s.M) + 2 * s.H * (s.M + s.H);
}

/** A step function for measure(): runs the shape once (forward, and backward when `train`), returns rows·T. */
export function decoderBenchStep(backend: Backend, s: DecoderBenchShape, train: boolean): () => number {
  const { kind, L, T, B, S, E, H, M } = s;
  const GH = gatesOf(kind) * H,
    lstm = kind === 'lstm';
  const random = new Random(7);
  const floats = (n: number, scale = 0): FloatSpan => {
    const span = Span.of(backend.allocFloat(n));
    if (scale > 0) {
      const values = Float32Array.from({ length: n }, () => (random.uniform() * 2 - 1) * scale);
      span.data.set(values);
    }
    return span;
  };
  const w = 1 / Math.sqrt(H);
  const layers = Array.from({ length: L }, (_, l) => ({
    wIh: floats(GH * (l === 0 ? E + H : H), w),
    wHh: floats(GH * H, w),
    bIh: floats(GH, 0.1),
    bHh: floats(GH, 0.1),
    hs: floats((T + 1) * B * H),
    cs: floats(lstm ? (T + 1) * B * H : 0),
    cache: floats(T * B * cacheWidth(kind) * H),
  }));
  const lengths = Span.of(backend.allocInt(B));
  lengths.data.set(Int32Array.from({ length: B }, (_, b) => 1 + (b % S)));
  const mem = { keys: floats(S * B * H, w), memory: floats(S * B * M, 1), sourceLengths: lengths };
  const wCombine = floats(H * (M + H), 1 / Math.sqrt(M + H));
  const embedded = floats(T * B * E, 1);
  const rec = {
    input0: floats(T * B * (E + H)),
    attention: floats(T * B * S),
    combined: floats(T * B * (M + H)),
    feeds: floats((T + 1) * B * H),
  };
  const shape = { kind, T, B, S, E, H, M };
  const dFeeds = floats(T * B * H, 1);
  const dhN = layers.map(() => floats(B * H));
  const dcN = layers.map(() => floats(lstm ? B * H : 0));
  const grads = layers.map(() => ({
    dGx: floats(T * B * GH),
    dGh: floats(T * B * GH),
    dh0: floats(B * H),
    dc0: floats(lstm ? B * H : 0),
    dbIh: floats(GH),
    dbHh: floats(GH),
  }));
  const out = {
    dEmbedded: floats(T * B * E),
    dKeys: floats(S * B * H),
    dMemory: floats(S * B * M),
    dCombine: floats(T * B * H),
    dFeed0: floats(B * H),
  };
  return () => {
    backend.decoderForward(shape, layers, embedded, mem, wCombine, rec);
    if (train) backend.decoderBackward(shape, layers, mem, wCombine, rec, dFeeds, dhN, dcN, grads, out);
    return T * B;
  };
}
