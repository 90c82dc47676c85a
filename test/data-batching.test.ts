import { describe, expect, it } from 'vitest';
import { Batcher } from '../src/data/batcher.js';
import { Vocabulary } from '../src/data/vocab.js';
import { RnnkitError } from '../src/errors.js';

describe('Vocabulary', () => {
  it('is the sorted set of code points, astral characters included', () => {
    const vocab = Vocabulary.fromText('ba😀a\n');
    expect(vocab.chars).toEqual(['\n', 'a', 'b', '😀']);
    expect(Array.from(vocab.encode('a😀b'))).toEqual([1, 3, 2]);
    expect(vocab.decode([3, 1])).toBe('😀a');
  });

  it('refuses an empty text and a text of one distinct character', () => {
    expect(() => Vocabulary.fromText('')).toThrow('the text is empty');
    expect(() => Vocabulary.fromText('aaaa')).toThrow('only 1 distinct character');
  });

  it('names a character outside the vocabulary and its position', () => {
    const vocab = Vocabulary.fromText('abc');
    expect(() => vocab.encode('abz', 'the prime text')).toThrow(
      /the prime text has character "z" \(U\+007A\) at position 2/,
    );
  });

  it('refuses malformed vocabularies', () => {
    expect(() => new Vocabulary(['a', 'a'])).toThrow(/appears twice/);
    expect(() => new Vocabulary(['a', 'bc'])).toThrow(/not exactly one code point/);
    expect(() => new Vocabulary(['a', ''])).toThrow(RnnkitError);
  });
});

describe('Batcher (char-rnn batching)', () => {
  const tokens = Int32Array.from({ length: 23 }, (_, i) => i);

  it('with B = 1 the first step trains on the first T+1 characters', () => {
    const batcher = new Batcher(tokens, 1, 5);
    const ids = new Int32Array(5),
      targets = new Int32Array(5);
    expect(batcher.next(ids, targets)).toBe(true);
    expect(Array.from(ids)).toEqual([0, 1, 2, 3, 4]);
    expect(Array.from(targets)).toEqual([1, 2, 3, 4, 5]);
    expect(batcher.next(ids, targets)).toBe(false);
    expect(Array.from(ids)).toEqual([5, 6, 7, 8, 9]);
  });

  it('cuts B contiguous streams, lays steps out time-major, and wraps with a state reset', () => {
    // 23 tokens, B = 2: streams of 11 ([0..10], [11..21]); T = 3 gives floor(10/3) = 3 steps an epoch.
    const batcher = new Batcher(tokens, 2, 3);
    expect(batcher.streamLength).toBe(11);
    expect(batcher.stepsPerEpoch).toBe(3);
    const ids = new Int32Array(6),
      targets = new Int32Array(6);
    const resets: boolean[] = [];
    const seen: number[][] = [];
    for (let step = 0; step < 4; step++) {
      resets.push(batcher.next(ids, targets));
      seen.push(Array.from(ids));
    }
    // [t][b]: stream 0 then stream 1 at each time step
    expect(seen[0]).toEqual([0, 11, 1, 12, 2, 13]);
    expect(Array.from(targets)).toEqual([1, 12, 2, 13, 3, 14]);
    expect(seen[2]).toEqual([6, 17, 7, 18, 8, 19]);
    expect(seen[3]).toEqual(seen[0]);
    expect(resets).toEqual([true, false, false, true]);
    expect(batcher.cursor).toEqual({ epoch: 1, position: 1 });
  });

  it('refuses a text too short for one step, naming the sizes', () => {
    expect(() => new Batcher(tokens, 4, 5)).toThrow(
      /23 characters: too short for --batch 4 × --seq 5; each of the 4 streams needs at least 6 characters/,
    );
  });
});
