// Small checkpoints made by the CLI for the web API's prediction tests (test/web-predict.test.ts in Node,
// test/browser.test.ts in Chromium): a translator of reversals, a recogniser of two tones and a character LM
// over its alphabet. A few seconds of training each: enough for varied outputs, not for good ones.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { cli } from './cli-helpers.js';
import { reversals, toyDir } from './task-data.js';

/** Trains a seq2seq model of `layers` layers on reversals in root/translator-LAYERS; returns its directory. */
export async function trainTranslator(root: string, backend: string, layers = 2): Promise<string> {
  const data = join(root, 'reversals.tsv'),
    run = join(root, `translator-${layers}`);
  writeFileSync(
    data,
    reversals(300, 1)
      .map(([s, t]) => `${s}\t${t}\n`)
      .join(''),
  );
  const trained = await cli(
    'train',
    '--task',
    'seq2seq',
    data,
    '--backend',
    backend,
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
    '--steps',
    '150',
    '--seed',
    '3',
    '--layers',
    String(layers),
    ...(layers === 1 ? ['--dropout', '0'] : []), // dropout acts between layers: refused with one
    '--out',
    run,
    '--quiet',
  );
  expect(trained.code, trained.err).toBe(0);
  return run;
}

/** Trains a recogniser of the two-tone language in root/recogniser and an untrained character LM over its
 *  alphabet in root/lm; returns them and three WAV files of held-out utterances. */
export async function trainRecogniser(
  root: string,
  backend: string,
): Promise<{ run: string; lm: string; files: string[] }> {
  const speech = toyDir(root, 'speech', 16, 1),
    heard = toyDir(root, 'heard', 3, 2);
  const run = join(root, 'recogniser'),
    lm = join(root, 'lm');
  const trained = await cli(
    'train',
    '--task',
    'ctc',
    speech,
    '--backend',
    backend,
    '--hidden',
    '16',
    '--layers',
    '1',
    '--batch',
    '8',
    '--warmup',
    '0',
    '--lr',
    '0.02',
    '--steps',
    '40',
    '--seed',
    '2',
    '--out',
    run,
    '--quiet',
  );
  expect(trained.code, trained.err).toBe(0);
  writeFileSync(join(root, 'lm.txt'), 'ab\nba\naab\nbba\nabab\n'.repeat(20));
  const made = await cli('train', join(root, 'lm.txt'), '--steps', '0', '--hidden', '8', '--quiet', '--out', lm);
  expect(made.code, made.err).toBe(0);
  const files = readdirSync(heard)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .map((f) => join(heard, f));
  return { run, lm, files };
}
