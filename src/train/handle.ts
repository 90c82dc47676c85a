// train(): the library entry point for servers. The loop runs in a worker thread, so the host's event loop
// stays responsive; progress arrives as an async iterator of events; an AbortSignal (or abort()) or a time
// limit saves a checkpoint and stops cleanly.
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../backend/types.js';
import { requestedBackend } from '../backend/index.js';
import { type ErrorCode, RnnkitError, invalidOption } from '../errors.js';
import { TASK_DEFAULTS } from '../tasks/index.js';
import {
  DEFAULT_TRAIN_CONFIG,
  TRAIN_CONFIG_KEYS,
  type TrainConfig,
  refuseUnknownKeys,
  validateTrainConfig,
} from './config.js';
import { refuseIneffective } from './ineffective.js';
import { EventQueue } from './event-queue.js';
import type { TrainEvent, TrainResult } from './trainer.js';

export interface TrainOptions {
  /** The text to train on; or `file`; neither: the built-in corpus. */
  text?: string;
  file?: string;
  /** Settings over DEFAULT_TRAIN_CONFIG and the task's defaults (TASK_DEFAULTS). */
  config?: Partial<TrainConfig>;
  /** The run directory (required unless resuming). */
  out?: string;
  initFrom?: string;
  /** Replace the run in `out` (rnnkit's files only; a directory holding others is refused). */
  force?: boolean;
  /** Continue the run saved in this directory (with its own settings), up to `steps` if given. */
  resume?: string;
  steps?: number;
  backend?: BackendName | 'auto';
  threads?: number;
  signal?: AbortSignal;
  /** Wall-clock seconds from this call after which the run stops as an abort does (a fresh run or a resume). */
  timeLimitSeconds?: number;
}

export type WorkerMessage =
  | { kind: 'event'; event: TrainEvent }
  | { kind: 'done'; result: TrainResult }
  | { kind: 'error'; message: string; code: ErrorCode | undefined };

/** The worker's options: the checked config over the defaults, whether the signal had already fired, and
 *  the time limit as a deadline (Date.now()'s milliseconds). */
export type WorkerData = Omit<TrainOptions, 'signal' | 'config' | 'timeLimitSeconds'> & {
  config: TrainConfig;
  aborted: boolean;
  deadline?: number;
};

export interface TrainingHandle extends AsyncIterable<TrainEvent> {
  /** Resolves when training ends (finished, stopped early or aborted after saving); rejects on failure. */
  readonly result: Promise<TrainResult>;
  /** Save a checkpoint and stop after the current step. */
  abort(): void;
}

/** The compiled worker; under a TypeScript test runner (src/*.ts) the built one in dist/. */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/train/worker.js', import.meta.url)
    : new URL('./worker.js', import.meta.url);
}

/** Every key TrainOptions may have. */
const TRAIN_OPTION_KEYS = [
  'text',
  'file',
  'config',
  'out',
  'initFrom',
  'force',
  'resume',
  'steps',
  'backend',
  'threads',
  'signal',
  'timeLimitSeconds',
];

/** The type each option must have (checked at run time: JavaScript callers have no compiler to tell them). */
const OPTION_TYPES: Record<string, 'string' | 'number' | 'boolean' | 'object'> = {
  text: 'string',
  file: 'string',
  config: 'object',
  out: 'string',
  initFrom: 'string',
  force: 'boolean',
  resume: 'string',
  steps: 'number',
  backend: 'string',
  threads: 'number',
  signal: 'object',
  timeLimitSeconds: 'number',
};

function checkOptionTypes(options: TrainOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw new TypeError('train(): options must be an object');
  for (const [key, value] of Object.entries(options)) {
    const expected = OPTION_TYPES[key];
    if (value === undefined || expected === undefined) continue;
    const actual = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
    if (actual !== expected)
      throw new TypeError(
        `train(): ${key} must be ${expected === 'object' ? 'an object' : `a ${expected}`}, got ${actual}`,
      );
  }
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw new TypeError('train(): signal must be an AbortSignal');
}

/** What the worker is given, after every check that needs no data: a bad option fails before a thread starts. */
function workerDataOf(options: TrainOptions): WorkerData {
  checkOptionTypes(options);
  const { signal, timeLimitSeconds, ...rest } = options;
  refuseUnknownKeys(options, TRAIN_OPTION_KEYS, 'train()');
  requestedBackend({ backend: rest.backend });
  const stops = { aborted: signal?.aborted ?? false, ...deadlineOf(timeLimitSeconds) };
  if (rest.resume) {
    if (rest.config) throw invalidOption('train(): `resume` takes every setting from the checkpoint; remove `config`');
    return { ...rest, config: DEFAULT_TRAIN_CONFIG, ...stops };
  }
  if (!rest.out) throw invalidOption('train(): `out` (the run directory) is required');
  refuseUnknownKeys(rest.config ?? {}, TRAIN_CONFIG_KEYS, 'config');
  // The task's own defaults (a classifier's differ from min-char-rnn's), then what the caller set.
  const task = rest.config?.task ?? DEFAULT_TRAIN_CONFIG.task;
  const config = validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, ...TASK_DEFAULTS[task], ...rest.config });
  if (!rest.initFrom) refuseIneffective(config, (key) => rest.config?.[key] !== undefined); // else the worker checks the checkpoint's shape
  return { ...rest, config, ...stops };
}

/** The time limit as a deadline, counted from now (the train() call). */
function deadlineOf(timeLimitSeconds: number | undefined): { deadline?: number } {
  if (timeLimitSeconds === undefined) return {};
  if (!(Number.isFinite(timeLimitSeconds) && timeLimitSeconds > 0))
    throw invalidOption(`train(): timeLimitSeconds must be a positive number of seconds, got ${timeLimitSeconds}`);
  return { deadline: Date.now() + timeLimitSeconds * 1000 };
}

/**
 * Starts training in a worker thread. Every failure, a bad option included, rejects `result` and the event
 * iterator (after the events that came before it); train() itself does not throw. Leaving a `for await` loop
 * early (break, return, a throw) stops the run and saves it, as abort() does.
 */
export function train(options: TrainOptions): TrainingHandle {
  const events = new EventQueue<TrainEvent, TrainResult>();
  let worker: Worker | null = null;
  const abort = (): void => {
    if (!events.ended) worker?.postMessage({ kind: 'abort' });
  };
  try {
    worker = new Worker(workerUrl(), { workerData: workerDataOf(options) });
    worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'event') events.push(message.event);
      else if (message.kind === 'done') events.finish(message.result);
      else events.fail(message.code ? new RnnkitError(message.code, message.message) : new Error(message.message));
    });
    worker.on('error', (error) => events.fail(error));
    worker.on('exit', (code) => {
      if (!events.ended)
        events.fail(new Error(`the training worker exited with code ${code} before reporting a result`));
    });
    options.signal?.addEventListener('abort', abort, { once: true });
  } catch (error) {
    events.fail(error);
  }
  return {
    result: events.result,
    abort,
    // Leaving the loop early stops the run and saves it (nothing to do when the run has ended).
    [Symbol.asyncIterator]: () => events.iterate(abort),
  };
}
