// rnnkit → PyTorch for the classifier: a checkpoint rnnkit writes loads into the PyTorch module it stands for
// (test/fixtures/sequence_classifier.py) with load_state_dict(strict=True), and PyTorch's probabilities for
// inputs of different lengths equal rnnkit's. Needs /usr/bin/python3 with PyTorch (Debian's python3-torch,
// which .ci/run installs); without it the test is skipped here and fails under CI.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Pooling } from '../src/model/classifier.js';
import type { Cell } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { LabelSet } from '../src/tasks/classify/labels.js';
import { loadClassifier, saveClassifier } from '../src/tasks/classify/model-file.js';
import { classProbabilities } from '../src/tasks/classify/predict.js';
import { CharVocabulary } from '../src/tasks/classify/vocab.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { expectClose } from './helpers.js';

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
if (!hasTorch)
  console.warn(
    'classify-pytorch: /usr/bin/python3 with PyTorch not found; the rnnkit → PyTorch classifier check is SKIPPED (install python3-torch)',
  );
if (!hasTorch && process.env['CI'])
  throw new Error('CI must have /usr/bin/python3 with PyTorch (python3-torch): .ci/run installs it');

const vocab = CharVocabulary.fromTexts(['abcdefg']);
const labels = new LabelSet(['neg', 'neutral', 'pos']);
const texts = ['a', 'gfedcba', 'abzzab', 'ccccccccccccccc', 'bad', 'fa'];
const ids = texts.map((text) => Array.from(text, (ch) => vocab.id(ch.codePointAt(0)!)));

const cases: {
  cell: Cell;
  nonlinearity: 'tanh' | 'relu';
  layers: number;
  embed: number;
  bidirectional: boolean;
  pool: Pooling;
}[] = [
  { cell: 'lstm', nonlinearity: 'tanh', layers: 2, embed: 3, bidirectional: true, pool: 'last' },
  { cell: 'gru', nonlinearity: 'tanh', layers: 1, embed: 0, bidirectional: true, pool: 'mean' },
  { cell: 'rnn', nonlinearity: 'relu', layers: 2, embed: 4, bidirectional: false, pool: 'max' },
  { cell: 'lstm', nonlinearity: 'tanh', layers: 1, embed: 0, bidirectional: false, pool: 'mean' },
  { cell: 'gru', nonlinearity: 'tanh', layers: 2, embed: 3, bidirectional: true, pool: 'max' },
];

describe.skipIf(!hasTorch)(
  'a classifier checkpoint loads into PyTorch with strict=True and gives the same probabilities',
  () => {
    for (const [i, c] of cases.entries()) {
      const name = `${c.cell}-${c.nonlinearity} L${c.layers} E${c.embed} ${c.bidirectional ? 'bi' : 'uni'} pool ${c.pool}`;
      it(
        name,
        async () => {
          const dir = mkdtempSync(join(tmpdir(), 'rnnkit-torch-classifier-'));
          const model = new Model(new ReferenceBackend(), {
            ...c,
            hidden: 5,
            vocabSize: vocab.size,
            outputs: labels.size,
          });
          model.initialize(10 + i);
          saveClassifier(dir, { model, vocab, labels, pool: c.pool, maxLen: 0 });
          const idsPath = join(dir, 'ids.json');
          writeFileSync(idsPath, JSON.stringify({ ids }));
          const python = spawnSync(PYTHON, ['test/fixtures/make_seq_fixtures.py', '--check-classifier', dir, idsPath], {
            encoding: 'utf8',
          });
          expect(python.stderr).toBe('');
          const torchProbs = (JSON.parse(python.stdout) as { probs: number[][] }).probs;
          for (const backend of TESTED_BACKENDS) {
            const ours = classProbabilities(loadClassifier(dir, await BACKEND_FACTORIES[backend]()), texts);
            expectClose(
              ours.flatMap((row) => Array.from(row)),
              torchProbs.flat(),
              1e-5,
              1e-4,
              `${backend} probabilities`,
            );
          }
        },
        60_000,
      );
    }
  },
);
