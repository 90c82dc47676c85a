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
import { invalidOption } from '../errors.js';
import { evaluateSynthetic, formatSyntheticScore } from '../tasks/synthetic/evaluate.js';
import { SYNTHETIC_TASKS } from '../tasks/synthetic/model-file.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer } from './parse.js';
import { type DecodeFlags, addDecodeOptions, decodeFlags } from './translate.js';
import { CMUDICT, cmudictSplit, loadCmudict } from '../tasks/seq2seq/cmudict.js';
import { loadTranslator } from '../tasks/seq2seq/model-file.js';
import { readPairsFile } from '../tasks/seq2seq/pairs.js';
import { evaluateTranslator } from '../tasks/seq2seq/translate.js';

interface EvalFlags extends BackendFlags, DecodeFlags {
  json?: boolean;
  chunk: number;
  seed: number;
  sequences: number;
}

export function registerEval(program: Command): void {
  addBackendOptions(
    addDecodeOptions(
      program
        .command('eval')
        .description(
          'score a checkpoint: a language model on a text (cross-entropy of each next character), a classifier on labelled examples',
        )
        .argument('<dir>', 'checkpoint directory')
        .argument(
          '[file]',
          `lm: a UTF-8 text file; classify: JSON Lines or TSV examples; adding, copy: none (a test set is generated); seq2seq: TSV or JSON Lines pairs (default: the ${CMUDICT} test split)`,
        )
        .option('--json', 'print one JSON object')
        .option('--chunk <n>', 'characters per forward chunk (does not change the result)', integer(1, 1_000_000), 256)
        .option(
          '--seed <n>',
          "adding, copy: the test set's seed (its own stream: never a training batch)",
          integer(0),
          1,
        )
        .option('--sequences <n>', 'adding, copy: test sequences', integer(1, 1_000_000), 2048),
    ),
  ).action(async (dir: string, file: string | undefined, flags: EvalFlags) => {
    const task = checkpointTask(dir);
    if ((SYNTHETIC_TASKS as readonly string[]).includes(task)) {
      if (file)
        throw invalidOption(
          `${dir} holds a model of task ${task}, scored on generated sequences; remove the FILE argument`,
        );
      const score = evaluateSynthetic(dir, await backendFrom(flags), flags.seed, flags.sequences);
      console.log(flags.json ? JSON.stringify(score) : formatSyntheticScore(score));
      return;
    }
    if (task === 'seq2seq') {
      const translator = loadTranslator(dir, await backendFrom(flags, (line) => console.error(line)));
      const data = file ? readPairsFile(file) : cmudictSplit(loadCmudict(), 'test');
      const r = evaluateTranslator(translator, data, decodeFlags(flags));
      if (flags.json) console.log(JSON.stringify(r));
      else
        console.log(
          `${data.source}: loss ${r.loss.toFixed(4)} nats/token  WER ${(100 * r.wer).toFixed(2)} %  PER ${(100 * r.per).toFixed(2)} %  (${r.examples} inputs, beam ${r.beam}, ${Math.round(r.words_per_s)} inputs/s decoding)`,
        );
      return;
    }
    if (!file) throw invalidOption(`rnnkit eval ${dir} needs a FILE to score the ${task} model on`);
    if (task === 'classify') {
      const metrics = evaluateClassifier(loadClassifier(dir, await backendFrom(flags)), readClassifyFile(file));
      console.log(flags.json ? JSON.stringify(metrics) : formatClassificationMetrics(metrics));
      return;
    }
    const { model, vocab } = loadModel(dir, await backendFrom(flags));
    const result = evaluate(model, vocab, readText(file), flags.chunk);
    if (flags.json) console.log(JSON.stringify(result));
    else
      console.log(
        `loss ${result.loss.toFixed(4)} nats/char  bpc ${result.bpc.toFixed(4)}  perplexity ${result.perplexity.toFixed(3)}  (${result.characters} characters)`,
      );
  });
}
