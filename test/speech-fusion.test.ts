// Shallow fusion of prefix beam search with a character language model (src/speech/decode.ts,
// lm-fusion.ts), and the Viterbi alignment behind word timings (src/speech/align.ts).
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Vocabulary } from '../src/data/vocab.js';
import { validateConfig } from '../src/model/config.js';
import { LanguageModelStream } from '../src/model/lm-stream.js';
import { Model } from '../src/model/model.js';
import { viterbiAlign, wordTimings } from '../src/speech/align.js';
import { Alphabet } from '../src/speech/alphabet.js';
import { type FusionModel, type LmContext, beamDecode, collapse } from '../src/speech/decode.js';
import { LanguageModelFusion } from '../src/speech/lm-fusion.js';
import { makeRandom } from './helpers.js';

const logOf = (rows: number[][]): Float32Array => Float32Array.from(rows.flat().map(Math.log));

function randomRows(random: () => number, T: number, C: number): number[][] {
  return Array.from({ length: T }, () => {
    const raw = Array.from({ length: C }, () => random() ** 3 + 1e-3);
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((v) => v / sum);
  });
}

/** A character LM over `chars` (with a newline) with random weights. */
function randomLm(chars: string, seed: number, cell: 'lstm' | 'gru' = 'lstm'): { model: Model; vocab: Vocabulary } {
  const vocab = Vocabulary.fromText(`${chars}\n`);
  const model = new Model(
    new ReferenceBackend(),
    validateConfig({ cell, nonlinearity: 'tanh', hidden: 8, layers: 2, embed: 4, vocabSize: vocab.size }),
  );
  model.initialize(seed, 'pytorch');
  // Larger weights than the initialisation's, so that the model's preferences are far from uniform.
  const w = model.params.all.data;
  for (let i = 0; i < w.length; i++) w[i] = w[i]! * 6;
  return { model, vocab };
}

/** A bigram model in label ids: `table[prev][next]` probabilities (prev 0 = the start), `end[prev]`. */
function bigram(table: number[][], end: number[]): FusionModel {
  type Ctx = LmContext & { last: number };
  const ctx = (last: number): Ctx => ({
    scores: Float64Array.from(table[last]!, Math.log),
    end: Math.log(end[last]!),
    last,
  });
  return {
    start: () => ctx(0),
    advance: (parents, labels) => labels.map((l) => ctx(l)),
  };
}

