// `rnnkit eval DIR FILE`: cross-entropy, bits per character and perplexity of a text under a checkpoint.
import type { Command } from 'commander';
import { readText } from '../data/corpus.js';
import { loadModel } from '../io/checkpoint.js';
import { evaluate } from '../train/evaluate.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer } from './parse.js';

interface EvalFlags extends BackendFlags {
  json?: boolean;
  chunk: number;
}

export function registerEval(program: Command): void {
  addBackendOptions(
    program
      .command('eval')
      .description('score a text: mean cross-entropy of each next character given all before it')
      .argument('<dir>', 'checkpoint directory')
      .argument('<file>', 'UTF-8 text file')
      .option('--json', 'print one JSON object')
      .option('--chunk <n>', 'characters per forward chunk (does not change the result)', integer(1, 1_000_000), 256),
  ).action(async (dir: string, file: string, flags: EvalFlags) => {
    const { model, vocab } = loadModel(dir, await backendFrom(flags));
    const result = evaluate(model, vocab, readText(file), flags.chunk);
    if (flags.json) console.log(JSON.stringify(result));
    else console.log(`loss ${result.loss.toFixed(4)} nats/char  bpc ${result.bpc.toFixed(4)}  perplexity ${result.perplexity.toFixed(3)}  (${result.characters} characters)`);
  });
}
