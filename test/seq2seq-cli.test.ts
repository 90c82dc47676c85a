// Sequence to sequence through the command line: train on a file of pairs, translate (greedy, beam,
// n-best, attention, JSON, standard input), eval, resume; bad input gets one line, the documented exit
// code (1 bad input or checkpoint, 2 usage) and nothing written.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import { loadTranslator } from '../src/tasks/seq2seq/model-file.js';
import { translate } from '../src/tasks/seq2seq/translate.js';
import { cli, jsonLines, scratchDir, tsv } from './cli-helpers.js';
import { reversals } from './task-data.js';

const { dir, file } = scratchDir('rnnkit-seq2seq-');

const trainFile = file('train.tsv', tsv(reversals(400, 1)));
const testFile = file('test.jsonl', jsonLines(reversals(40, 2).map(([source, target]) => ({ source, target }))));
const small = [
  '--hidden',
  '32',
  '--embed',
  '8',
  '--batch',
  '16',
  '--lr',
  '1e-2',
  '--lr-schedule',
  'constant',
  '--seed',
  '3',
  '--quiet',
];
const run = join(dir, 'run');

beforeAll(async () => {
  const result = await cli(
    'train',
    '--task',
    'seq2seq',
    trainFile,
    ...small,
    '--steps',
    '300',
    '--eval-every',
    '150',
    '--out',
    run,
  );
  expect(result.err).toBe('');
  expect(result.code).toBe(0);
}, 300_000);

