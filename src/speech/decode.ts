// CTC decoding of per-frame log-probabilities [T][C] (symbol 0 is the blank): greedy (the best path,
// repeats collapsed, blanks dropped) and prefix beam search (Hannun et al. 2014), which ranks label
// prefixes by their probability summed over all alignments, keeping the best K after each frame.
// On peaky distributions (a trained CTC model's) K = 1 gives the greedy result; on flat ones it can differ,
// because it sums alignments where greedy follows one path.
import { logAddExp } from '../backend/ctc-reference.js';

export interface Decoded {
  /** Label ids (blank-free, repeats collapsed). */
  labels: number[];
  /** Greedy: log-probability of the best path; beam: log-probability of the labels over all alignments. */
  score: number;
}

/** The best path: the most probable symbol of each frame, repeats collapsed, blanks dropped. */
export function greedyDecode(logProbs: Float32Array, T: number, C: number): Decoded & { path: number[] } {
  const path: number[] = [];
  let score = 0;
  for (let t = 0; t < T; t++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logProbs[t * C + c]! > logProbs[t * C + best]!) best = c;
    path.push(best);
    score += logProbs[t * C + best]!;
  }
  return { labels: collapse(path), score, path };
}

/** Repeats collapsed, then blanks dropped. */
export function collapse(path: number[]): number[] {
  return path.filter((c, t) => c !== 0 && (t === 0 || c !== path[t - 1]));
}

interface Beam {
  labels: number[];
  /** log P(prefix, the last frame a blank), log P(prefix, the last frame its last label). */
  blank: number;
  label: number;
}

const total = (b: Beam): number => logAddExp(b.blank, b.label);

/** Prefix beam search with `beamWidth` prefixes kept after each frame. */
export function beamDecode(logProbs: Float32Array, T: number, C: number, beamWidth: number): Decoded {
  if (!(Number.isInteger(beamWidth) && beamWidth >= 1))
    throw new RangeError(`beam width must be a positive integer, not ${beamWidth}`);
  let beams: Beam[] = [{ labels: [], blank: 0, label: -Infinity }];
  for (let t = 0; t < T; t++) {
    const next = new Map<string, Beam>();
    const entry = (labels: number[]): Beam => {
      const key = labels.join(',');
      let beam = next.get(key);
      if (!beam) next.set(key, (beam = { labels, blank: -Infinity, label: -Infinity }));
      return beam;
    };
    const lp = (c: number): number => logProbs[t * C + c]!;
    for (const beam of beams) {
      const last = beam.labels.length > 0 ? beam.labels[beam.labels.length - 1]! : -1;
      const stay = entry(beam.labels);
      stay.blank = logAddExp(stay.blank, total(beam) + lp(0));
      for (let c = 1; c < C; c++) {
        const extended = entry([...beam.labels, c]);
        if (c === last) {
          stay.label = logAddExp(stay.label, beam.label + lp(c)); // a repeat merges into the same label …
          extended.label = logAddExp(extended.label, beam.blank + lp(c)); // … unless a blank separates them
        } else {
          extended.label = logAddExp(extended.label, total(beam) + lp(c));
        }
      }
    }
    // Ties keep the order of insertion (stable sort): the shorter prefix, then lower label ids.
    beams = [...next.values()].sort((a, b) => total(b) - total(a)).slice(0, beamWidth);
  }
  const best = beams[0]!;
  return { labels: best.labels, score: total(best) };
}
