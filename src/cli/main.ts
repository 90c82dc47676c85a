// The rnnkit command line: commands, and exit codes (0 ok, 1 failure, 2 usage error).
import { Command, CommanderError } from 'commander';
import { RnnkitError } from '../errors.js';
import { VERSION } from '../version.js';
import { registerBench } from './bench.js';
import { registerData } from './data.js';
import { registerEval } from './eval.js';
import { registerExport } from './export.js';
import { registerGradflow } from './gradflow.js';
import { registerInfo } from './info.js';
import { registerPredict } from './predict.js';
import { registerReport } from './report.js';
import { registerSample } from './sample.js';
import { registerTrain } from './train.js';
import { registerTranslate } from './translate.js';
import { registerTranscribe } from './transcribe.js';

export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** `invocation`: the words after `rnnkit` (recorded in a run's run.json). */
export function buildProgram(invocation: string[] = []): Command {
  const program = new Command('rnnkit')
    .description('Train and run recurrent neural networks (RNN, LSTM, GRU) fast, natively or in WebAssembly.')
    .version(VERSION, '-V, --version', 'print the version of rnnkit')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  registerTrain(program, invocation);
  registerSample(program);
  registerPredict(program);
  registerTranslate(program);
  registerTranscribe(program);
  registerEval(program);
  registerGradflow(program);
  registerInfo(program);
  registerReport(program);
  registerExport(program);
  registerBench(program);
  registerData(program);
  for (const command of program.commands) command.exitOverride().showHelpAfterError('(add --help for usage)');
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram(argv.slice(2)).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; commander already printed its message.
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (error instanceof RnnkitError) {
      console.error(`rnnkit: ${error.message}`);
      return error.code === 'ERR_INVALID_OPTION' ? EXIT_USAGE : EXIT_FAILURE;
    }
    console.error(`rnnkit: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_FAILURE;
  }
}
