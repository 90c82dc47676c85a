// The generated long-range tasks: deterministic generators, the structure the literature defines (markers
// in each half; symbols, delimiter, recall), the baselines reproduced by the predictors that define them
// (MSE 1/6 for "always 1", 10·ln 8/(T + 20) for the memoryless copier), and end to end through the CLI:
// train, `eval --json` on a fresh test stream, and clear errors for bad settings.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { validateConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { RegressorWorkspace } from '../src/model/regressor.js';
import {
  ADDING_BASELINE,
  COPY_BLANK,
  COPY_DELIMITER,
  COPY_LENGTH,
  COPY_SYMBOLS,
  addingBatch,
  batchRandom,
  copyBaseline,
  copyBatch,
  copySteps,
} from '../src/tasks/synthetic/generate.js';
import { scoreAdding } from '../src/tasks/synthetic/score.js';
import { cli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-synthetic-'));

function adding(seed: number, stream: 'train' | 'validation' | 'test', index: number, T: number, B: number) {
  const frames = new Float32Array(T * B * 2),
    targets = new Float32Array(B);
  addingBatch(batchRandom(seed, stream, index), T, B, frames, targets);
  return { frames, targets };
}

function copy(seed: number, index: number, delay: number, B: number) {
  const T = copySteps(delay),
    ids = new Int32Array(T * B),
    targets = new Int32Array(T * B);
  copyBatch(batchRandom(seed, 'train', index), delay, B, ids, targets);
  return { ids, targets };
}

describe('the adding problem', () => {
  it('is a function of (seed, stream, batch index): equal for equal, different otherwise', () => {
    expect(adding(7, 'train', 3, 20, 4)).toEqual(adding(7, 'train', 3, 20, 4));
    for (const other of [adding(8, 'train', 3, 20, 4), adding(7, 'test', 3, 20, 4), adding(7, 'train', 4, 20, 4)]) {
      expect(other.frames).not.toEqual(adding(7, 'train', 3, 20, 4).frames);
    }
  });

  it('marks one value in each half and targets their sum (T = 2 included)', () => {
    for (const T of [2, 3, 50]) {
      const B = 64,
        { frames, targets } = adding(1, 'train', 0, T, B);
      for (let b = 0; b < B; b++) {
        const marked = [...Array(T).keys()].filter((t) => frames[(t * B + b) * 2 + 1] === 1);
        expect(marked).toHaveLength(2);
        expect(marked[0]!).toBeLessThan(Math.floor(T / 2));
        expect(marked[1]!).toBeGreaterThanOrEqual(Math.floor(T / 2));
        for (let t = 0; t < T; t++) expect([0, 1]).toContain(frames[(t * B + b) * 2 + 1]);
        expect(targets[b]).toBe(Math.fround(frames[(marked[0]! * B + b) * 2]! + frames[(marked[1]! * B + b) * 2]!));
      }
    }
  });

  it('"always predict 1" scores MSE 1/6: directly, and through a model whose head is the constant 1', () => {
    const B = 1000;
    let sum = 0;
    for (let index = 0; index < 20; index++)
      for (const y of adding(5, 'test', index, 30, B).targets) sum += (1 - y) ** 2;
    expect(Math.abs(sum / (20 * B) - ADDING_BASELINE)).toBeLessThan(0.004);
    const model = new Model(
      new ReferenceBackend(),
      validateConfig({ cell: 'lstm', nonlinearity: 'tanh', hidden: 4, layers: 1, embed: 0, vocabSize: 2, outputs: 1 }),
    );
    model.initialize(1);
    model.paramTensors.headWeight.data.fill(0);
    model.paramTensors.headBias.data.fill(1);
    const mse = scoreAdding(new RegressorWorkspace(model, 30, 250), 30, 5, 'test', 2000);
    expect(Math.abs(mse - ADDING_BASELINE)).toBeLessThan(0.01);
  });
});

describe('the copy-memory problem', () => {
  it('is deterministic for a seed', () => {
    expect(copy(3, 2, 12, 5)).toEqual(copy(3, 2, 12, 5));
    expect(copy(4, 2, 12, 5).ids).not.toEqual(copy(3, 2, 12, 5).ids);
  });

  it('shows 10 symbols, waits delay − 1 blanks, the delimiter, then wants the symbols back', () => {
    for (const delay of [1, 7]) {
      const B = 16,
        T = copySteps(delay),
        { ids, targets } = copy(2, 0, delay, B);
      expect(T).toBe(delay + 20);
      for (let b = 0; b < B; b++) {
        const input = [...Array(T).keys()].map((t) => ids[t * B + b]!),
          want = [...Array(T).keys()].map((t) => targets[t * B + b]!);
        const symbols = input.slice(0, COPY_LENGTH);
        for (const s of symbols) expect(s >= 1 && s <= COPY_SYMBOLS).toBe(true);
        expect(input.slice(COPY_LENGTH)).toEqual([
          ...Array(delay - 1).fill(COPY_BLANK),
          COPY_DELIMITER,
          ...Array(COPY_LENGTH).fill(COPY_BLANK),
        ]);
        expect(want).toEqual([...Array(delay + COPY_LENGTH).fill(COPY_BLANK), ...symbols]);
      }
    }
  });

  it('the memoryless strategy (blank until the recall, then uniform over the 8 symbols) scores 10·ln 8/(delay + 20)', () => {
    const delay = 30,
      B = 50,
      T = copySteps(delay),
      { targets } = copy(9, 0, delay, B);
    // Its probability of the target at step t: 1 for a blank before the recall, 1/8 for each recalled symbol.
    let loss = 0;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const recall = t >= delay + COPY_LENGTH;
        const p = recall
          ? targets[t * B + b]! >= 1 && targets[t * B + b]! <= COPY_SYMBOLS
            ? 1 / COPY_SYMBOLS
            : 0
          : targets[t * B + b] === COPY_BLANK
            ? 1
            : 0;
        loss -= Math.log(p);
      }
    }
    expect(loss / (T * B)).toBeCloseTo(copyBaseline(delay), 12);
    expect(copyBaseline(100)).toBeCloseTo((10 * Math.log(8)) / 120, 15);
  });
});

