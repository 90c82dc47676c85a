// The messages between a page's train() (train.ts) and its Web Worker (worker.ts).
import type { WasmBuild } from '../backend/wasm-backend.js';
import type { ErrorCode } from '../errors.js';
import type { TrainConfig } from '../train/config.js';
import type { TrainEvent } from '../train/trainer.js';
import type { MemoryTrainResult } from './trainer.js';

/** What train() resolves to: the run's summary and its model.safetensors. */
export interface WebTrainResult extends MemoryTrainResult {
  /** The trained model's model.safetensors (the CLI's file). */
  model: Uint8Array;
}

export interface StartMessage {
  kind: 'start';
  text: string;
  config: Partial<TrainConfig>;
  backend: 'wasm' | 'reference';
  build: WasmBuild | 'auto';
  /** Threads for the WebAssembly backend (the worker and Web Workers of its own; one without isolation). */
  threads: number;
  /** The caller's signal had fired already: take no step. */
  aborted: boolean;
}

export type ToWorker = StartMessage | { kind: 'abort' };

export type FromWorker =
  | { kind: 'event'; event: TrainEvent }
  | { kind: 'done'; result: WebTrainResult }
  | { kind: 'error'; message: string; code: ErrorCode | undefined };
