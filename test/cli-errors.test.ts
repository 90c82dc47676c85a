// Bad input on the command line: one clear line, exit code 2 for usage errors and 1 for failures, no crash.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { cli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-cli-'));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

const text = file('text.txt', 'hello world, hello rnn. '.repeat(20));
const checkpoint = join(dir, 'ckpt');

beforeAll(async () => {
  const { code, err } = await cli(
    'train',
    text,
    '--backend',
    'reference',
    '--hidden',
    '8',
    '--steps',
    '3',
    '--out',
    checkpoint,
  );
  expect(err).toBe('');
  expect(code).toBe(0);
});

describe('rnnkit train refuses bad input', () => {
  it.each([
    ['a missing file', [join(dir, 'missing.txt')], 1, /missing\.txt: no such file/],
    ['a directory', [dir], 1, /is a directory, expected a text file/],
    ['an empty file', [file('empty.txt', '')], 1, /the file is empty/],
    ['a file of one distinct character', [file('one.txt', 'aaaaaaa')], 1, /only 1 distinct character/],
    ['a text too short for one step', [file('short.txt', 'abcab')], 1, /too short for --batch 1 × --seq 25/],
    [
      '--hidden 0',
      [text, '--hidden', '0'],
      2,
      /--hidden <n>' argument '0' is invalid\. expected an integer from 1 to 65536/,
    ],
    ['a negative size', [text, '--layers', '-2'], 2, /--layers <n>' argument '-2' is invalid/],
    ['NaN', [text, '--lr', 'NaN'], 2, /--lr <x>' argument 'NaN' is invalid\. expected a number/],
    ['a fractional size', [text, '--seq', '2.5'], 2, /--seq <n>' argument '2.5' is invalid/],
    [
      'a model too large for memory',
      [text, '--hidden', '60000', '--layers', '20'],
      2,
      /parameters .* GiB\); the limit is/,
    ],
    [
      'a chunk too large for memory',
      [text, '--seq', '100000', '--batch', '100', '--hidden', '512'],
      2,
      /workspace of 100000 steps × 100 streams .* GiB/,
    ],
    ['dropout of 1', [text, '--dropout', '1', '--layers', '2'], 2, /dropout must be in \[0, 1\), got 1/],
    [
      'an unknown cell',
      [text, '--cell', 'transformer'],
      2,
      /--cell <cell>' argument 'transformer' is invalid\. expected one of rnn, lstm, gru/,
    ],
    ['an unknown option', [text, '--hiden', '5'], 2, /unknown option '--hiden'/],
    ['an unknown backend', [text, '--backend', 'gpu'], 2, /--backend <name>' argument 'gpu' is invalid/],
    [
      'a shape that disagrees with --init-from',
      [text, '--init-from', checkpoint, '--hidden', '9'],
      2,
      /--hidden 9 disagrees with the checkpoint .* which has hidden 8/,
    ],
  ])('%s', async (_what, args, code, message) => {
    const result = await cli(
      'train',
      ...(args as string[]),
      '--backend',
      (args as string[]).includes('--backend') ? 'reference' : 'reference',
      '--steps',
      '1',
      '--out',
      join(dir, 'out'),
    );
    expect(result.err).toMatch(message);
    expect(result.code).toBe(code);
  });
});

describe('rnnkit train --resume refuses settings beside it', () => {
  it.each([
    [['--hidden', '9'], /--resume takes every setting from the checkpoint; remove --hidden/],
    [['--lr', '0.5'], /remove --lr/],
    [['--val-frac', '0.1'], /remove --val-frac/],
  ])('%j', async (extra, message) => {
    const result = await cli('train', '--resume', checkpoint, ...(extra as string[]), '--backend', 'reference');
    expect(result.err).toMatch(message);
    expect(result.code).toBe(2);
  });

  it('a FILE argument, and a directory that is not a run', async () => {
    expect((await cli('train', text, '--resume', checkpoint, '--backend', 'reference')).err).toMatch(
      /remove the FILE argument/,
    );
    const notRun = await cli('train', '--resume', dir, '--backend', 'reference');
    expect(notRun.err).toMatch(/no trainer\.safetensors here, so the run cannot be resumed/);
    expect(notRun.code).toBe(1);
  });

  it('resumes to a larger --steps', async () => {
    const result = await cli('train', '--resume', checkpoint, '--steps', '6', '--backend', 'reference');
    expect(result.err).toBe('');
    expect(result.out).toMatch(/resuming .* at step 3 of 6/);
    expect(result.out).toMatch(/done at step 6/);
  });
});

describe('rnnkit sample and eval refuse bad input', () => {
  it('a prime with characters outside the vocabulary', async () => {
    const result = await cli('sample', checkpoint, '--prime', 'hello Z', '--backend', 'reference');
    expect(result.err).toMatch(/the prime text has character "Z" \(U\+005A\) at position 6/);
    expect(result.code).toBe(1);
  });

  it('a truncated model.safetensors', async () => {
    const broken = join(dir, 'broken');
    mkdirSync(broken);
    const bytes = readFileSync(join(checkpoint, 'model.safetensors'));
    writeFileSync(join(broken, 'model.safetensors'), bytes.subarray(0, bytes.length - 7));
    const result = await cli('sample', broken, '--backend', 'reference');
    expect(result.err).toMatch(/tensors cover .* of .* data bytes|outside the .* data bytes/);
    expect(result.code).toBe(1);
  });

  it('a corrupted header', async () => {
    const broken = join(dir, 'corrupt');
    mkdirSync(broken);
    const bytes = Buffer.from(readFileSync(join(checkpoint, 'model.safetensors')));
    bytes[12] = 0xff;
    writeFileSync(join(broken, 'model.safetensors'), bytes);
    const result = await cli('eval', broken, text, '--backend', 'reference');
    expect(result.err).toMatch(/header is not valid JSON/);
    expect(result.code).toBe(1);
  });

  it('a directory that is not a checkpoint', async () => {
    const result = await cli('sample', dir, '--backend', 'reference');
    expect(result.err).toMatch(/no model\.safetensors in this directory/);
    expect(result.code).toBe(1);
  });

  it('eval --json prints loss and bpc; sample is reproducible', async () => {
    const result = await cli('eval', checkpoint, text, '--json', '--backend', 'reference');
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.out) as { loss: number; bpc: number };
    expect(parsed.bpc).toBeCloseTo(parsed.loss / Math.LN2, 10);
    const a = await cli(
      'sample',
      checkpoint,
      '--length',
      '40',
      '--seed',
      '3',
      '--prime',
      'hel',
      '--backend',
      'reference',
    );
    const b = await cli(
      'sample',
      checkpoint,
      '--length',
      '40',
      '--seed',
      '3',
      '--prime',
      'hel',
      '--backend',
      'reference',
    );
    expect(a.code).toBe(0);
    expect(a.out).toBe(b.out);
    expect(a.out.startsWith('hel')).toBe(true);
  });
});
