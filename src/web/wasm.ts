// The WebAssembly backend in a browser (or a Web Worker, or any runtime with fetch): rnnkit.wasm is found
// relative to this module (new URL(..., import.meta.url)), which works from a plain static server serving the
// package and from bundlers that understand that pattern (Vite, webpack 5, esbuild with its file loader).
import {
  type WasmBackend,
  type WasmBuild,
  REBUILD,
  describe,
  instantiateWasmBackend,
  wasmFileOf,
  wasmThreadsReason,
} from '../backend/wasm-backend.js';
import { sharedMemorySupported } from '../backend/wasm-memory.js';
import type { SpawnThread, ThreadReport, ThreadStart } from '../backend/wasm-threads.js';
import { type WebWorker, type WebWorkerConstructor, webWorkersAvailable } from './web-worker.js';

export interface WebWasmOptions {
  /** 'auto' (default): the relaxed-SIMD build where the browser has relaxed SIMD, else the plain one. */
  build?: WasmBuild | 'auto';
  /** Where the module is, when a bundler or a server moved it (default: build/wasm/ of the package). */
  url?: string | URL;
  /** The module's bytes, when the caller has them already. */
  bytes?: Uint8Array | ArrayBuffer;
  /** Threads, the caller's included (default 1): Web Workers sharing the module's memory, where the context
   *  is cross-origin isolated and may block (a worker: train() runs there; a page's main thread may not wait). */
  threads?: number;
  /** Where the thread worker script is, when it is not where this module expects it (default: wasm-thread.js
   *  beside this module, or the worker a bundler built from it). */
  threadUrl?: string | URL;
  /** How long the thread workers may take to start before the backend runs on one thread (default 20 s). */
  startTimeoutMs?: number;
}

/** Where the module of a build is, next to this file in the package (dist/web → build/wasm). */
export const wasmUrl = (file: string): URL => new URL(`../../build/wasm/${file}`, import.meta.url);

async function fetchBytes(url: string | URL): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`wasm backend: cannot fetch ${String(url)} (${describe(err)})`);
  }
  if (!response.ok)
    throw new Error(
      `wasm backend: fetching ${String(url)} gave HTTP ${response.status}; ${REBUILD}, and serve build/wasm/ beside dist/`,
    );
  return new Uint8Array(await response.arrayBuffer());
}

/** Instantiates rnnkit's WebAssembly backend, on `threads` threads where this context allows (else one, its
 *  threadsReason saying why). */
export async function loadWasmBackend(options: WebWasmOptions = {}): Promise<WasmBackend> {
  const bytes = options.bytes
    ? options.bytes instanceof Uint8Array
      ? options.bytes
      : new Uint8Array(options.bytes)
    : await fetchBytes(options.url ?? wasmUrl(wasmFileOf(options.build)));
  return instantiateWasmBackend(bytes, {
    threads: options.threads ?? 1,
    spawn: spawnWebThread(options.threadUrl),
    ...(options.startTimeoutMs !== undefined ? { startTimeoutMs: options.startTimeoutMs } : {}),
    ...(onPageMainThread() ? { threadsRefused: MAIN_THREAD_REFUSED } : {}),
  });
}

const MAIN_THREAD_REFUSED =
  "one thread: a page's main thread may not wait for workers (Atomics.wait); load the backend in a Web Worker (train() does)";

/** A page's main thread (a window), where Atomics.wait is not allowed. */
function onPageMainThread(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

declare const Worker: WebWorkerConstructor;

function spawnWebThread(url: string | URL | undefined): SpawnThread {
  return (index, report) => {
    if (!webWorkersAvailable()) throw new Error('this context has no Web Workers');
    const worker: WebWorker<ThreadStart, ThreadReport> = url
      ? new Worker(url, { type: 'module', name: `rnnkit-wasm-thread-${index + 1}` })
      : new Worker(new URL('./wasm-thread.js', import.meta.url), {
          type: 'module',
          name: `rnnkit-wasm-thread-${index + 1}`,
        }); // see web-worker.ts
    worker.onmessage = ({ data }) => report(data);
    worker.onerror = (event) => {
      event.preventDefault?.();
      report({ kind: 'failed', message: event.message ?? `cannot run ${String(url ?? 'wasm-thread.js')}` });
    };
    return { postMessage: (message) => worker.postMessage(message), terminate: () => worker.terminate() };
  };
}

/** Whether this context could share WebAssembly memory between workers (cross-origin isolated, SharedArrayBuffer). */
export function sharedMemoryAvailable(): boolean {
  return sharedMemorySupported();
}

/** The threads train() runs the WebAssembly backend on here by default (all cores where the page is
 *  cross-origin isolated), and why. */
export function wasmThreads(): { threads: number; reason: string } {
  const threads = sharedMemoryAvailable() ? defaultWebThreads() : 1;
  return { threads, reason: wasmThreadsReason(sharedMemoryAvailable(), threads) };
}

/** The cores the browser reports (at least 1). */
export function defaultWebThreads(): number {
  const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency;
  return typeof cores === 'number' && cores >= 1 ? Math.floor(cores) : 1;
}
