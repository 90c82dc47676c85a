// Error rates and the output alphabet of the recogniser (src/speech/metrics.ts, src/speech/alphabet.ts).
import { describe, expect, it } from 'vitest';
import { Alphabet } from '../src/speech/alphabet.js';
import { editDistance, errorRates } from '../src/speech/metrics.js';
import { RnnkitError } from '../src/errors.js';

describe('error rates', () => {
  it('edit distance counts substitutions, insertions and deletions', () => {
    expect(editDistance([...'kitten'], [...'sitting'])).toBe(3);
    expect(editDistance([], [...'abc'])).toBe(3);
    expect(editDistance([...'abc'], [])).toBe(3);
    expect(editDistance(['one', 'two'], ['one', 'two'])).toBe(0);
  });

  it('CER and WER are edits summed over utterances divided by reference lengths summed', () => {
    const rates = errorRates([
      { reference: 'one two three', hypothesis: 'one too three' }, // 1 word, 1 char (w→o)
      { reference: 'oh five', hypothesis: 'oh five nine' }, // 1 word inserted, 5 chars (" nine")
    ]);
    expect(rates.utterances).toBe(2);
    expect(rates.wer).toBeCloseTo(2 / 5, 12);
    expect(rates.cer).toBeCloseTo(6 / (13 + 7), 12);
    expect(errorRates([])).toEqual({ cer: 0, wer: 0, utterances: 0 });
  });
});

describe('the alphabet', () => {
  it('blank is 0, characters follow in code-point order, and texts round-trip', () => {
    const alphabet = Alphabet.of(['one two', 'oh nine']);
    expect(alphabet.symbols).toEqual([' ', 'e', 'h', 'i', 'n', 'o', 't', 'w']);
    expect(alphabet.size).toBe(9);
    const ids = alphabet.encode('two one', 'x');
    expect(ids[0]).toBe(7);
    expect(alphabet.decode(ids)).toBe('two one');
  });
  it('a character outside the alphabet is refused naming it and where', () => {
    expect(() => Alphabet.of(['one']).encode('onz', 'a.wav')).toThrow(RnnkitError);
    expect(() => Alphabet.of(['one']).encode('onz', 'a.wav')).toThrow(
      'a.wav: the character "z" is not in the model\'s alphabet ("eno")',
    );
  });
});
