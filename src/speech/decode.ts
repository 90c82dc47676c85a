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

/** A character language model's view of one prefix: log P(label c | prefix) for every recogniser label c
 *  (index 0, the blank, unused) and log P(end of text | prefix). */
export interface LmContext {
  scores: Float64Array;
  end: number;
}

/** A language model for shallow fusion, in the recogniser's label ids. */
export interface FusionModel {
  /** The context of the empty prefix. */
  start(): LmContext;
  /** The contexts after appending labels[i] to the prefix of parents[i] (one batched step). */
  advance(parents: readonly LmContext[], labels: readonly number[]): LmContext[];
}

/** Shallow fusion: log P_ctc(prefix) + weight · log P_lm(prefix) ranks the prefixes. */
export interface Fusion {
  model: FusionModel;
  weight: number;
}

interface Beam {
  labels: number[];
  /** log P(prefix, the last frame a blank), log P(prefix, the last frame its last label). */
  blank: number;
  label: number;
  /** weight · log P_lm(labels) (0 without a language model). */
  lm: number;
  /** The language model's context after `labels` (computed once the prefix survives a pruning). */
  context: LmContext | null;
  parent: Beam | null;
}

const total = (b: Beam): number => logAddExp(b.blank, b.label);
const ranked = (b: Beam): number => total(b) + b.lm;

/** Computes the missing contexts of `beams` in one batched step of the language model. */
function fillContexts(beams: Beam[], fusion: Fusion): void {
  const missing = beams.filter((b) => b.context === null);
  if (missing.length === 0) return;
  const contexts = fusion.model.advance(
    missing.map((b) => b.parent!.context!),
    missing.map((b) => b.labels[b.labels.length - 1]!),
  );
  missing.forEach((b, i) => (b.context = contexts[i]!));
}

/** Prefix beam search with `beamWidth` prefixes kept after each frame; with `fusion`, a language model's
 *  weighted log-probability of each prefix (and of the end of the text, at the end) joins its score.
 *  Symbols whose log-probability at a frame is below `minLogProb` are not tried there (-Infinity: exact;
 *  a cutoff such as ln 1e-4 makes the search on a trained, peaky model many times faster). */
export function beamDecode(
  logProbs: Float32Array,
  T: number,
  C: number,
  beamWidth: number,
  fusion?: Fusion,
  minLogProb = -Infinity,
): Decoded {
  if (!(Number.isInteger(beamWidth) && beamWidth >= 1))
    throw new RangeError(`beam width must be a positive integer, not ${beamWidth}`);
  const weight = fusion?.weight ?? 0;
  if (!(weight >= 0 && Number.isFinite(weight)))
    throw new RangeError(`language model weight must be a finite number >= 0, not ${weight}`);
  const lmOf = (beam: Beam, c: number): number => (weight === 0 ? 0 : beam.lm + weight * beam.context!.scores[c]!);
  let beams: Beam[] = [
    { labels: [], blank: 0, label: -Infinity, lm: 0, context: fusion?.model.start() ?? null, parent: null },
  ];
  for (let t = 0; t < T; t++) {
    const next = new Map<string, Beam>();
    const entry = (labels: number[], parent: Beam | null, lm: number): Beam => {
      const key = labels.join(',');
      let beam = next.get(key);
      if (!beam) next.set(key, (beam = { labels, blank: -Infinity, label: -Infinity, lm, context: null, parent }));
      return beam;
    };
    const lp = (c: number): number => logProbs[t * C + c]!;
    for (const beam of beams) {
      const last = beam.labels.length > 0 ? beam.labels[beam.labels.length - 1]! : -1;
      const stay = entry(beam.labels, beam.parent, beam.lm);
      stay.context ??= beam.context;
      stay.blank = logAddExp(stay.blank, total(beam) + lp(0));
      for (let c = 1; c < C; c++) {
        if (lp(c) < minLogProb) continue;
        const extended = entry([...beam.labels, c], beam, lmOf(beam, c));
        if (c === last) {
          stay.label = logAddExp(stay.label, beam.label + lp(c)); // a repeat merges into the same label …
          extended.label = logAddExp(extended.label, beam.blank + lp(c)); // … unless a blank separates them
        } else {
          extended.label = logAddExp(extended.label, total(beam) + lp(c));
        }
      }
    }
    // Ties keep the order of insertion (stable sort): the shorter prefix, then lower label ids.
    beams = [...next.values()].sort((a, b) => ranked(b) - ranked(a)).slice(0, beamWidth);
    if (fusion && weight > 0) fillContexts(beams, fusion);
  }
  const final = (b: Beam): number => ranked(b) + (weight === 0 ? 0 : weight * b.context!.end);
  const best = beams.reduce((a, b) => (final(b) > final(a) ? b : a));
  return { labels: best.labels, score: final(best) };
}
