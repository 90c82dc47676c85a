// train() in a browser: the loop runs in a Web Worker, so the page never freezes; events arrive as an async
// iterator (the Node API's TrainEvent stream: start, progress, step, validation, sample), an AbortSignal (or
// abort()) stops after the current step, and the result carries the model's model.safetensors.
import type { WasmBuild } from '../backend/wasm-backend.js';
import { RnnkitError } from '../errors.js';
import { EventQueue } from '../train/event-queue.js';
import type { TrainConfig } from '../train/config.js';
import type { TrainEvent } from '../train/trainer.js';
import type { FromWorker, ToWorker, WebTrainResult } from './protocol.js';
import { memoryTrainConfig } from './trainer.js';
import { wasmThreads } from './wasm.js';
import { type WebWorker, type WebWorkerConstructor, webWorkersAvailable } from './web-worker.js';

export interface WebTrainOptions {
  text: string;
  /** Settings over DEFAULT_TRAIN_CONFIG (the language model). */
  config?: Partial<TrainConfig>;
  /** 'wasm' (default) or 'reference'. */
  backend?: 'wasm' | 'reference';
  /** Which wasm build (default 'auto': relaxed SIMD where the browser has it). */
  build?: WasmBuild | 'auto';
  /** WebAssembly threads (default: wasmThreads().threads, all cores where the page is cross-origin isolated;
   *  one otherwise). The result's start event says how many ran (backend.threads). */
  threads?: number;
  signal?: AbortSignal;
  /** The worker script, when it is not where this module expects it (default: worker.js beside this module,
   *  or the worker a bundler built from it). */
  workerUrl?: string | URL;
}

export interface WebTrainingHandle extends AsyncIterable<TrainEvent> {
  /** Resolves when training ends (finished, stopped early or aborted); rejects on failure. */
  readonly result: Promise<WebTrainResult>;
  /** Stop after the current step; `result` still resolves, with the weights reached. */
  abort(): void;
}

declare const Worker: WebWorkerConstructor;

/** Starts training in a Web Worker. Every failure, a bad option included, rejects `result` (and the iterator,
 *  after the events before it); train() itself does not throw. Leaving a `for await` loop early aborts. */
export function train(options: WebTrainOptions): WebTrainingHandle {
  const events = new EventQueue<TrainEvent, WebTrainResult>();
  let worker: WebWorker<ToWorker, FromWorker> | null = null;
  const end = (): void => worker?.terminate();
  const abort = (): void => {
    if (!events.ended) worker?.postMessage({ kind: 'abort' });
  };
  try {
    memoryTrainConfig(options.config); // a bad setting fails before a worker starts
    if (!webWorkersAvailable())
      throw new Error('train(): this environment has no Web Workers (in Node, use train() from rnnkit)');
    worker = options.workerUrl
      ? new Worker(options.workerUrl, { type: 'module', name: 'rnnkit-train' })
      : new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: 'rnnkit-train' }); // see web-worker.ts
    worker.onmessage = ({ data }) => {
      if (data.kind === 'event') return events.push(data.event);
      if (data.kind === 'done') events.finish(data.result);
      else events.fail(data.code ? new RnnkitError(data.code, data.message) : new Error(data.message));
      end();
    };
    worker.onerror = (event) => {
      event.preventDefault?.();
      events.fail(
        new Error(
          `the training worker failed to run: ${event.message ?? 'no message (is worker.js served beside this module?)'}`,
        ),
      );
      end();
    };
    worker.postMessage({
      kind: 'start',
      text: options.text,
      config: options.config ?? {},
      backend: options.backend ?? 'wasm',
      build: options.build ?? 'auto',
      threads: options.threads ?? wasmThreads().threads,
      aborted: options.signal?.aborted ?? false,
    });
    options.signal?.addEventListener('abort', abort, { once: true });
  } catch (error) {
    events.fail(error);
  }
  return { result: events.result, abort, [Symbol.asyncIterator]: () => events.iterate(abort) };
}
