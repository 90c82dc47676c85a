// The tasks rnnkit trains, and the entry points that start or continue a run of any of them. The CLI and
// the library map a task name to its module here and nowhere else.
import type { Backend } from '../backend/types.js';
import { readSource } from '../data/corpus.js';
import { invalidInput } from '../errors.js';
import type { Model } from '../model/model.js';
import { type RunHooks, Run, type ShapeOptions, type TrainConfig, type TrainResult, execute, resumeRun, validateTrainConfig } from '../train/trainer.js';
import type { TrainerState } from '../train/state.js';
import { createLanguageModelRun, restoreLanguageModelRun } from './lm.js';
import type { TaskRun } from './task.js';

export interface TrainRequest extends RunHooks {
  /** The training data as text: the language model's text, or the classifier's JSON Lines / TSV. */
  text: string;
  /** Where the text came from (a path, or a built-in data set's name), recorded for --resume. */
  source?: string;
  config: TrainConfig;
  backend: Backend;
  out: string;
  /** Start from this checkpoint's weights; its shape and vocabulary win, `explicitShape` must agree. */
  initFrom?: string;
  explicitShape?: Partial<ShapeOptions>;
}

function createRun(request: TrainRequest): { run: TaskRun; config: TrainConfig } {
  const config = validateTrainConfig({ ...request.config });
  switch (config.task) {
    case 'lm':
      return createLanguageModelRun({ ...request, config });
    default:
      throw invalidInput(`task ${String(config.task)} cannot be trained yet`);
  }
}

/** Rebuilds a saved run's task around `model`; `text` replaces reading the recorded source. */
function restoreTask(state: TrainerState, model: Model, dir: string, text?: string): TaskRun {
  switch (state.task) {
    case 'lm':
      return restoreLanguageModelRun(model, state.config, state.taskMeta, state.data, text ?? readSource(state.data.source), dir);
    default:
      throw invalidInput(`${dir}: a ${state.task} run cannot be resumed yet`);
  }
}

/** Trains a fresh run in this thread (yielding to the event loop every 50 ms). */
export async function runTraining(request: TrainRequest): Promise<TrainResult> {
  const { run, config } = createRun(request);
  return execute(new Run(run, config, request.out), request, false);
}

/** Continues the run saved in `dir` (its settings, its data) up to `steps` total steps. */
export async function resumeTraining(options: { dir: string; backend: Backend; text?: string; steps?: number } & RunHooks): Promise<TrainResult> {
  const run = resumeRun(options.dir, options.backend, (state, model, dir) => restoreTask(state, model, dir, options.text), options.steps);
  return execute(run, options, true);
}
