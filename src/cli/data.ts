// `rnnkit data speech-digits --out DIR --count N`: synthesised spoken digit strings (eSpeak NG in WebAssembly)
// with a train/test split by voice, for `rnnkit train --task ctc DIR/train` and `rnnkit eval RUN DIR/test`.
import { existsSync, readdirSync } from 'node:fs';
import type { Command } from 'commander';
import { invalidOption } from '../errors.js';
import { writeSpeechDigits } from '../speech/digits.js';
import { loadSpeaker } from '../speech/espeak.js';
import { integer, number } from './parse.js';

interface DataFlags {
  out: string;
  count: number;
  seed: number;
  testFraction: number;
}

export function registerData(program: Command): void {
  const data = program.command('data').description('make a data set');
  data
    .command('speech-digits')
    .description(
      'synthesise spoken digit strings with eSpeak NG: 16 kHz WAV files, DIR/{train,test}/transcripts.tsv (test voices never in train)',
    )
    .requiredOption('--out <dir>', 'output directory (must not exist or be empty)')
    .option('--count <n>', 'utterances in all', integer(1, 1_000_000), 2000)
    .option('--seed <n>', 'random seed', integer(0), 1)
    .option('--test-fraction <f>', 'share of the utterances in the held-out-voice test part', number(0, 1), 0.2)
    .action(async (flags: DataFlags) => {
      if (existsSync(flags.out) && readdirSync(flags.out).length > 0)
        throw invalidOption(`--out ${flags.out}: the directory is not empty`);
      const speaker = await loadSpeaker();
      const started = Date.now();
      const utterances = writeSpeechDigits(flags.out, speaker, flags, (done) => {
        if (done % 100 === 0) process.stderr.write(`\r${done}/${flags.count} utterances`);
      });
      const test = utterances.filter((u) => u.file.startsWith('test/')).length;
      process.stderr.write('\n');
      console.log(
        `${flags.out}: ${utterances.length - test} training and ${test} test utterances in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
    });
}
