// CTC decoders (src/speech/decode.ts): greedy on hand-made paths; prefix beam search against an exhaustive
// sum over all alignments of a tiny distribution, and equal to greedy with K = 1 on peaky distributions.
import { describe, expect, it } from 'vitest';
import { beamDecode, collapse, greedyDecode } from '../src/speech/decode.js';
import { makeRandom } from './helpers.js';

/** Log-probabilities [T][C] from rows of probabilities. */
const logOf = (rows: number[][]): Float32Array => Float32Array.from(rows.flat().map(Math.log));

/** Random rows; `peak` > 0 puts at least that much mass on one random symbol per frame. */
function randomRows(random: () => number, T: number, C: number, peak = 0): number[][] {
  return Array.from({ length: T }, () => {
    const raw = Array.from({ length: C }, () => random() + 1e-3);
    const sum = raw.reduce((a, b) => a + b, 0);
    const row = raw.map((v) => (v / sum) * (1 - peak));
    row[Math.floor(random() * C)]! += peak;
    return row;
  });
}

/** The most probable label sequence by brute force: every one of the C^T paths, probabilities summed per collapse. */
function exhaustive(rows: number[][]): { labels: number[]; probability: number } {
  const T = rows.length,
    C = rows[0]!.length;
  const sums = new Map<string, number>();
  for (let index = 0; index < C ** T; index++) {
    const path = Array.from({ length: T }, (_, t) => Math.floor(index / C ** t) % C);
    const key = collapse(path).join(',');
    sums.set(key, (sums.get(key) ?? 0) + path.reduce((p, c, t) => p * rows[t]![c]!, 1));
  }
  const [key, probability] = [...sums.entries()].reduce((a, b) => (b[1] > a[1] ? b : a));
  return { labels: key === '' ? [] : key.split(',').map(Number), probability };
}

describe('greedy decoding', () => {
  it('collapses repeats, then drops blanks (a blank separates a real repeat)', () => {
    expect(collapse([0, 1, 1, 0, 1, 2, 2, 0, 0, 3])).toEqual([1, 1, 2, 3]);
    expect(collapse([0, 0, 0])).toEqual([]);
  });
  it('takes the most probable symbol of every frame and sums their log-probabilities', () => {
    const rows = [
      [0.1, 0.8, 0.1],
      [0.2, 0.7, 0.1],
      [0.6, 0.2, 0.2],
      [0.1, 0.3, 0.6],
    ];
    const got = greedyDecode(logOf(rows), 4, 3);
    expect(got.path).toEqual([1, 1, 0, 2]);
    expect(got.labels).toEqual([1, 2]);
    expect(got.score).toBeCloseTo(Math.log(0.8 * 0.7 * 0.6 * 0.6), 6);
  });
});

describe('prefix beam search', () => {
  it('a hand-built distribution where the best path and the best labelling differ: the beam finds the labelling', () => {
    // Best path: blank, blank ("" with 0.36) — but "1" collects 0.4·0.6 + 0.6·0.4 + 0.4·0.4 = 0.64.
    const rows = [
      [0.6, 0.4],
      [0.6, 0.4],
    ];
    expect(greedyDecode(logOf(rows), 2, 2).labels).toEqual([]);
    const beam = beamDecode(logOf(rows), 2, 2, 4);
    expect(beam.labels).toEqual([1]);
    expect(Math.exp(beam.score)).toBeCloseTo(0.64, 6);
    expect(exhaustive(rows)).toEqual({ labels: [1], probability: expect.closeTo(0.64, 9) as number });
  });

  it('with a beam wide enough to keep every prefix it equals the exhaustive search (50 random T=5, C=3 cases)', () => {
    const random = makeRandom(7);
    for (let i = 0; i < 50; i++) {
      const rows = randomRows(random, 5, 3);
      const best = exhaustive(rows);
      const beam = beamDecode(logOf(rows), 5, 3, 64);
      expect(beam.labels, `case ${i}`).toEqual(best.labels);
      expect(Math.exp(beam.score)).toBeCloseTo(best.probability, 6);
    }
  });

  it('K = 1 equals greedy on peaky distributions (top symbol ≥ 0.7 of each frame; 200 cases)', () => {
    const random = makeRandom(8);
    for (let i = 0; i < 200; i++) {
      const T = 3 + Math.floor(random() * 30),
        C = 2 + Math.floor(random() * 12);
      const lp = logOf(randomRows(random, T, C, 0.7));
      expect(beamDecode(lp, T, C, 1).labels, `case ${i}`).toEqual(greedyDecode(lp, T, C).labels);
    }
  });

  it('K = 1 can differ from greedy on a flat distribution (it sums alignments)', () => {
    const rows = [
      [0.45, 0.5, 0.05],
      [0.3, 0.3, 0.4],
    ]; // greedy: 1 2; K = 1 keeps only "1" after frame 0, then "1" (0.5·0.3 + 0.5·0.3 = 0.3) beats "1 2" (0.5·0.4 = 0.2)
    expect(greedyDecode(logOf(rows), 2, 3).labels).toEqual([1, 2]);
    expect(beamDecode(logOf(rows), 2, 3, 1).labels).toEqual([1]);
  });

  it('refuses a beam width that is not a positive integer', () => {
    expect(() => beamDecode(new Float32Array(2), 1, 2, 0)).toThrow('beam width must be a positive integer, not 0');
  });
});
