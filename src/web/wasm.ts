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

export interface WebWasmOptions {
  /** 'auto' (default): the relaxed-SIMD build where the browser has relaxed SIMD, else the plain one. */
  build?: WasmBuild | 'auto';
  /** Where the module is, when a bundler or a server moved it (default: build/wasm/ of the package). */
  url?: string | URL;
  /** The module's bytes, when the caller has them already. */
  bytes?: Uint8Array | ArrayBuffer;
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

/** Instantiates rnnkit's WebAssembly backend (one thread). */
export async function loadWasmBackend(options: WebWasmOptions = {}): Promise<WasmBackend> {
  if (options.bytes)
    return instantiateWasmBackend(options.bytes instanceof Uint8Array ? options.bytes : new Uint8Array(options.bytes));
  return instantiateWasmBackend(await fetchBytes(options.url ?? wasmUrl(wasmFileOf(options.build))));
}

/** Whether this page could share WebAssembly memory between workers (cross-origin isolated, SharedArrayBuffer). */
export function sharedMemoryAvailable(): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean; SharedArrayBuffer?: unknown };
  return typeof g.SharedArrayBuffer === 'function' && g.crossOriginIsolated !== false;
}

/** The threads the WebAssembly backend uses here, and why. */
export function wasmThreads(): { threads: number; reason: string } {
  return { threads: 1, reason: wasmThreadsReason(sharedMemoryAvailable()) };
}
