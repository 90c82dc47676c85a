// Settings that do what they say: RNNKIT_BACKEND through the CLI, option checks before any output.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-settings-'));
const text = join(dir, 'text.txt');
writeFileSync(text, 'hello world, hello rnn. '.repeat(20));

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('RNNKIT_BACKEND', () => {
  it('chooses the backend of rnnkit train when --backend is not given', async () => {
    vi.stubEnv('RNNKIT_BACKEND', 'wasm');
    const { code, out } = await cli(
      'train',
      text,
      '--hidden',
      '8',
      '--steps',
      '1',
      '--quiet',
      '--out',
      join(dir, 'env-wasm'),
    );
    expect(code).toBe(0);
    expect(out).toMatch(/rnnkit: wasm \(/);
  });

  it('loses to an explicit --backend', async () => {
    vi.stubEnv('RNNKIT_BACKEND', 'wasm');
    const { code, out } = await cli(
      'train',
      text,
      '--hidden',
      '8',
      '--steps',
      '1',
      '--quiet',
      '--backend',
      'reference',
      '--out',
      join(dir, 'env-explicit'),
    );
    expect(code).toBe(0);
    expect(out).toMatch(/rnnkit: reference \(/);
  });

  it('chooses the backend of rnnkit info', async () => {
    vi.stubEnv('RNNKIT_BACKEND', 'reference');
    const { code, out } = await cli('info');
    expect(code).toBe(0);
    expect(out).toMatch(/^chosen: reference \(/m);
  });

  it.each([['train', text, '--steps', '1', '--out', join(dir, 'env-gpu')], ['info']])(
    'an unknown name is a one-line usage error: %s',
    async (...args) => {
      vi.stubEnv('RNNKIT_BACKEND', 'gpu');
      const { code, err, out } = await cli(...args);
      expect(err).toBe('rnnkit: backend must be auto, native, wasm, reference; got "gpu" from RNNKIT_BACKEND\n');
      expect(out).toBe('');
      expect(code).toBe(2);
    },
  );
});

describe('option checks come before any output', () => {
  it.each([
    [
      '--patience without --val-frac',
      ['--patience', '3'],
      /^rnnkit: --patience needs a validation split \(--val-frac > 0\)\n$/,
    ],
    [
      '--nesterov without momentum',
      ['--nesterov', '--optimizer', 'sgd'],
      /^rnnkit: nesterov needs --optimizer sgd with a momentum > 0\n$/,
    ],
  ])('%s', async (_what, args, message) => {
    vi.stubEnv('RNNKIT_BACKEND', 'gpu-not-reached'); // the backend is chosen (and announced) only after the checks
    const out = join(dir, 'never-written');
    const result = await cli('train', text, ...args, '--steps', '2', '--out', out);
    expect(result.err).toMatch(message);
    expect(result.out).toBe('');
    expect(result.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('sample --prime with an unknown character prints nothing of the sample', async () => {
    const ckpt = join(dir, 'prime-ckpt');
    expect(
      (await cli('train', text, '--backend', 'reference', '--hidden', '8', '--steps', '1', '--out', ckpt)).code,
    ).toBe(0);
    const result = await cli('sample', ckpt, '--prime', 'hello Ω', '--length', '5', '--backend', 'reference');
    expect(result.err).toMatch(
      /^rnnkit: the prime text has character "Ω" \(U\+03A9\) at position 6, which is not in the model's vocabulary\n$/,
    );
    expect(result.out).toBe('');
    expect(result.code).toBe(1);
  });
});

describe('range errors in words', () => {
  it.each([
    [['--seed', '-1'], /argument '-1' is invalid\. expected an integer >= 0, got "-1"/],
    [['--steps', '1.5'], /expected an integer >= 0, got "1\.5"/],
    [['--clip-norm', '-1'], /expected a number >= 0, got "-1"/],
  ])('%j', async (args, message) => {
    const result = await cli('train', text, ...args);
    expect(result.err).toMatch(message);
    expect(result.err).not.toMatch(/9007199254740991|1\.79\d*e\+308/);
    expect(result.code).toBe(2);
  });
});

describe('options that would do nothing are refused', () => {
  it.each([
    [
      ['--dropout', '0.2'],
      /^rnnkit: --dropout applies between stacked recurrent layers and does nothing with --layers 1/,
    ],
    [
      ['--cell', 'lstm', '--nonlinearity', 'relu'],
      /^rnnkit: --nonlinearity applies to --cell rnn; lstm's gates have fixed nonlinearities/,
    ],
    [['--cell', 'gru', '--nonlinearity', 'tanh'], /^rnnkit: --nonlinearity applies to --cell rnn; gru's/],
    [['--beta1', '0.8'], /^rnnkit: --beta1 applies to --optimizer adam or adamw, not adagrad/],
    [['--optimizer', 'sgd', '--beta2', '0.99'], /^rnnkit: --beta2 applies to --optimizer adam or adamw, not sgd/],
    [['--alpha', '0.9', '--optimizer', 'adam'], /^rnnkit: --alpha applies to --optimizer rmsprop, not adam/],
    [['--decay-rate', '0.5'], /^rnnkit: --decay-rate applies to --lr-schedule step, not constant/],
    [
      ['--lr-schedule', 'cosine', '--warmup', '10', '--steps', '10'],
      /^rnnkit: --warmup 10 lasts the whole run \(--steps 10\), so the cosine schedule never decays/,
    ],
  ])('%j', async (args, message) => {
    const out = join(dir, 'refused');
    const result = await cli('train', text, '--backend', 'reference', '--steps', '2', ...args, '--out', out);
    expect(result.err).toMatch(message);
    expect(result.out).toBe('');
    expect(result.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('the same settings where they act are accepted', async () => {
    const result = await cli(
      'train',
      text,
      '--backend',
      'reference',
      '--hidden',
      '8',
      '--layers',
      '2',
      '--dropout',
      '0.2',
      '--optimizer',
      'adam',
      '--beta1',
      '0.8',
      '--lr-schedule',
      'cosine',
      '--warmup',
      '1',
      '--steps',
      '2',
      '--quiet',
      '--out',
      join(dir, 'accepted'),
    );
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
  });
});

describe('what a run records about itself, and --version', () => {
  it('rnnkit --version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const { code, out } = await cli(flag);
      expect(code).toBe(0);
      expect(out.trim()).toBe(version);
    }
  });

  it('run.json holds the command line, the date, the host and the rnnkit version', async () => {
    const out = join(dir, 'provenance');
    const before = Date.now();
    expect(
      (await cli('train', text, '--hidden', '8', '--steps', '1', '--seed', '7', '--quiet', '--out', out)).code,
    ).toBe(0);
    const { started } = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')) as {
      started: { command: string; date: string; host: string; rnnkit: string };
    };
    expect(started.command).toBe(`rnnkit train ${text} --hidden 8 --steps 1 --seed 7 --quiet --out ${out}`);
    expect(Date.parse(started.date)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(started.date)).toBeLessThanOrEqual(Date.now());
    expect(started.host).toBe(hostname());
    expect(started.rnnkit).toMatch(/^\d+\.\d+\.\d+/);
  });
});
