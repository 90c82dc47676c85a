// `rnnkit export DIR --pytorch OUT_DIR`: a short rnnkit run continued by the exported train_ddp.py on two
// gloo ranks (--nproc 2, CPU) ends where `rnnkit train --resume` ends — parameters, optimizer state,
// carried hidden state — and the result is an rnnkit run again (eval agrees with PyTorch's own loss, resume
// works). Needs /usr/bin/python3 with PyTorch (Debian's python3-torch, which .ci/run installs); without it
// those checks are skipped here, loudly, and fail under CI. The bad-input checks need no PyTorch.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRAINER_FILE } from '../src/io/rundir.js';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { cli } from './cli-helpers.js';
import { expectClose, makeRandom } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch)
  console.warn(
    'export-pytorch: /usr/bin/python3 with PyTorch not found; the PyTorch DDP continuation checks are SKIPPED (install python3-torch)',
  );
if (!hasTorch && process.env['CI'])
  throw new Error('CI must have /usr/bin/python3 with PyTorch (python3-torch): .ci/run installs it');

/** ~330 code points of words, with multi-byte and astral characters (UTF-16 fingerprint, code-point ids). */
function corpus(seed: number): string {
  const random = makeRandom(seed);
  const words = ['the', 'whale', 'sea', 'ship', 'ahab', 'white', 'é', '中', '😀', '.\n'];
  return Array.from({ length: 90 }, () => words[Math.floor(random() * words.length)]!).join(' ');
}

const root = mkdtempSync(join(tmpdir(), 'rnnkit-export-pytorch-'));
const textPath = join(root, 'text.txt');
writeFileSync(textPath, corpus(7));

function trainerFile(dir: string): { tensors: Map<string, Float32Array>; meta: Record<string, any> } {
  const file = decodeSafetensors(readFileSync(join(dir, TRAINER_FILE)));
  return {
    tensors: new Map(file.tensors.map((t) => [t.name, t.data])),
    meta: JSON.parse(file.metadata['rnnkit_trainer']!),
  };
}

/** A fresh rnnkit run of `steps` steps in root/name (reference backend). */
async function rnnkitRun(name: string, settings: string[], steps: number, file = textPath): Promise<string> {
  const dir = join(root, name);
  const result = await cli(
    'train',
    file,
    '--out',
    dir,
    '--steps',
    String(steps),
    '--backend',
    'reference',
    '--quiet',
    '--log-every',
    '1',
    ...settings,
  );
  expect(result.err).toBe('');
  expect(result.code).toBe(0);
  return dir;
}

/** 43 labelled examples (3 classes, 1–6 words, some multi-byte and astral characters): with --batch 7 and no
 *  validation split, an epoch's last batch holds one example, so one of two ranks has none. */
function examples(seed: number): string {
  const random = makeRandom(seed);
  const words: Record<string, string[]> = {
    pos: ['good', 'great', 'fine', 'nice'],
    neg: ['bad', 'awful', 'poor', 'dull'],
    meh: ['so', 'so-so', 'é', '😀'],
  };
  return Array.from({ length: 43 }, () => {
    const label = ['pos', 'neg', 'meh'][Math.floor(random() * 3)]!;
    const text = Array.from(
      { length: 1 + Math.floor(random() * 6) },
      () => words[label]![Math.floor(random() * 4)]!,
    ).join(' ');
    return JSON.stringify({ text, label }) + '\n';
  }).join('');
}

const examplesPath = join(root, 'examples.jsonl');
writeFileSync(examplesPath, examples(5));

// rnnkit's classifier defaults are Adam, a cosine schedule and clipping by norm; 43 examples in batches of
// 7 (or 5) make an epoch 7 (9) steps, so steps 4…11 cross an epoch boundary and a new shuffled plan.
const classifierCases: { name: string; settings: string[] }[] = [
  {
    name: 'bidirectional lstm, max pooling, adam, validation',
    settings: ['--batch', '5', '--layers', '2', '--val-frac', '0.2', '--eval-every', '3'],
  },
  {
    name: 'bidirectional gru, last state, sgd with momentum, a one-example last batch',
    settings: [
      '--batch',
      '7',
      '--cell',
      'gru',
      '--pool',
      'last',
      '--optimizer',
      'sgd',
      '--momentum',
      '0.9',
      '--lr',
      '0.3',
      '--val-frac',
      '0',
    ],
  },
  {
    name: 'bidirectional rnn, mean pooling, adam, max-len',
    settings: [
      '--batch',
      '7',
      '--cell',
      'rnn',
      '--pool',
      'mean',
      '--max-len',
      '9',
      '--val-frac',
      '0',
      '--lr-schedule',
      'constant',
    ],
  },
];

