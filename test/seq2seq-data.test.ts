// The sequence-to-sequence data layer: pair files, tokens, vocabularies, the CMU dictionary and the scores.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { cmudictSplit, fnv1a, loadCmudict, parseCmudict, splitOf } from '../src/tasks/seq2seq/cmudict.js';
import { editDistance, scoreSequences } from '../src/tasks/seq2seq/metrics.js';
import { groupBySource, readPairsFile } from '../src/tasks/seq2seq/pairs.js';
import { detokenize, tokenize } from '../src/tasks/seq2seq/tokens.js';
import { TARGET_END, TARGET_PAD, TARGET_START, TARGET_UNKNOWN, TokenVocabulary } from '../src/tasks/seq2seq/vocab.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-seq2seq-'));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('pair files', () => {
  test('TSV and JSON Lines give the same pairs; blank lines, CRLF and a BOM are accepted', () => {
    const tsv = readPairsFile(file('a.tsv', '\ufeffread\tR EH D\r\n\nread\tR IY D\ncat\tK AE T\n'));
    const jsonl = readPairsFile(
      file(
        'a.jsonl',
        '{"source":"read","target":"R EH D"}\n{"source":"read","target":"R IY D"}\n\n{"source":"cat","target":"K AE T","x":1}\n',
      ),
    );
    const strip = (d: typeof tsv) => d.pairs.map(({ source, target }) => [source, target]);
    expect(strip(tsv)).toEqual([
      ['read', 'R EH D'],
      ['read', 'R IY D'],
      ['cat', 'K AE T'],
    ]);
    expect(strip(jsonl)).toEqual(strip(tsv));
    expect(tsv.pairs.map((p) => p.line)).toEqual([1, 3, 4]);
    expect([...groupBySource(tsv.pairs)]).toEqual([
      ['read', ['R EH D', 'R IY D']],
      ['cat', ['K AE T']],
    ]);
  });

  test.each([
    ['no tab', 'b.tsv', 'ok\tfine\nno tab here\n', /b\.tsv:2: expected source<TAB>target, found no tab/],
    ['empty source', 'c.tsv', '\tK AE T\n', /c\.tsv:1: the source is empty/],
    ['empty target', 'd.tsv', 'cat\t  \n', /d\.tsv:1: the target is empty/],
    ['missing field', 'e.jsonl', '{"source":"cat"}\n', /e\.jsonl:1: no "target" field/],
    [
      'not an object',
      'f.jsonl',
      '["cat"]\n',
      /f\.jsonl:1: expected a JSON object \{"source": \.\.\., "target": \.\.\.\}, found an array/,
    ],
    ['only blank lines', 'g.tsv', '\n \n', /g\.tsv: no pairs/],
    ['empty file', 'h.tsv', '', /h\.tsv: the file is empty/],
  ])('%s: one line naming file and line', (_, name, text, message) => {
    expect(() => readPairsFile(file(name, text))).toThrow(message);
  });
});

