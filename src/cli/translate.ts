// `rnnkit translate DIR [INPUT...]`: the output of a seq2seq checkpoint for each input (the INPUT arguments,
// else the lines of --file, else the lines of standard input): greedy (--beam 1) or beam search, --nbest
// lists with scores, --attention matrices, --json objects. Inputs are read and checked before any output.
import type { Command } from 'commander';
import { invalidOption } from '../errors.js';
import { loadTranslator } from '../tasks/seq2seq/model-file.js';
import { DEFAULT_BEAM, type TranslateOptions, translate } from '../tasks/seq2seq/translate.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer, number } from './parse.js';
import { inputsOf } from './predict.js';

export interface DecodeFlags {
  beam: number;
  lengthPenalty: number;
  maxLength?: number;
  nbest?: number;
}

interface TranslateFlags extends BackendFlags, DecodeFlags {
  file?: string;
  json?: boolean;
  attention?: boolean;
}

/** --beam, --length-penalty, --max-length (translate and eval). */
export function addDecodeOptions(command: Command): Command {
  return command
    .option('--beam <k>', 'seq2seq: beam width; 1 = greedy decoding', integer(1, 1000), DEFAULT_BEAM)
    .option(
      '--length-penalty <a>',
      'seq2seq: GNMT length normalisation α, score = log P / ((5 + |Y|)/6)^α',
      number(0, 10),
      0,
    )
    .option(
      '--max-length <n>',
      'seq2seq: most output tokens (default: 10 more than the longest training target)',
      integer(1, 100_000),
    );
}

export const decodeFlags = (flags: DecodeFlags): TranslateOptions => ({
  beam: flags.beam,
  lengthPenalty: flags.lengthPenalty,
  ...(flags.maxLength !== undefined ? { maxLength: flags.maxLength } : {}),
  ...(flags.nbest !== undefined ? { nbest: flags.nbest } : {}),
});

const fixed = (x: number): string => x.toFixed(4);

export function registerTranslate(program: Command): void {
  addBackendOptions(
    addDecodeOptions(
      program
        .command('translate')
        .description('translate inputs with a sequence-to-sequence checkpoint (rnnkit train --task seq2seq)')
        .argument('<dir>', 'checkpoint directory')
        .argument('[input...]', 'inputs to translate (default: the lines of --file, else of standard input)')
        .option('--file <path>', 'translate each line of this UTF-8 file'),
    )
      .option('--nbest <n>', 'print the n best outputs with their scores (n ≤ --beam)', integer(1, 1000))
      .option('--attention', 'print the attention matrix of each output (rows: output tokens and </s>)')
      .option('--json', 'one JSON object per input: {"input", "output", "score", "unknown"[, "nbest"][, "attention"]}'),
  ).action(async (dir: string, texts: string[], flags: TranslateFlags) => {
    if (texts.length && flags.file) throw invalidOption('give inputs or --file, not both');
    if (flags.nbest !== undefined && flags.nbest > flags.beam)
      throw invalidOption(`--nbest ${flags.nbest} is more than the beam holds (--beam ${flags.beam})`);
    const translator = loadTranslator(dir, await backendFrom(flags, (line) => console.error(line)));
    const inputs = inputsOf(texts, flags.file);
    const results = translate(translator, inputs, { ...decodeFlags(flags), attention: flags.attention ?? false });
    results.forEach((r, i) => {
      if (flags.json) {
        console.log(JSON.stringify(r));
        return;
      }
      if (r.unknown.length)
        console.error(
          `rnnkit: input ${i + 1}: ${r.unknown.map((t) => JSON.stringify(t)).join(', ')} never occurred in training; read as the unknown entry`,
        );
      if (r.nbest) {
        for (const c of r.nbest) console.log(`${fixed(c.score)}\t${c.output}`);
        if (i + 1 < results.length) console.log('');
      } else console.log(r.output);
      if (r.attention) {
        const { source, target, weights } = r.attention;
        const width = Math.max(4, ...target.map((t) => t.length));
        console.log(`${''.padEnd(width)} ${source.map((s) => s.padStart(5)).join(' ')}`);
        weights.forEach((row, r) =>
          console.log(`${target[r]!.padEnd(width)} ${row.map((w) => w.toFixed(2).padStart(5)).join(' ')}`),
        );
      }
    });
  });
}
