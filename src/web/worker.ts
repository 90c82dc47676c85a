// The Web Worker behind the browser's train(): loads the backend, trains in memory, posts the events and, at
// the end (finished, stopped early or aborted), the summary with the model's bytes.
import { ReferenceBackend } from '../backend/reference.js';
import type { Backend } from '../backend/types.js';
import { RnnkitError } from '../errors.js';
import type { FromWorker, StartMessage, ToWorker } from './protocol.js';
import { MemoryTraining } from './trainer.js';
import { loadWasmBackend } from './wasm.js';

interface WorkerScope {
  onmessage: ((message: { data: ToWorker }) => void) | null;
  postMessage(message: FromWorker, transfer?: ArrayBuffer[]): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope;
const abort = new AbortController();
const post = (message: FromWorker, transfer: ArrayBuffer[] = []): void => scope.postMessage(message, transfer);

async function run(start: StartMessage): Promise<void> {
  if (start.aborted) abort.abort();
  const backend: Backend =
    start.backend === 'reference'
      ? new ReferenceBackend()
      : await loadWasmBackend({ build: start.build, threads: start.threads });
  const training = new MemoryTraining(start.text, backend, start.config);
  const result = await training.train({ signal: abort.signal, onEvent: (event) => post({ kind: 'event', event }) });
  const model = training.run.modelBytes();
  (backend as { dispose?(): void }).dispose?.(); // ends the backend's thread workers
  post({ kind: 'done', result: { ...result, model } }, [model.buffer as ArrayBuffer]);
}

scope.onmessage = ({ data }) => {
  if (data.kind === 'abort') abort.abort();
  else {
    run(data)
      .catch((error: unknown) =>
        post({
          kind: 'error',
          message: error instanceof Error ? error.message : String(error),
          code: error instanceof RnnkitError ? error.code : undefined,
        }),
      )
      .finally(() => scope.close());
  }
};
