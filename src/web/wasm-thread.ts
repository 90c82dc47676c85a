// A worker thread of the WebAssembly backend in a browser (a module Web Worker; see backend/wasm-threads.ts):
// started by loadWasmBackend with threads > 1 in a cross-origin isolated context, one per extra thread.
import { type ThreadReport, type ThreadStart, runThread } from '../backend/wasm-threads.js';

interface ThreadScope {
  onmessage: ((message: { data: ThreadStart }) => void) | null;
  postMessage(message: ThreadReport): void;
}

const scope = globalThis as unknown as ThreadScope;
scope.onmessage = ({ data }) => {
  scope.onmessage = null;
  void runThread(data, (report) => scope.postMessage(report));
};