describe('rnnkit train --task seq2seq FILE', () => {
  it('writes a checkpoint in the PyTorch module’s names with both vocabularies, and validates on WER/PER', () => {
    const model = decodeSafetensors(readFileSync(join(run, 'model.safetensors')));
    const names = model.tensors.map((t) => t.name);
    for (const name of [
      'source_embed.weight',
      'encoder.weight_ih_l0_reverse',
      'bridge.weight',
      'bridge.bias',
      'target_embed.weight',
      'decoder.weight_ih_l0',
      'attention.weight',
      'combine.weight',
      'head.weight',
      'head.bias',
    ])
      expect(names).toContain(name);
    const meta = JSON.parse(model.metadata['rnnkit']!) as Record<string, unknown>;
    expect(meta).toMatchObject({ task: 'seq2seq', cell: 'lstm', bidirectional: true, max_target_length: 5 });
    expect(meta['source_vocab']).toEqual({ unit: 'chars', specials: ['<unk>'], tokens: [...'abcdef'] });
    expect(meta['target_vocab']).toEqual({
      unit: 'words',
      specials: ['<pad>', '<s>', '</s>', '<unk>'],
      tokens: [...'abcdef'],
    });
    const rows = readFileSync(join(run, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    const validated = rows.filter((r) => r['val_loss'] !== undefined);
    expect(validated.map((r) => r['step'])).toEqual([150, 300]);
    expect(validated.at(-1)!['val_wer']).toBeLessThan(0.5);
    expect(validated.at(-1)!['val_per']).toBeLessThan(validated.at(-1)!['val_wer']! + 1e-9);
  });

  it('continues with --resume to the same weights as an uninterrupted run', async () => {
    const direct = join(dir, 'direct'),
      resumed = join(dir, 'resumed');
    expect((await cli('train', '--task', 'seq2seq', trainFile, ...small, '--steps', '40', '--out', direct)).code).toBe(
      0,
    );
    expect((await cli('train', '--task', 'seq2seq', trainFile, ...small, '--steps', '20', '--out', resumed)).code).toBe(
      0,
    );
    const again = await cli('train', '--resume', resumed, '--steps', '40');
    expect(again.err).toBe('');
    const weights = (d: string) => readFileSync(join(d, 'model.safetensors'));
    expect(Buffer.compare(weights(direct), weights(resumed))).toBe(0);
  });
});

describe('rnnkit translate', () => {
  it('prints one output per input, greedy or by beam search', async () => {
    const greedy = await cli('translate', run, 'abc', 'fed', 'a', '--beam', '1');
    expect(greedy.code).toBe(0);
    expect(greedy.out.trim().split('\n')).toEqual(['c b a', 'd e f', 'a']);
    const beam = await cli('translate', run, 'abc', 'fed', 'a');
    expect(beam.out.trim().split('\n')).toEqual(['c b a', 'd e f', 'a']);
  });

  it('--json --nbest gives the output, its score and the n-best list, best first; --attention its matrix', async () => {
    const { out, code } = await cli(
      'translate',
      run,
      'cab',
      'ee',
      '--json',
      '--beam',
      '4',
      '--nbest',
      '3',
      '--attention',
    );
    expect(code).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(2);
    const [first] = lines;
    expect(first).toMatchObject({ input: 'cab', output: 'b a c', unknown: [] });
    expect(first.nbest).toHaveLength(3);
    expect(first.nbest[0]).toEqual({ output: first.output, score: first.score });
    for (let i = 1; i < 3; i++) expect(first.nbest[i].score).toBeLessThanOrEqual(first.nbest[i - 1].score);
    expect(first.attention.source).toEqual(['c', 'a', 'b']);
    expect(first.attention.target).toEqual(['b', 'a', 'c', '</s>']);
    for (const row of first.attention.weights) expect(row.reduce((a: number, b: number) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it('reads the lines of --file when no input is given', async () => {
    const inputs = file('inputs.txt', 'ab\nfff\n');
    const { out, code } = await cli('translate', run, '--file', inputs, '--beam', '2');
    const asArguments = await cli('translate', run, 'ab', 'fff', '--beam', '2');
    expect(code).toBe(0);
    expect(out.trim().split('\n')).toHaveLength(2);
    expect(out).toEqual(asArguments.out);
  });

  it('reads a source token never seen in training as the unknown entry, and says so', async () => {
    const text = await cli('translate', run, 'axb');
    expect(text.code).toBe(0);
    expect(text.err).toBe('rnnkit: input 1: "x" never occurred in training; read as the unknown entry\n');
    const json = await cli('translate', run, 'axb', '--json');
    expect(JSON.parse(json.out).unknown).toEqual(['x']);
  });
});

it('a checkpoint that lowercases (CMUdict’s) reads HELLO as hello', async () => {
  const translator = loadTranslator(run, new ReferenceBackend());
  expect(translator.lowercase).toBe(false);
  const lowercasing = { ...translator, lowercase: true };
  const outputs = (list: { output: string; score: number }[]) => list.map(({ output, score }) => ({ output, score }));
  expect(outputs(translate(lowercasing, ['CAB', 'Fed']))).toEqual(outputs(translate(translator, ['cab', 'fed'])));
  expect(translate(translator, ['CAB'])[0]!.unknown).toEqual(['C', 'A', 'B']);
});

describe('rnnkit eval DIR FILE', () => {
  it('reports loss, WER, PER and the examples scored', async () => {
    const { out, code } = await cli('eval', run, testFile, '--json');
    expect(code).toBe(0);
    const result = JSON.parse(out);
    expect(Object.keys(result)).toEqual(expect.arrayContaining(['loss', 'wer', 'per', 'examples']));
    expect(result.examples).toBe(new Set(reversals(40, 2).map(([s]) => s)).size);
    expect(result.wer).toBeLessThan(0.5);
    expect(result.loss).toBeGreaterThan(0);
  });
});

describe('bad input: one line, the documented exit code, nothing written', () => {
  const refused = async (args: string[], code: number, message: RegExp, out?: string) => {
    const result = await cli(...args);
    expect(result.code).toBe(code);
    // Commander adds its usage hint after a bad option value.
    expect(
      result.err
        .trim()
        .split('\n')
        .filter((line) => line !== '(add --help for usage)'),
    ).toHaveLength(1);
    expect(result.err).toMatch(message);
    if (out) expect(existsSync(out)).toBe(false);
  };

  it('a line without a tab, an empty side', async () => {
    const noTab = file('no-tab.tsv', 'abc\tc b a\nabc c b a\n');
    await refused(
      ['train', '--task', 'seq2seq', noTab, '--out', join(dir, 'x1')],
      1,
      /no-tab.tsv:2: expected source<TAB>target, found no tab/,
      join(dir, 'x1'),
    );
    const empty = file('empty.tsv', 'abc\tc b a\nabc\t \n');
    await refused(
      ['train', '--task', 'seq2seq', empty, '--out', join(dir, 'x2')],
      1,
      /empty.tsv:2: the target is empty/,
      join(dir, 'x2'),
    );
    await refused(['eval', run, noTab], 1, /no-tab.tsv:2: expected source<TAB>target/);
    await refused(['translate', run, 'ab', ''], 1, /input 2 is empty/);
  });

  it('--beam 0, --nbest above the beam, options of another task', async () => {
    await refused(['translate', run, 'ab', '--beam', '0'], 2, /--beam/);
    await refused(['translate', run, 'ab', '--beam', '2', '--nbest', '3'], 2, /--nbest 3 is more than the beam holds/);
    await refused(
      ['train', '--task', 'seq2seq', trainFile, '--pool', 'max', '--out', join(dir, 'x3')],
      2,
      /--pool applies to --task classify/,
      join(dir, 'x3'),
    );
    await refused(
      ['train', '--task', 'classify', trainFile, '--target-tokens', 'chars', '--out', join(dir, 'x4')],
      2,
      /--target-tokens applies to --task seq2seq/,
      join(dir, 'x4'),
    );
  });

  it('--val-frac with the built-in CMUdict, whose split is fixed', async () => {
    await refused(
      ['train', '--task', 'seq2seq', '--val-frac', '0.2', '--out', join(dir, 'x5')],
      2,
      /^rnnkit: --val-frac applies to a FILE of pairs; the built-in cmudict has a fixed split/,
      join(dir, 'x5'),
    );
    await refused(
      ['train', '--task', 'seq2seq', '--val-frac', '0', '--out', join(dir, 'x6')],
      2,
      /--val-frac applies to a FILE of pairs/,
      join(dir, 'x6'),
    );
  });

  it('a checkpoint of another task', async () => {
    const lm = join(dir, 'lm');
    expect(
      (await cli('train', file('text.txt', 'hello world\n'.repeat(20)), '--steps', '2', '--quiet', '--out', lm)).code,
    ).toBe(0);
    await refused(['translate', lm, 'ab'], 1, /holds a model of task lm .*needs a model of task seq2seq/);
  });
});
