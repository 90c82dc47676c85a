// The worker thread behind train(): runs the training loop off the main thread and posts its events.
import { resolve } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { selectBackend } from '../backend/index.js';
import { RnnkitError } from '../errors.js';
import { resumeTraining, runTraining } from '../tasks/index.js';
import type { TrainEvent } from './trainer.js';
import type { WorkerData, WorkerMessage } from './handle.js';

const options = workerData as WorkerData;
const port = parentPort!;
const abort = new AbortController();
if (options.aborted) abort.abort(); // the caller's signal had fired: save the initial checkpoint, take no step
port.on('message', (message: { kind: 'abort' }) => {
  if (message.kind === 'abort') abort.abort();
});

const post = (message: WorkerMessage): void => port.postMessage(message);
const onEvent = (event: TrainEvent): void => post({ kind: 'event', event });

try {
  const { backend } = await selectBackend({ backend: options.backend, threads: options.threads });
  const result = options.resume
    ? await resumeTraining({
        dir: options.resume,
        backend,
        text: options.text,
        steps: options.steps,
        signal: abort.signal,
        deadline: options.deadline,
        onEvent,
      })
    : await runTraining({
        // A file is recorded by its absolute path, so that --resume works from any directory.
        text: options.text,
        source: options.file ? resolve(options.file) : undefined,
        config: options.config,
        backend,
        out: options.out!,
        force: options.force,
        initFrom: options.initFrom,
        signal: abort.signal,
        deadline: options.deadline,
        onEvent,
      });
  post({ kind: 'done', result });
} catch (error) {
  post({
    kind: 'error',
    message: error instanceof Error ? error.message : String(error),
    code: error instanceof RnnkitError ? error.code : undefined,
  });
}
port.close();
