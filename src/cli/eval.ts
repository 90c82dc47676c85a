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
import { optionName } from '../train/config.js';
import { evaluateSynthetic, formatSyntheticScore } from '../tasks/synthetic/evaluate.js';
import { SYNTHETIC_TASKS } from '../tasks/synthetic/model-file.js';
import { loadRecogniser } from '../tasks/ctc/model-file.js';
import { evaluateRecogniser } from '../tasks/ctc/recognise.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer } from './parse.js';
import { type DecodeFlags, addDecodeOptions, decodeOptionsFrom } from './transcribe.js';

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
          'lm: a UTF-8 text file; classify: JSON Lines or TSV examples; ctc: a directory with transcripts.tsv and WAV files; adding, copy: none (a test set is generated)',
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
    const decoding = ['beam', 'lm', 'lmWeight'].find((key) => flags[key as keyof DecodeFlags] !== undefined);
    if (decoding && task !== 'ctc')
      throw invalidOption(
        `${optionName(decoding)} applies to a speech recogniser (task ctc), not a model of task ${task}`,
      );
    if ((SYNTHETIC_TASKS as readonly string[]).includes(task)) {
      if (file)
        throw invalidOption(
          `${dir} holds a model of task ${task}, scored on generated sequences; remove the FILE argument`,
        );
      const score = evaluateSynthetic(dir, await backendFrom(flags), flags.seed, flags.sequences);
      console.log(flags.json ? JSON.stringify(score) : formatSyntheticScore(score));
      return;
    }
    if (!file) throw invalidOption(`rnnkit eval ${dir} needs a FILE to score the ${task} model on`);
    if (task === 'ctc') {
      const backend = await backendFrom(flags);
      const recogniser = loadRecogniser(dir, backend);
      const options = decodeOptionsFrom(flags, recogniser, backend);
      const score = evaluateRecogniser(recogniser, file, options);
      options.dispose();
      console.log(
        flags.json
          ? JSON.stringify(score)
          : `loss ${score.loss.toFixed(4)} nats/label  CER ${(score.cer * 100).toFixed(2)} %  WER ${(score.wer * 100).toFixed(2)} %  (${score.utterances} utterances)`,
      );
      return;
    }
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
