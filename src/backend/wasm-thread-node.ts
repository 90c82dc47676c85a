// A worker thread of the WebAssembly backend in Node (see wasm-threads.ts): started by loadWasmBackend with
// threads > 1, one per extra thread. workerData.probes: the port the caller posts to, to learn whether this
// worker still runs (wasm.ts); its questions are dropped here after the jobs they came during.
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { type ThreadStart, runThread } from './wasm-threads.js';

const probes = (workerData as { probes?: MessagePort } | null)?.probes;
const drainProbes = probes
  ? () => {
      while (receiveMessageOnPort(probes) !== undefined);
    }
  : undefined;

parentPort?.once('message', (start: ThreadStart) => {
  void runThread(start, (report) => parentPort?.postMessage(report), drainProbes);
});
