// The most probable CTC alignment of given labels (Viterbi over the extended sequence blank, l1, blank, l2,
// …, blank), and the word timings it implies.

/** For each frame, the index of the label it emits (−1: a blank); null when no alignment fits in T frames. */
export function viterbiAlign(
  logProbs: Float32Array,
  T: number,
  C: number,
  labels: readonly number[],
): Int32Array | null {
  const U = labels.length,
    N = 2 * U + 1;
  const symbol = (s: number): number => (s % 2 === 0 ? 0 : labels[(s - 1) / 2]!);
  let score = new Float64Array(N).fill(-Infinity);
  const from = new Int8Array(T * N); // 0, 1 or 2: how many states back the best predecessor is
  score[0] = logProbs[0]!;
  if (N > 1) score[1] = logProbs[symbol(1)]!;
  for (let t = 1; t < T; t++) {
    const next = new Float64Array(N).fill(-Infinity);
    for (let s = 0; s < N; s++) {
      let best = score[s]!,
        back = 0;
      if (s >= 1 && score[s - 1]! > best) {
        best = score[s - 1]!;
        back = 1;
      }
      if (s >= 2 && symbol(s) !== 0 && symbol(s) !== symbol(s - 2) && score[s - 2]! > best) {
        best = score[s - 2]!;
        back = 2;
      }
      next[s] = best + logProbs[t * C + symbol(s)]!;
      from[t * N + s] = back;
    }
    score = next;
  }
  let s = N > 1 && score[N - 2]! > score[N - 1]! ? N - 2 : N - 1;
  if (score[s] === -Infinity) return null;
  const emitted = new Int32Array(T);
  for (let t = T - 1; t >= 0; t--) {
    emitted[t] = s % 2 === 0 ? -1 : (s - 1) / 2;
    s -= from[t * N + s]!;
  }
  return emitted;
}

export interface WordTiming {
  word: string;
  /** Seconds from the start of the audio. */
  start: number;
  end: number;
}

/** Words of `text` (one character per label, words split by `separator`) with the span of frames their
 *  labels were emitted in, each frame `frameSeconds` long. */
export function wordTimings(text: string, emitted: Int32Array, frameSeconds: number, separator = ' '): WordTiming[] {
  const chars = [...text];
  const first = new Int32Array(chars.length).fill(-1),
    last = new Int32Array(chars.length).fill(-1);
  emitted.forEach((u, t) => {
    if (u < 0) return;
    if (first[u] === -1) first[u] = t;
    last[u] = t;
  });
  const words: WordTiming[] = [];
  let start = -1;
  for (let u = 0; u <= chars.length; u++) {
    if (u === chars.length || chars[u] === separator) {
      if (start >= 0) {
        const word = chars.slice(start, u).join('');
        words.push({ word, start: first[start]! * frameSeconds, end: (last[u - 1]! + 1) * frameSeconds });
      }
      start = -1;
    } else if (start < 0) start = u;
  }
  return words;
}
