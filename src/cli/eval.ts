// `rnnkit eval DIR FILE`: a language model's cross-entropy, bits per character and perplexity of a text; a
// classifier's loss, accuracy, macro-F1, per-class precision/recall and confusion matrix on labelled examples.
import type { Command } from 'commander';
import { readText } from '../data/corpus.js';
import { checkpointTask, loadModel } from '../io/checkpoint.js';
import { readClassifyFile } from '../tasks/classify/dataset.js';
import { formatClassificationMetrics } from '../tasks/classify/metrics.js';
import { loadClassifier } from '../tasks/classify/model-file.js';
import { evaluateClassifier } from '../tasks/classify/predict.js';
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
      .description('score a checkpoint: a language model on a text (cross-entropy of each next character), a classifier on labelled examples')
      .argument('<dir>', 'checkpoint directory')
      .argument('<file>', 'lm: a UTF-8 text file; classify: JSON Lines or TSV examples')
      .option('--json', 'print one JSON object')
      .option('--chunk <n>', 'characters per forward chunk (does not change the result)', integer(1, 1_000_000), 256),
  ).action(async (dir: string, file: string, flags: EvalFlags) => {
    if (checkpointTask(dir) === 'classify') {
      const metrics = evaluateClassifier(loadClassifier(dir, await backendFrom(flags)), readClassifyFile(file));
      console.log(flags.json ? JSON.stringify(metrics) : formatClassificationMetrics(metrics));
      return;
    }
    const { model, vocab } = loadModel(dir, await backendFrom(flags));
    const result = evaluate(model, vocab, readText(file), flags.chunk);
    if (flags.json) console.log(JSON.stringify(result));
    else console.log(`loss ${result.loss.toFixed(4)} nats/char  bpc ${result.bpc.toFixed(4)}  perplexity ${result.perplexity.toFixed(3)}  (${result.characters} characters)`);
  });
}
