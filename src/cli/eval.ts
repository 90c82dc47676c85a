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
import { evaluateRecogniser } from '../tasks/ctc/recognise-files.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer, number } from './parse.js';
import { decodeFlags } from './translate.js';
import { CMUDICT, cmudictSplit, loadCmudict } from '../tasks/seq2seq/cmudict.js';
import { loadTranslator } from '../tasks/seq2seq/model-file.js';
import { readPairsFile } from '../tasks/seq2seq/pairs.js';
import { evaluateTranslator } from '../tasks/seq2seq/evaluate.js';
import { DEFAULT_BEAM } from '../tasks/seq2seq/translate.js';
import { decodeOptionsFrom } from './transcribe.js';

/** The decoding options of translate (seq2seq) and transcribe (ctc), each refused for the other task. */
interface DecodeFlags {
  beam?: number;
  lengthPenalty?: number;
  maxLength?: number;
  lm?: string;
  lmWeight?: number;
}

const DECODE_TASKS: Record<keyof DecodeFlags, readonly string[]> = {
  beam: ['seq2seq', 'ctc'],
  lengthPenalty: ['seq2seq'],
  maxLength: ['seq2seq'],
  lm: ['ctc'],
  lmWeight: ['ctc'],
};

function addDecodeOptions(command: Command): Command {
  return command
    .option(
      '--beam <k>',
      'seq2seq: beam width (default 5; 1 = greedy); ctc: prefix beam search width (default: greedy; 8 with --lm)',
      integer(1, 1000),
    )
    .option('--length-penalty <a>', 'seq2seq: GNMT length normalisation α (default 0)', number(0, 10))
    .option('--max-length <n>', 'seq2seq: most output tokens', integer(1, 100_000))
    .option('--lm <dir>', 'ctc: shallow fusion with a character language model')
    .option('--lm-weight <x>', 'ctc: the language model log-probability weight λ (with --lm)', number(0, 100));
}

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
          `lm: a UTF-8 text file; classify: JSON Lines or TSV examples; seq2seq: TSV or JSON Lines pairs (default: the ${CMUDICT} test split); ctc: a directory with transcripts.tsv and WAV files; adding, copy: none (a test set is generated)`,
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
    const misplaced = (Object.keys(DECODE_TASKS) as (keyof DecodeFlags)[]).find(
      (key) => flags[key] !== undefined && !DECODE_TASKS[key].includes(task),
    );
    if (misplaced)
      throw invalidOption(
        `${optionName(misplaced)} applies to a model of task ${DECODE_TASKS[misplaced].join(' or ')}, not of task ${task}`,
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
    if (task === 'seq2seq') {
      const translator = loadTranslator(dir, await backendFrom(flags, (line) => console.error(line)));
      const data = file ? readPairsFile(file) : cmudictSplit(loadCmudict(), 'test');
      const r = evaluateTranslator(
        translator,
        data,
        decodeFlags({
          beam: flags.beam ?? DEFAULT_BEAM,
          lengthPenalty: flags.lengthPenalty ?? 0,
          maxLength: flags.maxLength,
        }),
      );
      if (flags.json) console.log(JSON.stringify(r));
      else
        console.log(
          `${data.source}: loss ${r.loss.toFixed(4)} nats/token  WER ${(100 * r.wer).toFixed(2)} %  PER ${(100 * r.per).toFixed(2)} %  (${r.examples} inputs, beam ${r.beam}, ${Math.round(r.words_per_s)} inputs/s decoding)`,
        );
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
