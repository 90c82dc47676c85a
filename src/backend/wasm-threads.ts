// Worker threads for the WebAssembly backend: each worker instantiates the same module on the backend's shared
// memory (its own globals, so its own GEMM scratch) and waits; a kernel call is dispatched as (kernel, part
// count, arguments) written to a control block in that memory. The caller runs part 0 itself, each worker
// w runs part w + 1, and the caller waits (Atomics.wait) until every part is done. Which elements a part
// computes is fixed by the kernels' split (assembly/gemm.ts, cells.ts), so results do not depend on the
// number of threads. No Node-only API here: the worker entries (wasm-thread-node.ts, web/wasm-thread.ts)
// give the environment's Worker and message port.
//
// A worker that dies must not leave the caller waiting forever. The caller's wait has a timeout, used only as
// the interval at which it looks for a dead worker (a slow worker on a loaded machine is waited for as long as
// it runs): a worker whose job throws says so in the control block before it stops; one that is gone
// (terminated, out of memory, exited) is seen by its handle's running() where the runtime can tell without the
// event loop (Node), and by its 'exit'/'error' events between calls. The call then throws one RnnkitError and
// the backend is unusable from then on (wasm-backend.ts): the failed call's outputs are half written.
import { RnnkitError } from '../errors.js';

/** The *Part exports a worker runs, by kernel id (the same list on both sides). */
export const PART_KERNELS = ['gemmPart', 'cellForwardPart', 'cellBackwardPart', 'cellBiasGradPart'] as const;
export type PartKernel = (typeof PART_KERNELS)[number];

/** The control block: Int32 words, the arguments as float64 (exact for u32 pointers and f32 values), then the
 *  message of a worker that died, as UTF-16 code units. */
const GENERATION = 0; // bumped for every job
const PENDING = 1; // worker parts of the current job not finished yet
const KERNEL = 2;
const PARTS = 3;
const ARG_COUNT = 4;
const STOP = 5;
const DEAD = 6; // the part of the first worker whose job threw (-1 while it writes its message), 0 while none
const DEAD_LENGTH = 7; // the length of its message
const PROBES = 8; // bumped when the caller asks the workers' handles whether they run (Node: a message each)
const ARGS_OFFSET = 64;
const MAX_ARGS = 24;
const MESSAGE_OFFSET = ARGS_OFFSET + 8 * MAX_ARGS;
const MESSAGE_LENGTH = 120;
export const CONTROL_BYTES = MESSAGE_OFFSET + 2 * MESSAGE_LENGTH;

/** How often a waiting caller looks for a dead worker (its only use of a timeout). */
const LIVENESS_POLL_MS = 200;

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

/** What a worker says: ready (it waits for jobs now) or why it could not start or stopped. */
export type ThreadReport = { kind: 'ready' } | { kind: 'failed'; message: string };

/** The little of a Worker the pool needs, over Node's worker_threads and the browser's Web Workers. */
export interface ThreadHandle {
  postMessage(message: ThreadStart): void;
  terminate(): void;
  /** Whether the worker still runs, answered without the event loop (a waiting caller cannot turn it); false
   *  only when it is sure. Absent where the runtime cannot tell (browsers): the events say it, between calls. */
  running?(): boolean;
}

/** Starts worker `index` (0-based); `report` receives its messages and errors (as 'failed'), also after it
 *  started (then they say that it died). */
export type SpawnThread = (index: number, report: (report: ThreadReport) => void) => ThreadHandle;

type PartFn = (part: number, parts: number, ...args: number[]) => void;

/** The one line a caller gets when a worker died: what happened and what to do. */
export function workerDied(part: number, why: string, kernel?: PartKernel): RnnkitError {
  const during = kernel ? ` during ${kernel.replace(/Part$/, '')}` : '';
  return new RnnkitError(
    'ERR_BACKEND_UNAVAILABLE',
    `wasm backend: worker thread ${part} died${during} (${why}); this backend cannot compute any more (the call's outputs are not valid): load a new one, or use threads 1 (--threads 1), and resume a training run from its checkpoint (--resume)`,
  );
}

/** The caller's side: dispatches jobs to the workers and waits for them. */
export class WasmThreadPool {
  readonly #control: Int32Array;
  readonly #args: Float64Array;
  readonly #message: Uint16Array;
  readonly #local: Record<PartKernel, PartFn>;
  readonly #workers: ThreadHandle[];
  readonly #onLost: (error: RnnkitError) => void;
  #lost: RnnkitError | null = null;

  /** `onLost`: called once, with the error, when a worker is found dead (before run() throws it). */
  constructor(
    buffer: ArrayBufferLike,
    control: number,
    local: Record<PartKernel, PartFn>,
    workers: ThreadHandle[],
    onLost: (error: RnnkitError) => void,
  ) {
    this.#control = new Int32Array(buffer, control, ARGS_OFFSET / 4);
    this.#args = new Float64Array(buffer, control + ARGS_OFFSET, MAX_ARGS);
    this.#message = new Uint16Array(buffer, control + MESSAGE_OFFSET, MESSAGE_LENGTH);
    this.#local = local;
    this.#workers = workers;
    this.#onLost = onLost;
  }

  /** Threads, the caller's included. */
  get threads(): number {
    return this.#workers.length + 1;
  }

