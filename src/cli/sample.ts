// `rnnkit sample DIR`: generate text from a checkpoint, streamed to stdout.
import type { Command } from 'commander';
import { sample } from '../generate/sample.js';
import { loadModel } from '../io/checkpoint.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer, number } from './parse.js';

interface SampleFlags extends BackendFlags {
  length: number;
  temperature: number;
  prime: string;
  seed: number;
}

export function registerSample(program: Command): void {
  addBackendOptions(
    program
      .command('sample')
      .description('generate text from a checkpoint directory')
      .argument('<dir>', 'checkpoint directory (a run directory)')
      .option('--length <n>', 'characters to generate', integer(0, 100_000_000), 500)
      .option('--temperature <t>', 'softmax temperature; 0 = always the most likely character', number(0, 1e6), 1)
      .option('--prime <text>', 'text to start from (printed first)', '')
      .option('--seed <n>', 'random seed', integer(0), 1),
  ).action(async (dir: string, flags: SampleFlags) => {
    const { model, vocab } = loadModel(dir, await backendFrom(flags));
    process.stdout.write(flags.prime);
    sample(model, vocab, { ...flags, onText: (text) => process.stdout.write(text) });
    process.stdout.write('\n');
  });
}
