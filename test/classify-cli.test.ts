// Sequence classification through the command line: train, predict, eval, resume, and bad input (one clear
// line, the documented exit code, nothing written).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { loadClassifier } from '../src/tasks/classify/model-file.js';
import { classProbabilities, labelOf } from '../src/tasks/classify/predict.js';
import { train } from '../src/train/handle.js';
import { cli, jsonLines, scratchDir, tsv } from './cli-helpers.js';
import { makeRandom } from './helpers.js';

const { dir, file } = scratchDir('rnnkit-classify-');

/** "has-x" when the text holds an x: a task a recurrent model learns in a few hundred steps. */
function examples(n: number, seed: number): [string, string][] {
  const random = makeRandom(seed);
  return Array.from({ length: n }, () => {
    let text = Array.from({ length: 1 + Math.floor(random() * 30) }, () => 'abcdefgh'[Math.floor(random() * 8)]).join(
      '',
    );
    const positive = random() < 0.5;
    if (positive) {
      const at = Math.floor(random() * text.length);
      text = text.slice(0, at) + 'x' + text.slice(at);
    }
    return [positive ? 'has-x' : 'no-x', text];
  });
}

const train_ = file('train.tsv', tsv(examples(300, 1)));
const test = file('test.jsonl', jsonLines(examples(60, 2).map(([label, text]) => ({ text, label }))));
// A constant rate: a cosine schedule ends at the run's total, so a run stopped at 75 of 75 steps and then
// extended is not the run of 150 (the resume test below needs them equal).
const small = [
  '--hidden',
  '12',
  '--embed',
  '4',
  '--batch',
  '16',
  '--seed',
  '3',
  '--log-every',
  '10',
  '--lr-schedule',
  'constant',
  '--quiet',
];
const run = join(dir, 'run');

beforeAll(async () => {
  const result = await cli(
    'train',
    '--task',
    'classify',
    train_,
    ...small,
    '--steps',
    '150',
    '--eval-every',
    '50',
    '--max-len',
    '20',
    '--out',
    run,
  );
  expect(result.err).toBe('');
  expect(result.code).toBe(0);
}, 120_000);

describe('rnnkit train --task classify', () => {
  it('writes a run directory whose model file carries the task, labels, vocabulary, pooling and --max-len', () => {
    for (const name of [
      'run.json',
      'metrics.jsonl',
      'model.safetensors',
      'trainer.safetensors',
      'best/model.safetensors',
    ])
      expect(existsSync(join(run, name)), name).toBe(true);
    expect(JSON.parse(readFileSync(join(run, 'run.json'), 'utf8'))).toMatchObject({
      task: 'classify',
      pool: 'max',
      bidirectional: true,
      maxLen: 20,
    });
    const meta = JSON.parse(
      decodeSafetensors(readFileSync(join(run, 'model.safetensors'))).metadata['rnnkit']!,
    ) as Record<string, unknown>;
    expect(meta).toMatchObject({
      task: 'classify',
      pool: 'max',
      max_len: 20,
      bidirectional: true,
      labels: ['has-x', 'no-x'],
      cell: 'lstm',
    });
    expect(meta['vocab']).toEqual({ unknown: 0, chars: [...'abcdefghx'] });
    const rows = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const validated = rows.filter((r) => r['val_loss'] !== undefined);
    expect(validated.map((r) => r['step'])).toEqual([50, 100, 150]);
    for (const r of validated) expect(Object.keys(r)).toEqual(expect.arrayContaining(['val_accuracy', 'val_macro_f1']));
    expect(validated.at(-1)!['val_accuracy']).toBeGreaterThan(0.9);
  });

  it('says how much of an epoch is padding and how many inputs --max-len cut', async () => {
    const { out, code } = await cli(
      'train',
      '--task',
      'classify',
      train_,
      ...small,
      '--steps',
      '1',
      '--max-len',
      '20',
      '--out',
      join(dir, 'notes'),
    );
    expect(code).toBe(0);
    expect(out).toMatch(/rnnkit: \d+\.\d % of the steps computed in an epoch are padding/);
    expect(out).toMatch(/rnnkit: \d+ inputs were longer than --max-len 20 and were cut to their first 20 characters/);
  });

  it('continues an interrupted run exactly: 75 steps then --resume to 150 gives the same bytes', async () => {
    const split = join(dir, 'split');
    expect(
      (
        await cli(
          'train',
          '--task',
          'classify',
          train_,
          ...small,
          '--steps',
          '75',
          '--eval-every',
          '50',
          '--max-len',
          '20',
          '--out',
          split,
        )
      ).code,
    ).toBe(0);
    expect((await cli('train', '--resume', split, '--steps', '150', '--quiet')).code).toBe(0);
    for (const name of ['model.safetensors', 'best/model.safetensors']) {
      expect(Buffer.compare(readFileSync(join(split, name)), readFileSync(join(run, name))), name).toBe(0);
    }
  }, 60_000);
});