  /** Runs parts 0 .. parts-1 of `kernel` (parts <= threads), part 0 on this thread; returns when all are done.
   *  Throws workerDied(...) when a worker died (now or before). */
  run(kernel: PartKernel, parts: number, args: number[]): void {
    if (this.#lost) throw this.#lost;
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
      const woke = Atomics.wait(control, PENDING, left, LIVENESS_POLL_MS);
      const dead = this.#deadWorker(woke === 'timed-out');
      if (dead) throw this.#lose(workerDied(dead.part, dead.why, kernel));
    }
    if (failure) throw failure;
  }

  /** A worker's events said it died (between calls: during one, the caller's thread cannot see events). */
  died(part: number, why: string): void {
    this.#lose(workerDied(part, why));
  }

  /** Stops and terminates the workers. */
  stop(): void {
    Atomics.store(this.#control, STOP, 1);
    Atomics.add(this.#control, GENERATION, 1);
    Atomics.notify(this.#control, GENERATION);
    for (const worker of this.#workers) worker.terminate();
  }

  /** The first death recorded (the pool is stopped then). */
  #lose(error: RnnkitError): RnnkitError {
    if (this.#lost) return this.#lost;
    this.#lost = error;
    this.stop();
    this.#onLost(error);
    return error;
  }

  /** A worker that is known to have died: one whose job threw (it said so), or, with `ask`, one whose handle
   *  says it no longer runs. Never a worker that is merely slow. */
  #deadWorker(ask: boolean): { part: number; why: string } | null {
    const control = this.#control;
    const part = Atomics.load(control, DEAD);
    if (part > 0) {
      const length = Math.min(control[DEAD_LENGTH]!, MESSAGE_LENGTH);
      return { part, why: `it threw: ${String.fromCharCode(...this.#message.subarray(0, length))}` };
    }
    if (!ask) return null;
    Atomics.add(control, PROBES, 1);
    const gone = this.#workers.findIndex((worker) => worker.running?.() === false);
    return gone < 0 ? null : { part: gone + 1, why: 'it stopped running: terminated, out of memory or exited' };
  }
}

/** A worker's side, after `exports` are instantiated on the shared memory: calls `ready` (no job has been
 *  dispatched before it returns: the caller waits for every worker), then serves jobs until stopped (blocks).
 *  A job that throws is fatal: the worker says so in the control block (waking the caller) and rethrows.
 *  `drainProbes`: empties the queue of the caller's liveness questions (Node), after a job when it grew. */
export function serveThread(
  buffer: ArrayBufferLike,
  control: number,
  part: number,
  exports: Record<string, unknown>,
  ready: () => void,
  drainProbes?: () => void,
): void {
  const words = new Int32Array(buffer, control, ARGS_OFFSET / 4);
  const args = new Float64Array(buffer, control + ARGS_OFFSET, MAX_ARGS);
  const kernels = PART_KERNELS.map((name) => exports[name] as PartFn);
  let seen = Atomics.load(words, GENERATION);
  let probes = Atomics.load(words, PROBES);
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
    } catch (error) {
      sayDied(buffer, control, part, error);
      throw error;
    }
    if (Atomics.sub(words, PENDING, 1) === 1) Atomics.notify(words, PENDING);
    if (drainProbes && Atomics.load(words, PROBES) !== probes) {
      probes = Atomics.load(words, PROBES);
      drainProbes();
    }
  }
}

/** Writes "part `part` died of `error`" to the control block (the first worker to die wins) and wakes the caller. */
function sayDied(buffer: ArrayBufferLike, control: number, part: number, error: unknown): void {
  const words = new Int32Array(buffer, control, ARGS_OFFSET / 4);
  if (Atomics.compareExchange(words, DEAD, 0, -1) !== 0) return;
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  const units = new Uint16Array(buffer, control + MESSAGE_OFFSET, MESSAGE_LENGTH);
  const length = Math.min(text.length, MESSAGE_LENGTH);
  for (let i = 0; i < length; i++) units[i] = text.charCodeAt(i);
  words[DEAD_LENGTH] = length;
  Atomics.store(words, DEAD, part);
  Atomics.notify(words, PENDING);
}

interface ThreadWasmApi {
  instantiate(module: unknown, imports: object): Promise<{ exports: Record<string, unknown> }>;
}

/** A worker's whole life: instantiates the module on the shared memory with its own GEMM scratch, says ready
 *  (or why it failed) through `report`, then serves jobs until the pool stops (blocks this worker). */
export async function runThread(
  start: ThreadStart,
  report: (report: ThreadReport) => void,
  drainProbes?: () => void,
): Promise<void> {
  try {
    const api = (globalThis as { WebAssembly?: ThreadWasmApi }).WebAssembly;
    if (!api) throw new Error('this worker has no WebAssembly');
    const { exports } = await api.instantiate(start.module, { env: { memory: start.memory } });
    const setScratch = exports['setGemmScratch'] as (ptr: number, bytes: number) => number;
    if (setScratch(start.scratch, start.scratchBytes) !== 1) throw new Error('the module refused its GEMM scratch');
    const buffer = (start.memory as { buffer: ArrayBufferLike }).buffer;
    serveThread(buffer, start.control, start.part, exports, () => report({ kind: 'ready' }), drainProbes);
  } catch (error) {
    report({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}