const python = (args: string[]) => spawnSync(PYTHON, args, { encoding: 'utf8', timeout: 600_000 });

// B = 3 streams over 2 ranks (1 + 2: the loss weighting matters); 300-odd characters, seq 16: an epoch is
// 5–6 steps, so steps 5…12 cross an epoch boundary (carried state reset; the step schedule decays).
const COMMON = ['--hidden', '8', '--batch', '3', '--seq', '16'];
const cases: { name: string; settings: string[] }[] = [
  {
    name: 'rnn sgd',
    settings: [
      '--cell',
      'rnn',
      '--optimizer',
      'sgd',
      '--lr',
      '0.2',
      '--momentum',
      '0.9',
      '--nesterov',
      '--lr-schedule',
      'step',
      '--decay-after',
      '0',
      '--decay-rate',
      '0.5',
    ],
  },
  {
    name: 'rnn adam',
    settings: [
      '--cell',
      'rnn',
      '--nonlinearity',
      'relu',
      '--layers',
      '2',
      '--optimizer',
      'adam',
      '--lr',
      '0.01',
      '--clip-norm',
      '0.5',
      '--clip-value',
      '0',
    ],
  },
  {
    name: 'lstm sgd',
    settings: ['--cell', 'lstm', '--optimizer', 'sgd', '--lr', '0.5', '--weight-decay', '0.01', '--clip-value', '0.05'],
  },
  {
    name: 'lstm adam',
    settings: [
      '--cell',
      'lstm',
      '--layers',
      '2',
      '--dropout',
      '0.3',
      '--optimizer',
      'adam',
      '--lr',
      '0.01',
      '--val-frac',
      '0.1',
      '--eval-every',
      '3',
    ],
  },
  {
    name: 'gru sgd',
    settings: [
      '--cell',
      'gru',
      '--embed',
      '5',
      '--optimizer',
      'sgd',
      '--lr',
      '0.3',
      '--lr-schedule',
      'cosine',
      '--warmup',
      '3',
    ],
  },
  { name: 'gru adam', settings: ['--cell', 'gru', '--optimizer', 'adamw', '--lr', '0.02', '--clip-norm', '0.1'] },
];

/**
 * Exports the run in root/slug, continues it to `steps` by rnnkit (a copy, --resume) and by train_ddp.py
 * --nproc 2, and requires the same trainer state: every tensor within float32 tolerance (after the
 * parameters moved well beyond it), the same position, settings and data, the same last metrics row.
 */
async function expectSameContinuation(slug: string, steps: number): Promise<void> {
  const run = join(root, slug),
    exported = join(root, `${slug}-pytorch`);
  expect((await cli('export', run, '--pytorch', exported)).code).toBe(0);
  const byRnnkit = join(root, `${slug}-rnnkit`);
  cpSync(run, byRnnkit, { recursive: true });
  expect(
    (await cli('train', '--resume', byRnnkit, '--steps', String(steps), '--backend', 'reference', '--quiet')).code,
  ).toBe(0);
  const byTorch = join(root, `${slug}-torch`);
  const ddp = python([
    join(exported, 'train_ddp.py'),
    '--nproc',
    '2',
    '--threads',
    '1',
    '--cpu',
    '--steps',
    String(steps),
    '--out',
    byTorch,
  ]);
  expect(ddp.stderr).toBe('');
  expect(ddp.status).toBe(0);

  const start = trainerFile(run),
    ours = trainerFile(byRnnkit),
    theirs = trainerFile(byTorch);
  expect([...theirs.tensors.keys()].sort()).toEqual([...ours.tensors.keys()].sort());
  for (const [name, expected] of ours.tensors) expectClose(theirs.tensors.get(name)!, expected, 1e-5, 1e-4, name);
  // Not a vacuous comparison: the steps moved the parameters well beyond the tolerance.
  const moved = ours.tensors
    .get('params')!
    .reduce((most, v, j) => Math.max(most, Math.abs(v - start.tensors.get('params')![j]!)), 0);
  expect(moved).toBeGreaterThan(1e-3);
  const position = (s: typeof ours) => {
    const { step, epoch, position: at, optimizerSteps, random, skippedSteps } = s.meta['position'];
    return { step, epoch, at, optimizerSteps, random, skippedSteps };
  };
  expect(position(theirs)).toEqual(position(ours));
  expect(position(theirs).epoch).toBeGreaterThan(start.meta['position'].epoch); // crossed an epoch boundary
  expect(theirs.meta['config']).toEqual(ours.meta['config']);
  expect(theirs.meta['data']).toEqual(ours.meta['data']);
  if (ours.meta['position'].bestValLoss !== null)
    expect(theirs.meta['position'].bestValLoss).toBeCloseTo(ours.meta['position'].bestValLoss, 5);
  const lastRow = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').at(-1)!);
  expect(lastRow(byTorch).step).toBe(steps);
  expect(lastRow(byTorch).loss).toBeCloseTo(lastRow(byRnnkit).loss, 5);
  for (const key of ['val_accuracy', 'val_macro_f1']) expect(lastRow(byTorch)[key]).toBe(lastRow(byRnnkit)[key]);
}

