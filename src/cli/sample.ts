// `rnnkit sample DIR`: generate text from a checkpoint, streamed to stdout as it is produced.
import type { Command } from 'commander';
import { checkHeldSize, generate, generateHeld, heldSamplePieces, validateSampleOptions } from '../generate/sample.js';
import { loadModel } from '../io/checkpoint.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer, number } from './parse.js';

interface SampleFlags extends BackendFlags {
  length: number;
  temperature?: number;
  topK: number;
  topP: number;
  argmax?: boolean;
  prime: string;
  seed: number;
  count: number;
}

export function registerSample(program: Command): void {
  addBackendOptions(
    program
      .command('sample')
      .description('generate text from a checkpoint directory')
      .argument('<dir>', 'checkpoint directory (a run directory)')
      .option('--length <n>', 'characters to generate', integer(0, 100_000_000), 500)
      .option(
        '--temperature <t>',
        'softmax temperature; 0 = always the most likely character (default: 1)',
        number(0, 1e6),
      )
      .option('--top-k <k>', 'sample only among the k most likely characters; 0 = all', integer(0), 0)
      .option(
        '--top-p <p>',
        'sample only among the most likely characters whose probability reaches p (nucleus)',
        number(0, 1),
        1,
      ) // 0 is refused by validateSampleOptions: in (0, 1]
      .option('--argmax', 'always pick the most likely character (temperature 0)')
      .option('--prime <text>', 'text to start from (printed first)', '')
      .option('--seed <n>', 'random seed', integer(0), 1)
      .option('--count <n>', 'independent samples, generated together in one batch', integer(1, 4096), 1),
  ).action(async (dir: string, flags: SampleFlags) => {
    const options = flags.count > 1 ? checkHeldSize(flags) : validateSampleOptions(flags); // refused before loading
    const { model, vocab } = loadModel(dir, await backendFrom(flags));
    vocab.encode(options.prime, 'the prime text'); // refuses an unknown character before anything is printed
    if (options.count === 1) {
      // Stream: each character is written as soon as it is drawn.
      process.stdout.write(options.prime);
      for (const [ch] of generate(model, vocab, options)) process.stdout.write(ch!);
      process.stdout.write('\n');
      return;
    }
    // Generated together, printed one after another: held compactly (with a stated limit), written in pieces.
    const held = generateHeld(model, vocab, options);
    for (let b = 0; b < options.count; b++) {
      process.stdout.write(`${b ? '\n' : ''}--- sample ${b + 1} of ${options.count} ---\n${options.prime}`);
      for (const piece of heldSamplePieces(vocab, held, b)) process.stdout.write(piece);
      process.stdout.write('\n');
    }
  });
}
