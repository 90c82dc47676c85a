// Worker threads for the WebAssembly backend: each worker instantiates the same module on the backend's shared
// memory (its own globals, so its own GEMM scratch) and waits; a kernel call is dispatched as (kernel, part
// count, arguments) written to a control block in that memory. The caller runs part 0 itself, each worker
// w runs part w + 1, and the caller waits (Atomics.wait) until every part is done. Which elements a part
// computes is fixed by the kernels' split (assembly/gemm.ts, cells.ts), so results do not depend on the
// number of threads. No Node-only API here: the worker entries (wasm-thread-node.ts, web/wasm-thread.ts)
// give the environment's Worker and message port.

/** The *Part exports a worker runs, by kernel id (the same list on both sides). */
export const PART_KERNELS = ['gemmPart', 'cellForwardPart', 'cellBackwardPart', 'cellBiasGradPart'] as const;
export type PartKernel = (typeof PART_KERNELS)[number];

/** The control block: Int32 words, then the arguments as float64 (exact for u32 pointers and f32 values). */
const GENERATION = 0; // bumped for every job
const PENDING = 1; // worker parts of the current job not finished yet
const KERNEL = 2;
const PARTS = 3;
const ARG_COUNT = 4;
const STOP = 5;
const FAILED = 6; // parts that threw (the job's result cannot be trusted)
const ARGS_OFFSET = 64;
const MAX_ARGS = 24;
export const CONTROL_BYTES = ARGS_OFFSET + 8 * MAX_ARGS;

/** What a worker is told at start. */
export interface ThreadStart {
  kind: 'start';
  module: unknown;
  memory: unknown;
  /** This worker's part (1, 2, ...). */
  part: number;
  control: number;
  scratch: number;
  scratchBytes: number;
}

/** What a worker says: ready (it waits for jobs now) or why it could not start. */
export type ThreadReport = { kind: 'ready' } | { kind: 'failed'; message: string };

/** The little of a Worker the pool needs, over Node's worker_threads and the browser's Web Workers. */
export interface ThreadHandle {
  postMessage(message: ThreadStart): void;
  terminate(): void;
}

/** Starts worker `index` (0-based); `report` receives its messages and errors (as 'failed'). */
export type SpawnThread = (index: number, report: (report: ThreadReport) => void) => ThreadHandle;

type PartFn = (part: number, parts: number, ...args: number[]) => void;

/** The caller's side: dispatches jobs to the workers and waits for them. */
export class WasmThreadPool {
  readonly #control: Int32Array;
  readonly #args: Float64Array;
  readonly #local: Record<PartKernel, PartFn>;
  readonly #workers: ThreadHandle[];

  constructor(buffer: ArrayBufferLike, control: number, local: Record<PartKernel, PartFn>, workers: ThreadHandle[]) {
    this.#control = new Int32Array(buffer, control, ARGS_OFFSET / 4);
    this.#args = new Float64Array(buffer, control + ARGS_OFFSET, MAX_ARGS);
    this.#local = local;
    this.#workers = workers;
  }

  /** Threads, the caller's included. */
  get threads(): number {
    return this.#workers.length + 1;
  }

  /** Runs parts 0 .. parts-1 of `kernel` (parts <= threads), part 0 on this thread; returns when all are done. */
  run(kernel: PartKernel, parts: number, args: number[]): void {
    const control = this.#control;
    this.#args.set(args);
    control[KERNEL] = PART_KERNELS.indexOf(kernel);
    control[PARTS] = parts;
    control[ARG_COUNT] = args.length;
    Atomics.store(control, PENDING, parts - 1);
    Atomics.add(control, GENERATION, 1); // publishes the job
    Atomics.notify(control, GENERATION);
    let failure: unknown = null;
    try {
      this.#local[kernel](0, parts, ...args);
    } catch (error) {
      failure = error;
    }
    // The workers' parts take about as long as this one: poll briefly, then sleep until the last one is done.
    for (let spin = 0; spin < 20000 && Atomics.load(control, PENDING) !== 0; spin++);
    for (let left = Atomics.load(control, PENDING); left !== 0; left = Atomics.load(control, PENDING)) {
      Atomics.wait(control, PENDING, left);
    }
    if (failure) throw failure;
    if (Atomics.exchange(control, FAILED, 0) !== 0)
      throw new Error(`wasm backend: a worker thread failed in ${kernel}; its output is not valid`);
  }

  /** Stops and terminates the workers. */
  stop(): void {
    Atomics.store(this.#control, STOP, 1);
    Atomics.add(this.#control, GENERATION, 1);
    Atomics.notify(this.#control, GENERATION);
    for (const worker of this.#workers) worker.terminate();
  }
}

/** A worker's side, after `exports` are instantiated on the shared memory: calls `ready` (no job has been
 *  dispatched before it returns: the caller waits for every worker), then serves jobs until stopped (blocks). */
export function serveThread(
  buffer: ArrayBufferLike,
  control: number,
  part: number,
  exports: Record<string, unknown>,
  ready: () => void,
): void {
  const words = new Int32Array(buffer, control, ARGS_OFFSET / 4);
  const args = new Float64Array(buffer, control + ARGS_OFFSET, MAX_ARGS);
  const kernels = PART_KERNELS.map((name) => exports[name] as PartFn);
  let seen = Atomics.load(words, GENERATION);
  ready();
  for (;;) {
    Atomics.wait(words, GENERATION, seen);
    if (Atomics.load(words, STOP) !== 0) return;
    const generation = Atomics.load(words, GENERATION);
    if (generation === seen) continue;
    seen = generation;
    const parts = words[PARTS]!;
    if (part >= parts) continue;
    try {
      kernels[words[KERNEL]!]!(part, parts, ...args.subarray(0, words[ARG_COUNT]!));
    } catch {
      Atomics.add(words, FAILED, 1);
    }
    if (Atomics.sub(words, PENDING, 1) === 1) Atomics.notify(words, PENDING);
  }
}

interface ThreadWasmApi {
  instantiate(module: unknown, imports: object): Promise<{ exports: Record<string, unknown> }>;
}

/** A worker's whole life: instantiates the module on the shared memory with its own GEMM scratch, says ready
 *  (or why it failed) through `report`, then serves jobs until the pool stops (blocks this worker). */
export async function runThread(start: ThreadStart, report: (report: ThreadReport) => void): Promise<void> {
  try {
    const api = (globalThis as { WebAssembly?: ThreadWasmApi }).WebAssembly;
    if (!api) throw new Error('this worker has no WebAssembly');
    const { exports } = await api.instantiate(start.module, { env: { memory: start.memory } });
    const setScratch = exports['setGemmScratch'] as (ptr: number, bytes: number) => number;
    if (setScratch(start.scratch, start.scratchBytes) !== 1) throw new Error('the module refused its GEMM scratch');
    const buffer = (start.memory as { buffer: ArrayBufferLike }).buffer;
    serveThread(buffer, start.control, start.part, exports, () => report({ kind: 'ready' }));
  } catch (error) {
    report({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}