describe('the library', () => {
  it('train() with task classify starts from the classifier defaults, and the model classifies through the API', async () => {
    const out = join(dir, 'library');
    const run = train({ file: train_, out, config: { task: 'classify', hidden: 8, embed: 4, steps: 3, evalEvery: 3 } });
    const result = await run.result;
    expect(result.config).toMatchObject({
      task: 'classify',
      cell: 'lstm',
      bidirectional: true,
      pool: 'max',
      maxLen: 1000,
      optimizer: 'adam',
      hidden: 8,
    });
    const classifier = loadClassifier(out, new ReferenceBackend());
    const probs = classProbabilities(classifier, ['abx', 'abc']);
    expect(probs.map((p) => p.length)).toEqual([2, 2]);
    for (const p of probs) expect(p[0]! + p[1]!).toBeCloseTo(1, 6);
    expect(['has-x', 'no-x']).toContain(labelOf(classifier, probs[0]!));
  }, 60_000);
});

describe('rnnkit report on a classifier run', () => {
  it('plots it, names its best validation loss and accuracy, and has no sample', async () => {
    const { code, err } = await cli('report', run);
    expect([code, err]).toEqual([0, '']);
    const html = readFileSync(join(run, 'report.html'), 'utf8');
    expect(html).toContain('A classifier generates no text, so there is no sample.');
    expect(html).toMatch(/best validation[^]*?\d\.\d{3} nats, accuracy \d+\.\d\d % at step (50|100|150)/);
  });
});

describe('rnnkit predict and eval', () => {
  it('predicts a label and its probability per input; --json gives every probability', async () => {
    const { out, code } = await cli('predict', run, 'abcxdef', 'abcdefgh');
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.map((l) => l.split('\t')[0])).toEqual(['has-x', 'no-x']);
    for (const line of lines) expect(Number(line.split('\t')[1])).toBeGreaterThan(0.5);
    const json = (await cli('predict', run, '--json', 'xx')).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { label: string; probs: Record<string, number> });
    expect(json[0]!.label).toBe('has-x');
    expect(Object.keys(json[0]!.probs)).toEqual(['has-x', 'no-x']);
    expect(json[0]!.probs['has-x']! + json[0]!.probs['no-x']!).toBeCloseTo(1, 6);
  });

  it('batches inputs of different lengths and answers as one input at a time would', async () => {
    const texts = [
      'a',
      'abcdefghabcdefghxabcdefgh',
      'hgx',
      'hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh',
      'zzz unknown characters x',
    ];
    const together = (await cli('predict', run, '--json', ...texts)).out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { probs: Record<string, number> });
    for (const [i, text] of texts.entries()) {
      const alone = JSON.parse((await cli('predict', run, '--json', text)).out) as { probs: Record<string, number> };
      for (const label of ['has-x', 'no-x']) expect(together[i]!.probs[label]).toBeCloseTo(alone.probs[label]!, 6);
    }
  });

  it('reads inputs from --file and from standard input', async () => {
    const inputs = file('inputs.txt', 'abx\nabc\n');
    expect(
      (await cli('predict', run, '--file', inputs)).out
        .split('\n')
        .map((l) => l.split('\t')[0])
        .slice(0, 2),
    ).toEqual(['has-x', 'no-x']);
    const piped = spawnSync(process.execPath, ['bin/rnnkit.js', 'predict', run], {
      input: 'abx\nabc\n',
      encoding: 'utf8',
    });
    expect(piped.stderr).toBe('');
    expect(
      piped.stdout
        .split('\n')
        .map((l) => l.split('\t')[0])
        .slice(0, 2),
    ).toEqual(['has-x', 'no-x']);
  });

  it('evaluates labelled examples: loss, accuracy, macro-F1, per-class figures and the confusion matrix', async () => {
    const text = await cli('eval', run, test);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^loss \d\.\d{4} {2}accuracy \d+\.\d\d % {2}macro-F1 \d\.\d{4} {2}\(60 examples\)\n/);
    expect(text.out).toContain('confusion matrix (rows: true class, columns: predicted)');
    const json = JSON.parse((await cli('eval', run, test, '--json')).out) as {
      loss: number;
      accuracy: number;
      macro_f1: number;
      examples: number;
      confusion: number[][];
    };
    expect(json.examples).toBe(60);
    expect(json.confusion.flat().reduce((a, b) => a + b, 0)).toBe(60);
    expect(json.accuracy).toBeCloseTo((json.confusion[0]![0]! + json.confusion[1]![1]!) / 60, 12);
    expect(json.accuracy).toBeGreaterThan(0.85);
  });
});

