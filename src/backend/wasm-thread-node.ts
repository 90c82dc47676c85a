// A worker thread of the WebAssembly backend in Node (see wasm-threads.ts): started by loadWasmBackend with
// threads > 1, one per extra thread.
import { parentPort } from 'node:worker_threads';
import { type ThreadStart, runThread } from './wasm-threads.js';

parentPort?.once('message', (start: ThreadStart) => {
  void runThread(start, (report) => parentPort?.postMessage(report));
});
