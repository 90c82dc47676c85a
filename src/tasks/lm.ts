// The character language model as a task (its steps: lm-run.ts): creating a run (fresh or --init-from), saving
// its model to a run directory, and restoring it for --resume.
import type { Backend } from '../backend/types.js';
import { Vocabulary } from '../data/vocab.js';
import { invalidInput, invalidOption } from '../errors.js';
import { loadModel, saveModel } from '../io/checkpoint.js';
import { Model } from '../model/model.js';
import { checkWorkspaceSize } from '../model/workspace.js';
import type { ShapeOptions, TrainConfig } from '../train/config.js';
import { LanguageModelSteps, newLanguageModel, textHash, textSource } from './lm-run.js';
import type { DataSource, TaskRun } from './task.js';

export { textHash } from './lm-run.js';

/** The language model's run, saving to a run directory. */
export class LanguageModelRun extends LanguageModelSteps implements TaskRun {
  saveModel(dir: string): void {
    saveModel(dir, this.model, this.vocab);
  }
}

export interface LanguageModelRequest {
  text: string;
  /** Where the text came from (a path, or the built-in corpus' name), recorded for --resume. */
  source?: string;
  config: TrainConfig;
  backend: Backend;
  /** Start from this checkpoint's weights; its shape and vocabulary win, `explicitShape` must agree. */
  initFrom?: string;
  explicitShape?: Partial<ShapeOptions>;
}

/** A fresh language-model run: the vocabulary from the text, a new (or --init-from) model. Also returns
 *  the settings in effect (with --init-from, the checkpoint's shape). */
export function createLanguageModelRun(request: LanguageModelRequest): { run: LanguageModelRun; config: TrainConfig } {
  const { backend, text, config } = request;
  let model: Model,
    vocab: Vocabulary,
    effective = config;
  if (request.initFrom) {
    ({ model, vocab } = loadModel(request.initFrom, backend));
    for (const [key, value] of Object.entries(request.explicitShape ?? {})) {
      const actual = model.config[key as keyof ShapeOptions];
      if (value !== undefined && value !== actual) {
        throw invalidOption(
          `--${key} ${String(value)} disagrees with the checkpoint in ${request.initFrom}, which has ${key} ${String(actual)}`,
        );
      }
    }
    const { cell, nonlinearity, hidden, layers, embed } = model.config;
    effective = { ...config, cell, nonlinearity, hidden, layers, embed };
    checkWorkspaceSize(model.config, config.seq, config.batch);
  } else {
    ({ model, vocab } = newLanguageModel(backend, text, config));
  }
  const tokens = vocab.encode(text, 'the training text');
  const data = textSource(text, request.source);
  return { run: new LanguageModelRun(model, vocab, effective, data, tokens), config: effective };
}

/** Rebuilds a saved language-model run's data side on `text` (checked against the recorded fingerprint). */
export function restoreLanguageModelRun(
  model: Model,
  config: TrainConfig,
  meta: Record<string, unknown>,
  data: DataSource,
  text: string,
  dir: string,
): LanguageModelRun {
  if (textHash(text) !== data.hash || text.length !== data.size) {
    throw invalidInput(
      `the training text (${data.source}) changed since the checkpoint in ${dir} was written (${text.length} characters, fingerprint ${textHash(text)}; expected ${data.size}, ${data.hash})`,
    );
  }
  const vocab = new Vocabulary(meta['vocab'] as string[]);
  return new LanguageModelRun(model, vocab, config, data, vocab.encode(text, 'the training text'));
}
