// The WebAssembly backend in Node: finds rnnkit.wasm (or its relaxed-SIMD build) in the package's build/wasm/
// and instantiates it, with worker_threads for threads > 1. The backend itself is in wasm-backend.ts, which
// the browser entry (src/web) shares.
import { MessageChannel, Worker, type WorkerOptions } from 'node:worker_threads';
import type { SpawnThread, ThreadReport } from './wasm-threads.js';
import {
  REBUILD,
  type WasmBackend,
  type WasmBuild,
  type WasmThreadOptions,
  describe,
  instantiateWasmBackend,
  wasmFileOf,
  wasmRelaxedSimdSupported,
} from './wasm-backend.js';

export * from './wasm-backend.js';

/**
 * Instantiates rnnkit.wasm. `bytes`: the module; without it, the file is read from `<package root>/build/wasm/`:
 * `build` 'auto' (the default) takes rnnkit.relaxed.wasm when the runtime supports relaxed SIMD and that file
 * exists, else rnnkit.wasm; 'simd' or 'relaxed' ask for one (asking for 'relaxed' where it cannot run is an
 * error). `threads` (default 1): threads to split the large kernels over, the caller's included (worker_threads
 * sharing the module's memory; results are the same bits for any count). Throws an Error saying why when the
 * module is missing or invalid; workers that fail to start leave the backend on one thread (threadsReason).
 */
export async function loadWasmBackend(
  options: { bytes?: Uint8Array; build?: WasmBuild | 'auto' } & WasmThreadOptions = {},
): Promise<WasmBackend> {
  const build = options.build ?? 'auto';
  const file = wasmFileOf(build);
  if (build === 'relaxed' && !options.bytes && !wasmRelaxedSimdSupported()) {
    throw new Error(
      'wasm backend: the relaxed-SIMD build needs a runtime with relaxed SIMD (on Node 20: node --experimental-wasm-relaxed-simd)',
    );
  }
  const relaxed = file === 'rnnkit.relaxed.wasm';
  const bytes =
    options.bytes ??
    (relaxed ? await readPackagedWasm(file, build === 'auto') : null) ??
    (await readPackagedWasm('rnnkit.wasm'));
  return instantiateWasmBackend(bytes, { spawn: spawnNodeThread, ...options });
}

/** The worker thread script (compiled: tests running the TypeScript sources use the built one). */
export function threadScript(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../../dist/backend/wasm-thread-node.js', import.meta.url)
    : new URL('./wasm-thread-node.js', import.meta.url);
}

/** Starts worker_threads workers that run `script` (default: the backend's own, threadScript()), each given
 *  `options` (tests start scripts that die with it); unref'd, so that a process does not stay alive for them. */
export function nodeThreadSpawner(script: URL = threadScript(), options: WorkerOptions = {}): SpawnThread {
  return (_index, report) => {
    // Posting to a port whose other end is gone returns false (Node, undocumented: anything else reads as
    // running), which a caller blocked in Atomics.wait can see; the worker's 'exit' event needs the event loop.
    const { port1, port2 } = new MessageChannel();
    const workerData = { ...(options.workerData as object | undefined), probes: port2 };
    const worker = new Worker(script, { ...options, workerData, transferList: [port2] });
    worker.on('message', (message: ThreadReport) => report(message));
    worker.on('error', (error) => report({ kind: 'failed', message: describe(error) }));
    worker.on('exit', (code) => report({ kind: 'failed', message: `it exited with code ${code}` }));
    worker.unref(); // after the listeners, which would ref it again
    port1.unref();
    return {
      postMessage: (message) => worker.postMessage(message),
      terminate: () => void worker.terminate(),
      running: () => (port1.postMessage(null) as unknown) !== false,
    };
  };
}

/** The backend's worker threads in Node. */
export const spawnNodeThread: SpawnThread = nodeThreadSpawner();

/** A module built by `npm run build:wasm`, two directories above this file (src/backend or dist/backend).
 *  `optional`: null instead of an error when the file does not exist. */
async function readPackagedWasm(file: string, optional?: false): Promise<Uint8Array>;
async function readPackagedWasm(file: string, optional: boolean): Promise<Uint8Array | null>;
async function readPackagedWasm(file: string, optional = false): Promise<Uint8Array | null> {
  const url = new URL(`../../build/wasm/${file}`, import.meta.url);
  const { readFile } = await import('node:fs/promises');
  try {
    return new Uint8Array(await readFile(url));
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const where = decodeURIComponent(url.pathname);
    if (code === 'ENOENT' && optional) return null;
    if (code === 'ENOENT') throw new Error(`wasm backend not built: ${where} is missing; ${REBUILD}`);
    throw new Error(`wasm backend: cannot read ${where} (${describe(err)}); ${REBUILD}`);
  }
}
