// train(): the library entry point for servers. The loop runs in a worker thread, so the host's event loop
// stays responsive; progress arrives as an async iterator of events; an AbortSignal (or abort()) saves a
// checkpoint and stops cleanly.
import { Worker } from 'node:worker_threads';
import type { BackendName } from '../backend/types.js';
import { type ErrorCode, RnnkitError } from '../errors.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './config.js';
import type { TrainEvent, TrainResult } from './trainer.js';

export interface TrainOptions {
  /** The text to train on; or `file`; neither: the built-in corpus. */
  text?: string;
  file?: string;
  /** Settings over DEFAULT_TRAIN_CONFIG. */
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
}

export type WorkerMessage =
  | { kind: 'event'; event: TrainEvent }
  | { kind: 'done'; result: TrainResult }
  | { kind: 'error'; message: string; code: ErrorCode | undefined };

export interface TrainingHandle extends AsyncIterable<TrainEvent> {
  /** Resolves when training ends (finished, stopped early or aborted after saving); rejects on failure. */
  readonly result: Promise<TrainResult>;
  /** Save a checkpoint and stop after the current step. */
  abort(): void;
}

/** The compiled worker; under a TypeScript test runner (src/*.ts) the built one in dist/. */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts') ? new URL('../../dist/train/worker.js', import.meta.url) : new URL('./worker.js', import.meta.url);
}

export function train(options: TrainOptions): TrainingHandle {
  const { signal, ...rest } = options;
  if (!rest.resume && !rest.out) throw new RnnkitError('ERR_INVALID_OPTION', 'train: `out` (the run directory) is required');
  const workerOptions = { ...rest, config: { ...DEFAULT_TRAIN_CONFIG, ...rest.config } };
  const worker = new Worker(workerUrl(), { workerData: workerOptions });
  const queue: TrainEvent[] = [];
  let wake: (() => void) | null = null;
  let finished = false;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  const result = new Promise<TrainResult>((resolve, reject) => {
    worker.on('message', (message: WorkerMessage) => {
      if (message.kind === 'event') queue.push(message.event);
      else if (message.kind === 'done') resolve(message.result);
      else reject(message.code ? new RnnkitError(message.code, message.message) : new Error(message.message));
      notify();
    });
    worker.on('error', reject);
    worker.on('exit', (code) => {
      finished = true;
      notify();
      reject(new Error(`the training worker exited with code ${code} before reporting a result`));
    });
  });
  result.catch(() => {}); // the caller may only iterate; the rejection is still delivered to `result` users
  const abort = (): void => worker.postMessage({ kind: 'abort' });
  if (signal) {
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  }
  return {
    result,
    abort,
    async *[Symbol.asyncIterator]() {
      for (;;) {
        if (queue.length) yield queue.shift()!;
        else if (finished) return;
        else await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}