describe('bad input: one line, the documented exit code, nothing written', () => {
  const refused = async (code: number, message: RegExp | string, ...args: string[]): Promise<void> => {
    const out = join(dir, `refused-${Math.random().toString(36).slice(2)}`);
    const result = await cli(...args, ...(args[0] === 'train' ? ['--out', out] : []));
    expect(result.code, result.err).toBe(code);
    // One line (commander's usage errors add a hint line); never a stack trace.
    expect(result.err.trim().split('\n').length).toBeLessThanOrEqual(code === 2 ? 2 : 1);
    expect(result.err).toMatch(message);
    expect(existsSync(out)).toBe(false);
  };

  it.each([
    ['an empty file', file('empty.tsv', ''), /empty\.tsv: the file is empty/],
    [
      'a line without a tab',
      file('notab.tsv', 'a\tb\nno tab here\n'),
      /notab\.tsv:2: expected label<TAB>text, found no tab/,
    ],
    ['a line without text', file('notext.tsv', 'a\tb\nb\t\n'), /notext\.tsv:2: the text is empty/],
    [
      'a malformed JSON line',
      file('bad.jsonl', '{"text":"a","label":"x"}\n{"text": oops}\n'),
      /bad\.jsonl:2: not valid JSON/,
    ],
    ['a single class', file('one.tsv', 'a\tb\na\tc\n'), /found only 1 class \("a"\); classification needs at least 2/],
  ])('train refuses %s (exit 1)', async (_what, path, message) => {
    await refused(1, message, 'train', '--task', 'classify', path, '--steps', '1');
  });

  it.each([
    ['--max-len 0', ['--max-len', '0'], /--max-len/],
    ['--seq, which a classifier does not use', ['--seq', '10'], /--seq applies to --task lm, not --task classify/],
  ])('train --task classify refuses %s (exit 2)', async (_what, extra, message) => {
    await refused(2, message, 'train', '--task', 'classify', train_, ...extra);
  });

  it('train refuses inputs too long for memory before allocating, pointing at --max-len (exit 2)', async () => {
    const long = file('long.tsv', `a\t${'x'.repeat(3_000_000)}\nb\tyy\n`);
    await refused(
      2,
      /the longest input has 3,000,000 characters: .* needs \d+\.\d GiB; the limit is 4 GiB .*; cut the inputs with --max-len or lower --batch/,
      'train',
      '--task',
      'classify',
      long,
      '--max-len',
      '3000000',
      '--val-frac',
      '0',
    );
  });

  it('train --task lm refuses classifier options (exit 2)', async () => {
    await refused(2, /--pool applies to --task classify, not --task lm/, 'train', train_, '--pool', 'mean');
    await refused(
      2,
      /--bidirectional applies to --task classify or --task seq2seq or --task ctc, not --task lm/,
      'train',
      train_,
      '--bidirectional',
    );
  });

  it('eval refuses a label the model was not trained on, naming file, line and label (exit 1)', async () => {
    await refused(
      1,
      /unseen\.tsv:2: label "maybe-x" does not occur in the training data/,
      'eval',
      run,
      file('unseen.tsv', 'has-x\tabx\nmaybe-x\tab\n'),
    );
  });

  it('commands refuse a checkpoint of the other task (exit 1)', async () => {
    const lm = join(dir, 'lm');
    expect(
      (
        await cli(
          'train',
          file('text.txt', 'hello world, hello rnn. '.repeat(20)),
          '--steps',
          '2',
          '--hidden',
          '4',
          '--quiet',
          '--sample-every',
          '0',
          '--out',
          lm,
        )
      ).code,
    ).toBe(0);
    await refused(
      1,
      /holds a model of task lm \(trained with --task lm\); this command needs a model of task classify/,
      'predict',
      lm,
      'abc',
    );
    await refused(
      1,
      /holds a model of task classify \(trained with --task classify\); this command needs a model of task lm/,
      'sample',
      run,
    );
  });
});