describe.skipIf(!hasTorch)('train_ddp.py --nproc 2 continues a run exactly as rnnkit train --resume does', () => {
  for (const [i, c] of cases.entries()) {
    it(
      c.name,
      async () => {
        const slug = c.name.replace(' ', '-');
        await rnnkitRun(slug, [...COMMON, ...c.settings, '--seed', String(20 + i)], 5);
        await expectSameContinuation(slug, 12);
      },
      600_000,
    );
  }

  for (const [i, c] of classifierCases.entries()) {
    it(`classifier: ${c.name}`, async () => {
      const slug = `classify-${i}`;
      await rnnkitRun(
        slug,
        ['--task', 'classify', '--hidden', '6', '--embed', '4', '--seed', String(30 + i), ...c.settings],
        4,
        examplesPath,
      );
      await expectSameContinuation(slug, 11);
    }, 600_000);
  }

  it("the results are rnnkit runs: eval agrees with PyTorch's own loss, and rnnkit resumes them", async () => {
    const byTorch = join(root, 'lstm-adam-torch'),
      exported = join(root, 'lstm-adam-pytorch');
    expect(existsSync(join(byTorch, 'best', 'model.safetensors'))).toBe(true);
    const evaluated = await cli('eval', byTorch, textPath, '--json', '--backend', 'reference');
    expect(evaluated.code).toBe(0);
    const rnnkitLoss = (JSON.parse(evaluated.out) as { loss: number }).loss;
    const script = [
      'import sys, json, torch, torch.nn.functional as F',
      `sys.path.insert(0, ${JSON.stringify(exported)})`,
      'from model import load',
      `model, meta = load(${JSON.stringify(byTorch)})`,
      `text = open(${JSON.stringify(textPath)}, encoding='utf-8').read()`,
      "ids = torch.tensor([meta['vocab'].index(ch) for ch in text])",
      'model.eval()',
      'with torch.no_grad():',
      '    logits, _ = model(ids[None, :-1])',
      "print(json.dumps({'loss': F.cross_entropy(logits[0], ids[1:]).item()}))",
    ].join('\n');
    const torchEval = python(['-c', script]);
    expect(torchEval.stderr).toBe('');
    expect(rnnkitLoss).toBeCloseTo((JSON.parse(torchEval.stdout) as { loss: number }).loss, 5);
    // The classifier too: rnnkit's loss over every example equals the PyTorch module's.
    const classifier = join(root, 'classify-0-torch');
    const scored = await cli('eval', classifier, examplesPath, '--json', '--backend', 'reference');
    expect(scored.code).toBe(0);
    const classifierScript = [
      'import sys, json, torch, torch.nn.functional as F',
      `sys.path.insert(0, ${JSON.stringify(join(root, 'classify-0-pytorch'))})`,
      'from model import load',
      `model, meta = load(${JSON.stringify(classifier)})`,
      `rows = [json.loads(line) for line in open(${JSON.stringify(examplesPath)}, encoding='utf-8')]`,
      "ids_of = {ch: i + 1 for i, ch in enumerate(meta['vocab']['chars'])}",
      "texts = [r['text'][:meta['max_len']] if meta['max_len'] else r['text'] for r in rows]",
      'lengths = torch.tensor([len(t) for t in texts])',
      'ids = torch.zeros(int(lengths.max()), len(texts), dtype=torch.int64)',
      'for b, t in enumerate(texts):',
      '    ids[:len(t), b] = torch.tensor([ids_of.get(ch, 0) for ch in t])',
      "labels = torch.tensor([meta['labels'].index(r['label']) for r in rows])",
      'with torch.no_grad():',
      "    print(json.dumps({'loss': F.cross_entropy(model(ids, lengths), labels).item()}))",
    ].join('\n');
    const torchScore = python(['-c', classifierScript]);
    expect(torchScore.stderr).toBe('');
    expect((JSON.parse(scored.out) as { loss: number }).loss).toBeCloseTo(
      (JSON.parse(torchScore.stdout) as { loss: number }).loss,
      5,
    );
    const resumed = await cli('train', '--resume', byTorch, '--steps', '13', '--backend', 'reference', '--quiet');
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    expect(trainerFile(byTorch).meta['position'].step).toBe(13);
  }, 120_000);

  it('train_ddp.py refuses other text and an existing NEW_DIR in one line', async () => {
    const exported = join(root, 'rnn-sgd-pytorch');
    const other = join(root, 'other.txt');
    writeFileSync(other, corpus(8));
    const wrongText = python([
      join(exported, 'train_ddp.py'),
      '--steps',
      '6',
      '--out',
      join(root, 'never'),
      '--data',
      other,
      '--cpu',
    ]);
    expect(wrongText.status).toBe(1);
    expect(wrongText.stderr).toMatch(/^train_ddp\.py: .*other\.txt: not the text this run trained on \(.*\)\n$/);
    const taken = python([
      join(exported, 'train_ddp.py'),
      '--nproc',
      '2',
      '--steps',
      '6',
      '--out',
      join(root, 'rnn-sgd-torch'),
      '--cpu',
    ]);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toMatch(
      /^train_ddp\.py: --out .*rnn-sgd-torch: exists and is not an empty directory; choose a new one\n$/,
    );
  }, 120_000);
});