describe('shallow fusion', () => {
  it('weight 0 gives exactly the result without a language model', () => {
    const random = makeRandom(3);
    const alphabet = new Alphabet(['a', 'b', ' ']);
    const { model, vocab } = randomLm('ab ', 1);
    const fusion = new LanguageModelFusion(model, vocab, alphabet, 4);
    for (let i = 0; i < 10; i++) {
      const T = 4 + (i % 5);
      const lp = logOf(randomRows(random, T, alphabet.size));
      expect(beamDecode(lp, T, alphabet.size, 4, { model: fusion, weight: 0 })).toEqual(
        beamDecode(lp, T, alphabet.size, 4),
      );
    }
  });

  it('a language model that prefers another next character turns an ambiguous frame its way', () => {
    // Labels 1 'a', 2 'b', 3 'c'. Frame 2 is 'b' (0.5) or 'c' (0.4): acoustics alone say "ab".
    const rows = [
      [0.05, 0.9, 0.03, 0.02],
      [0.1, 0.0, 0.5, 0.4],
    ];
    const lp = logOf(rows.map((r) => r.map((p) => Math.max(p, 1e-6))));
    const lm = bigram(
      [
        [0, 0.8, 0.1, 0.1], // start → a
        [0, 0.1, 0.05, 0.85], // after a: c is much likelier than b
        [0, 0.3, 0.3, 0.4],
        [0, 0.3, 0.3, 0.4],
      ],
      [0.1, 0.1, 0.5, 0.5],
    );
    expect(beamDecode(lp, 2, 4, 8).labels).toEqual([1, 2]);
    expect(beamDecode(lp, 2, 4, 8, { model: lm, weight: 0 }).labels).toEqual([1, 2]);
    const fused = beamDecode(lp, 2, 4, 8, { model: lm, weight: 1 });
    expect(fused.labels).toEqual([1, 3]);
    // Its score: log P_ctc("ac") + log P_lm("ac", end) — computed by hand.
    const ctc = Math.log(0.9 * 0.4);
    expect(fused.score).toBeCloseTo(ctc + Math.log(0.8 * 0.85 * 0.5), 5);
  });

  it("the rnnkit LM's batched contexts equal the model fed each prefix alone", () => {
    const alphabet = new Alphabet(['a', 'b', ' ']);
    for (const cell of ['lstm', 'gru'] as const) {
      const { model, vocab } = randomLm('ab ', 2, cell);
      const fusion = new LanguageModelFusion(model, vocab, alphabet, 3);
      const prefixes = [[1], [2, 3], [1, 1, 2], [3, 2, 1, 1]];
      // Grow all prefixes together, one batched step per length (5 parents over a batch of 3: two steps).
      let contexts = prefixes.map(() => fusion.start());
      for (let k = 0; k < 4; k++) {
        const live = prefixes.map((p, i) => [p, i] as const).filter(([p]) => p.length > k);
        const next = fusion.advance(
          live.map(([, i]) => contexts[i]!),
          live.map(([p]) => p[k]!),
        );
        live.forEach(([, i], j) => (contexts[i] = next[j]!));
      }
      const stream = new LanguageModelStream(model);
      prefixes.forEach((p, i) => {
        const text = '\n' + alphabet.decode(p);
        const { logits } = stream.feed(vocab.encode(text), stream.createState());
        const norm = Math.log(Array.from(logits).reduce((s, v) => s + Math.exp(v), 0));
        alphabet.symbols.forEach((ch, c) =>
          expect(contexts[i]!.scores[c + 1]).toBeCloseTo(logits[vocab.chars.indexOf(ch)]! - norm, 5),
        );
        expect(contexts[i]!.end).toBeCloseTo(logits[vocab.chars.indexOf('\n')]! - norm, 5);
      });
    }
  });

  it('a cutoff skips unlikely symbols: the same labels as the exact search on peaky distributions, none kept below it', () => {
    const random = makeRandom(9);
    for (let i = 0; i < 20; i++) {
      const T = 6,
        C = 4;
      // Peaky rows: one symbol holds 0.97 of each frame's mass.
      const rows = randomRows(random, T, C).map((row) => {
        const top = Math.floor(random() * C);
        return row.map((p, c) => (c === top ? 0.97 : 0) + 0.03 * p);
      });
      const lp = logOf(rows);
      expect(beamDecode(lp, T, C, 4, undefined, Math.log(1e-2)).labels).toEqual(beamDecode(lp, T, C, 4).labels);
    }
    // A label only reachable through symbols below the cutoff is never produced.
    const lp = logOf([
      [0.99, 0.005, 0.005],
      [0.99, 0.005, 0.005],
    ]);
    expect(beamDecode(lp, 2, 3, 8, undefined, Math.log(0.01)).labels).toEqual([]);
  });

  it('refuses a language model without a character the recogniser writes, or without a newline', () => {
    const { model, vocab } = randomLm('ab', 1);
    expect(() => new LanguageModelFusion(model, vocab, new Alphabet(['a', 'b', 'z']), 2)).toThrow(
      /the language model's vocabulary has no "z", which the recogniser writes/,
    );
    const noNewline = Vocabulary.fromText('abz');
    const m = new Model(
      new ReferenceBackend(),
      validateConfig({ cell: 'gru', nonlinearity: 'tanh', hidden: 4, layers: 1, embed: 0, vocabSize: 3 }),
    );
    expect(() => new LanguageModelFusion(m, noNewline, new Alphabet(['a', 'b']), 2)).toThrow(
      /has no "\\n", which ends each transcript/,
    );
  });
});

describe('Viterbi alignment', () => {
  /** The best path (by brute force over all C^T paths) among those that collapse to `labels`. */
  function bestPath(rows: number[][], labels: number[]): number[] | null {
    const T = rows.length,
      C = rows[0]!.length;
    let best: number[] | null = null,
      bestP = -1;
    for (let index = 0; index < C ** T; index++) {
      const path = Array.from({ length: T }, (_, t) => Math.floor(index / C ** t) % C);
      if (collapse(path).join(',') !== labels.join(',')) continue;
      const p = path.reduce((acc, c, t) => acc * rows[t]![c]!, 1);
      if (p > bestP) [best, bestP] = [path, p];
    }
    return best;
  }

  it('finds the most probable path of the labels (exhaustive check), null when none fits', () => {
    const random = makeRandom(5);
    for (const labels of [[1], [1, 2], [1, 1], [2, 1, 2], []]) {
      const rows = randomRows(random, 5, 3);
      const emitted = viterbiAlign(logOf(rows), 5, 3, labels);
      const path = bestPath(rows, labels)!;
      // emitted[t] is the label index of frame t (−1 blank); the path's symbols follow from it.
      expect(Array.from(emitted!, (u) => (u < 0 ? 0 : labels[u]!))).toEqual(path);
    }
    expect(viterbiAlign(logOf(randomRows(random, 2, 3)), 2, 3, [1, 1])).toBeNull(); // needs 3 frames
  });

  it('word timings span the frames their characters were emitted in', () => {
    // "ab c": frames 0-1 a, 2 blank, 3 b, 4 space, 5 blank, 6-7 c.
    const emitted = Int32Array.from([0, 0, -1, 1, 2, -1, 3, 3]);
    expect(wordTimings('ab c', emitted, 0.03)).toEqual([
      { word: 'ab', start: 0, end: expect.closeTo(0.12, 9) },
      { word: 'c', start: expect.closeTo(0.18, 9), end: expect.closeTo(0.24, 9) },
    ]);
  });
});
