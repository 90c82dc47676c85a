// `rnnkit transcribe DIR FILE.wav...`: the text of each WAV file under a speech recogniser's checkpoint
// (rnnkit train --task ctc), greedy or by prefix beam search, optionally fused with a character language model.
import type { Command } from 'commander';
import { invalidOption } from '../errors.js';
import { loadModel } from '../io/checkpoint.js';
import type { Backend } from '../backend/types.js';
import { type Recogniser, loadRecogniser } from '../tasks/ctc/model-file.js';
import { type DecodeOptions, MAX_BEAM, MAX_LM_WEIGHT, decodingWith, transcribe } from '../tasks/ctc/recognise.js';
import { readUtterances } from '../tasks/ctc/recognise-files.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer, number } from './parse.js';

export interface DecodeFlags {
  beam?: number;
  lm?: string;
  lmWeight?: number;
}

interface TranscribeFlags extends BackendFlags, DecodeFlags {
  json?: boolean;
}

/** --beam, --lm, --lm-weight (transcribe and eval). */
export function addDecodeOptions(command: Command): Command {
  return command
    .option('--beam <k>', 'prefix beam search keeping k prefixes (default: greedy; 8 with --lm)', integer(1, MAX_BEAM))
    .option('--lm <dir>', 'shallow fusion with a character language model (rnnkit train --task lm)')
    .option('--lm-weight <x>', 'the language model log-probability weight λ (with --lm)', number(0, MAX_LM_WEIGHT));
}

/** The decoding the flags ask for; with --lm, its fusion model (dispose() it when done). */
export function decodeOptionsFrom(
  flags: DecodeFlags,
  recogniser: Recogniser,
  backend: Backend,
): DecodeOptions & { dispose(): void } {
  if (flags.lmWeight !== undefined && !flags.lm) throw invalidOption('--lm-weight needs --lm DIR');
  if (flags.lm && flags.lmWeight === undefined) throw invalidOption('--lm needs --lm-weight (e.g. 0.5)');
  return decodingWith(
    recogniser,
    flags.beam,
    flags.lm ? { ...loadModel(flags.lm, backend), weight: flags.lmWeight! } : undefined,
  );
}

export function registerTranscribe(program: Command): void {
  addBackendOptions(
    addDecodeOptions(
      program
        .command('transcribe')
        .description(
          'transcribe WAV files with a speech recogniser (rnnkit train --task ctc): one FILE<TAB>TEXT line each',
        )
        .argument('<dir>', 'checkpoint directory')
        .argument('<files...>', 'WAV files (PCM or float, any rate, mono or stereo)'),
    ).option('--json', 'one JSON object per file: file, text, score, seconds, words (word, start, end in seconds)'),
  ).action(async (dir: string, files: string[], flags: TranscribeFlags) => {
    if (flags.lmWeight !== undefined && !flags.lm) throw invalidOption('--lm-weight needs --lm DIR');
    const backend = await backendFrom(flags, (line) => console.error(line));
    const recogniser = loadRecogniser(dir, backend);
    const decoding = decodeOptionsFrom(flags, recogniser, backend);
    // Every file is read (and refused, if broken) before anything is printed.
    const utterances = readUtterances(recogniser, files);
    const results = transcribe(recogniser, utterances, decoding);
    decoding.dispose();
    for (const r of results) {
      if (flags.json)
        console.log(JSON.stringify({ file: r.file, text: r.text, score: r.score, seconds: r.seconds, words: r.words }));
      else console.log(`${r.file}\t${r.text}`);
    }
  });
}
