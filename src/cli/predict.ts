// `rnnkit predict DIR [TEXT...]`: the label of each input and its probability under a classifier checkpoint.
// Inputs: the TEXT arguments, else the lines of --file, else the lines of standard input (inputsOf, also
// rnnkit translate's).
import type { Command } from 'commander';
import { invalidInput, invalidOption } from '../errors.js';
import { loadClassifier } from '../tasks/classify/model-file.js';
import { classProbabilities, labelOf } from '../tasks/classify/predict.js';
import { STANDARD_INPUT, readBounded } from '../io/read-bounded.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';

interface PredictFlags extends BackendFlags {
  file?: string;
  json?: boolean;
}

/** The TEXT arguments, else the lines of `file`, else the lines of standard input. */
export function inputsOf(texts: string[], file: string | undefined): string[] {
  if (texts.length) return texts;
  return file
    ? linesOf(readBounded(file, 'a text file'), file)
    : linesOf(readBounded(STANDARD_INPUT, 'text'), STANDARD_INPUT);
}

function linesOf(bytes: Buffer, what: string): string[] {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidInput(`${what} is not valid UTF-8 text`);
  }
  return text.split(/\r?\n/).filter((line) => line !== '');
}

export function registerPredict(program: Command): void {
  addBackendOptions(
    program
      .command('predict')
      .description('classify texts with a classifier checkpoint (rnnkit train --task classify)')
      .argument('<dir>', 'checkpoint directory')
      .argument('[text...]', 'texts to classify (default: the lines of --file, else of standard input)')
      .option('--file <path>', 'classify each line of this UTF-8 file')
      .option('--json', 'one JSON object per input: {"label": ..., "probs": {label: probability, ...}}'),
  ).action(async (dir: string, texts: string[], flags: PredictFlags) => {
    if (texts.length && flags.file) throw invalidOption('give texts or --file, not both');
    const classifier = loadClassifier(dir, await backendFrom(flags, (line) => console.error(line)));
    const inputs = inputsOf(texts, flags.file);
    if (inputs.some((text) => text === '')) throw invalidInput('an input text is empty');
    const names = classifier.labels.labels;
    for (const probs of classProbabilities(classifier, inputs)) {
      const label = labelOf(classifier, probs);
      if (flags.json)
        console.log(JSON.stringify({ label, probs: Object.fromEntries(names.map((name, i) => [name, probs[i]])) }));
      else console.log(`${label}\t${probs[names.indexOf(label)]!.toFixed(4)}`);
    }
  });
}