describe('through the command line', () => {
  it('trains the adding problem and scores a fresh test set with eval --json', async () => {
    const out = join(dir, 'adding');
    const trained = await cli(
      'train',
      '--task',
      'adding',
      '--length',
      '12',
      '--hidden',
      '8',
      '--batch',
      '16',
      '--steps',
      '40',
      '--eval-every',
      '20',
      '--backend',
      'reference',
      '--quiet',
      '--out',
      out,
    );
    expect(trained.err).toBe('');
    expect(trained.code).toBe(0);
    const evaluated = await cli('eval', out, '--json', '--sequences', '300', '--backend', 'reference');
    expect(evaluated.code).toBe(0);
    const score = JSON.parse(evaluated.out);
    expect(score).toMatchObject({ task: 'adding', length: 12, seed: 1, sequences: 300, baseline_mse: ADDING_BASELINE });
    expect(score.mse).toBeGreaterThan(0);
    expect(score.mse).toBeLessThan(1);
    const other = JSON.parse(
      (await cli('eval', out, '--json', '--sequences', '300', '--seed', '2', '--backend', 'reference')).out,
    );
    expect(other.mse).not.toBe(score.mse);
  });

  it('trains the copy problem and scores loss and recall accuracy beside the baseline', async () => {
    const out = join(dir, 'copy');
    const trained = await cli(
      'train',
      '--task',
      'copy',
      '--delay',
      '5',
      '--hidden',
      '8',
      '--batch',
      '8',
      '--steps',
      '20',
      '--backend',
      'reference',
      '--quiet',
      '--out',
      out,
    );
    expect(trained.code).toBe(0);
    const score = JSON.parse((await cli('eval', out, '--json', '--sequences', '64', '--backend', 'reference')).out);
    expect(score).toMatchObject({ task: 'copy', delay: 5, sequences: 64, baseline_loss: copyBaseline(5) });
    expect(score.loss).toBeGreaterThan(0);
    expect(score.accuracy).toBeGreaterThanOrEqual(0);
    expect(score.accuracy).toBeLessThanOrEqual(1);
  });

  it.each([
    ['adding', '--length'],
    ['copy', '--delay'],
  ])('a resumed %s run continues bit for bit (the batches are a function of the step)', async (task, option) => {
    const common = [
      'train',
      '--task',
      task,
      option,
      '6',
      '--hidden',
      '5',
      '--batch',
      '4',
      '--eval-every',
      '5',
      '--backend',
      'reference',
      '--quiet',
    ];
    const whole = join(dir, `${task}-whole`),
      parts = join(dir, `${task}-parts`);
    expect((await cli(...common, '--steps', '12', '--out', whole)).code).toBe(0);
    expect((await cli(...common, '--steps', '7', '--out', parts)).code).toBe(0);
    expect((await cli('train', '--resume', parts, '--steps', '12', '--backend', 'reference', '--quiet')).code).toBe(0);
    expect(readFileSync(join(parts, 'model.safetensors'))).toEqual(readFileSync(join(whole, 'model.safetensors')));
  });

  it.each([
    [['--task', 'adding', '--length', '1'], /--length must be an integer from 2/],
    [['--task', 'copy', '--delay', '0'], /--delay must be an integer from 1/],
    [['--task', 'copy', '--delay', '99990'], /--delay must be an integer from 1 .* fit in 100,000 steps/],
    [['--task', 'copy', '--length', '50'], /--length applies to --task adding, not --task copy/],
    [['--task', 'adding', '--embed', '4'], /--embed 4: the adding problem reads float frames/],
    [['--task', 'adding', 'some-file.txt'], /generates its sequences from --seed; remove the FILE argument/],
  ])('refuses %j with one clear line', async (args, message) => {
    const result = await cli(
      'train',
      ...args,
      '--steps',
      '1',
      '--backend',
      'reference',
      '--quiet',
      '--out',
      join(dir, 'refused'),
    );
    expect(result.code).not.toBe(0);
    expect(result.err).toMatch(message);
    expect(result.err.trim().split('\n')).toHaveLength(1);
  });

  it('eval of a generated task refuses a FILE; of a language model, needs one', async () => {
    expect((await cli('eval', join(dir, 'adding'), 'x.txt', '--backend', 'reference')).err).toMatch(
      /remove the FILE argument/,
    );
  });
});