describe('tokens and vocabularies', () => {
  test('characters and words', () => {
    expect(tokenize('héllo', 'chars')).toEqual(['h', 'é', 'l', 'l', 'o']);
    expect(tokenize('  HH  AH\tL OW ', 'words')).toEqual(['HH', 'AH', 'L', 'OW']);
    expect(detokenize(['HH', 'AH'], 'words')).toBe('HH AH');
    expect(detokenize(['a', 'b'], 'chars')).toBe('ab');
  });

  test('the target side has padding, start, end and unknown entries before its sorted tokens', () => {
    const vocab = TokenVocabulary.fromTexts(['K AE T', 'B AE T'], 'words', 'target');
    expect([TARGET_PAD, TARGET_START, TARGET_END, TARGET_UNKNOWN].map((id) => vocab.token(id))).toEqual([
      '<pad>',
      '<s>',
      '</s>',
      '<unk>',
    ]);
    expect(vocab.tokens).toEqual(['AE', 'B', 'K', 'T']);
    expect([...vocab.encode('K AE ZH')]).toEqual([6, 4, TARGET_UNKNOWN]);
    expect(vocab.size).toBe(8);
  });

  test('the source side maps an unseen token to id 0, and round-trips through JSON', () => {
    const vocab = TokenVocabulary.fromTexts(['cab', 'bad'], 'chars', 'source');
    expect([...vocab.encode('dax')]).toEqual([4, 1, 0]);
    const back = TokenVocabulary.fromJSON(JSON.parse(JSON.stringify(vocab)), 'source');
    expect(back.toJSON()).toEqual(vocab.toJSON());
    expect(() => vocab.token(5)).toThrow(/token id 5 is outside the vocabulary \(0 to 4\)/);
  });

  test.each([
    [null, /must be an object/],
    [{ unit: 'bytes', specials: ['<unk>'], tokens: [] }, /unit must be one of chars, words/],
    [{ unit: 'chars', specials: ['<pad>'], tokens: [] }, /specials must be \["<unk>"\]/],
    [{ unit: 'chars', specials: ['<unk>'], tokens: ['b', 'a'] }, /token 1 \("a"\) is not in ascending order/],
    [{ unit: 'chars', specials: ['<unk>'], tokens: [''] }, /token 0 is not a non-empty string/],
  ])('a bad stored vocabulary is refused: %j', (json, message) => {
    expect(() => TokenVocabulary.fromJSON(json, 'source')).toThrow(message);
  });
});

describe('the CMU dictionary', () => {
  test('stress digits removed, alternatives kept together, punctuation entries and empty lines dropped', () => {
    const text = [
      'READ  R IY1 D',
      'READ(1)  R EH1 D',
      "AARON'S(1)  ",
      "O'HARA  OW0 HH AA1 R AH0",
      '!EXCLAMATION-POINT  EH2 K S',
      'A.  EY1',
      'A42128  EY1 F',
      'REREAD(2)  R IY0 R IY1 D',
    ].join('\n');
    expect(parseCmudict(text)).toEqual([
      { word: 'read', pronunciations: ['R IY D', 'R EH D'] },
      { word: "o'hara", pronunciations: ['OW HH AA R AH'] },
      { word: 'reread', pronunciations: ['R IY R IY D'] },
    ]);
  });

  test('the split is FNV-1a of the word modulo 100 (checked against a Python computation)', () => {
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
    expect(['hello', 'world', 'read', 'aardvark', 'zebra', 'pronunciation'].map(splitOf)).toEqual([
      'train',
      'train',
      'train',
      'train',
      'test',
      'train',
    ]);
  });

  test('the installed dictionary: 123,874 words, 39 phonemes, a 90/5/5 split that keeps alternatives together', () => {
    const entries = loadCmudict();
    expect(entries.length).toBe(123874);
    const phonemes = new Set(entries.flatMap((e) => e.pronunciations.flatMap((p) => p.split(' '))));
    expect(phonemes.size).toBe(39);
    const words = (split: 'train' | 'validation' | 'test') =>
      new Set(cmudictSplit(entries, split).pairs.map((p) => p.source));
    const [train, validation, test] = [words('train'), words('validation'), words('test')];
    expect([train.size, validation.size, test.size]).toEqual([111455, 6266, 6153]);
    for (const word of test) expect(train.has(word) || validation.has(word)).toBe(false);
  });
});

describe('scores', () => {
  test('edit distance', () => {
    expect(editDistance([...'kitten'], [...'sitting'])).toBe(3);
    expect(editDistance([], ['a', 'b'])).toBe(2);
    expect(editDistance(['a'], ['a'])).toBe(0);
    expect(editDistance([...'flaw'], [...'lawn'])).toBe(2);
  });

  test('an output is right when it equals any reference; the phoneme rate uses the nearest one', () => {
    const scores = scoreSequences(
      [
        ['R', 'EH', 'D'],
        ['K', 'AE'],
        ['D', 'AO', 'G'],
      ],
      [
        [
          ['R', 'IY', 'D'],
          ['R', 'EH', 'D'],
        ],
        [['K', 'AE', 'T']],
        [['D', 'AO', 'G']],
      ],
    );
    expect(scores).toEqual({ wer: 1 / 3, per: 1 / 9, examples: 3 });
    expect(() => scoreSequences([['a']], [])).toThrow(/1 outputs but 0 reference lists/);
  });
});