describe('rnnkit export refuses bad input in one line', () => {
  it('a run the exporter does not cover (a classifier with dropout)', async () => {
    const run = await rnnkitRun(
      'classifier-dropout',
      ['--task', 'classify', '--hidden', '4', '--layers', '2', '--dropout', '0.3', '--val-frac', '0'],
      0,
      examplesPath,
    );
    const result = await cli('export', run, '--pytorch', join(root, 'classifier-dropout-pytorch'));
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `rnnkit: ${run} is a classifier trained with --dropout; --pytorch does not cover that yet\n`,
    );
    expect(existsSync(join(root, 'classifier-dropout-pytorch'))).toBe(false);
  });

  it('an existing non-empty directory without --force; with --force the export is written over it', async () => {
    const run = await rnnkitRun('small', ['--hidden', '4', '--batch', '2', '--seq', '8'], 1);
    const out = join(root, 'taken');
    mkdirSync(out);
    writeFileSync(join(out, 'notes.txt'), 'mine');
    const refused = await cli('export', run, '--pytorch', out);
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(
      `rnnkit: --pytorch ${out}: the directory is not empty; choose a new or empty one, or pass --force to write the export's files over it\n`,
    );
    expect(existsSync(join(out, 'train_ddp.py'))).toBe(false);
    const forced = await cli('export', run, '--pytorch', out, '--force');
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(readFileSync(join(out, 'text.txt'), 'utf8')).toBe(readFileSync(textPath, 'utf8'));
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toContain('--nnodes');
  });

  it('a run directory that cannot be resumed, a changed text, and not exactly one format', async () => {
    const notRun = join(root, 'not-a-run');
    mkdirSync(notRun);
    expect((await cli('export', notRun, '--pytorch', join(root, 'x'))).err).toMatch(
      /^rnnkit: .*not-a-run: no trainer\.safetensors here, so the run cannot be resumed .*\n$/,
    );
    const changing = join(root, 'changing.txt');
    writeFileSync(changing, corpus(9));
    const run = await rnnkitRun('changed', ['--hidden', '4', '--batch', '2', '--seq', '8'], 1, changing);
    writeFileSync(changing, corpus(10));
    const changed = await cli('export', run, '--pytorch', join(root, 'changed-pytorch'));
    expect(changed.code).toBe(1);
    expect(changed.err).toBe(
      `rnnkit: the training data (${changing}) changed since the checkpoint in ${run} was written, so the run cannot be continued on it\n`,
    );
    const both = await cli('export', run, '--onnx', join(root, 'model.onnx'), '--pytorch', join(root, 'both'));
    expect(both.err).toBe('rnnkit: export needs exactly one of --onnx FILE or --pytorch DIR\n');
    expect((await cli('export', run)).err).toBe('rnnkit: export needs exactly one of --onnx FILE or --pytorch DIR\n');
  });
});
