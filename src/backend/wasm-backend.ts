// The WebAssembly backend: the kernels of assembly/ (compiled to build/wasm/rnnkit.wasm) behind the Backend
// interface. Every buffer lives in the module's linear memory; this file owns allocation (16-byte aligned,
// first fit from a list of freed blocks, else from the top, growing the memory when needed; WebAssembly
// memory never shrinks, so freeing is what keeps a long-lived backend bounded). Kernels validate their arguments with
// checks.ts, then pass byte pointers (buf.ptr + 4·span.offset) to the wasm exports.
//
// With threads (options.threads > 1 where memory can be shared), worker threads run the same module on the
// same memory and the large kernels (GEMM, cells) are split over them (wasm-threads.ts); the buffers, their
// records and every check stay here, on the caller's thread.
//
// This file uses no Node-only API (the browser entry uses it); wasm.ts finds and reads the module in Node.
import * as check from './checks.js';
import { type MemoryImport, memoryImportOf, sharedMemorySupported, unsharedMemoryModule } from './wasm-memory.js';
import { CONTROL_BYTES, type PartKernel, type SpawnThread, type ThreadHandle, WasmThreadPool } from './wasm-threads.js';
import type { RnnkitError } from '../errors.js';
import {
  type Backend,
  type BackendInfo,
  type Buf,
  type CellKind,
  type DecoderGrads,
  type DecoderLayer,
  type DecoderLayerGrads,
  type DecoderMemory,
  type DecoderRecord,
  type DecoderShape,
  CELL_KINDS,
  type FloatSpan,
  type FloatArray,
  type IntSpan,
  type PoolMode,
  POOL_MODES,
  dropoutThreshold,
  gatesOf,
} from './types.js';

// The project compiles against lib ES2022 + Node 20 types, which do not declare the WebAssembly namespace:
// the little used here is typed locally rather than declared globally.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
interface WasmModule {
  readonly __wasmModule?: never;
}
interface WasmApi {
  compile(bytes: Uint8Array): Promise<WasmModule>;
  Memory: new (descriptor: { initial: number; maximum: number; shared?: boolean }) => WasmMemory;
  instantiate(module: WasmModule, imports: object): Promise<{ exports: Record<string, unknown> }>;
  Module: { imports(module: WasmModule): { module: string; name: string; kind: string }[] };
  validate(bytes: Uint8Array): boolean;
}

function wasmApi(): WasmApi {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) throw new Error('wasm backend: this JavaScript runtime has no WebAssembly support');
  return api;
}

/** The exports of rnnkit.wasm (pointers are byte addresses, booleans are 0/1). */
interface WasmExports {
  memory: WasmMemory;
  heapBase(): number;
  gemmScratchBytes(): number;
  setGemmScratch(ptr: number, bytes: number): number;
  /** 2 for the relaxed-SIMD build, 1 for the plain one (absent in older builds). */
  simdLevel?(): number;
  decoderWorkFloats(kind: number, T: number, B: number, S: number, H: number, M: number, L: number): number;
  /** kind, T, B, S, E, H, M, L, embedded, keys, memory, sourceLengths, wCombine, input0, attention, combined,
   *  feeds, work (assembly/decoder.ts). */
  decoderForward(...args: number[]): void;
  /** kind, T, B, S, E, H, M, L, keys, memory, sourceLengths, wCombine, attention, combined, feeds, dFeeds,
   *  dEmbedded, dKeys, dMemory, dCombine, dFeed0, work. */
  decoderBackward(...args: number[]): void;
  topK(N: number, V: number, K: number, scores: number, values: number, indices: number): void;
  logSoftmax(N: number, V: number, x: number, out: number): void;
  gemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    alpha: number,
    a: number,
    b: number,
    beta: number,
    c: number,
  ): void;
  gemmParts(M: number, N: number, K: number): number;
  gemmPart(part: number, parts: number, ...args: number[]): void;
  cellParts(kind: number, B: number, H: number): number;
  cellForwardPart(part: number, parts: number, ...args: number[]): void;
  cellBackwardPart(part: number, parts: number, ...args: number[]): void;
  cellBiasGradParts(rows: number, GH: number): number;
  cellBiasGradPart(part: number, parts: number, rows: number, GH: number, dG: number, db: number): void;
  addBias(M: number, N: number, bias: number, c: number): void;
  sumRows(M: number, N: number, a: number, out: number): void;
  gatherRows(n: number, D: number, ids: number, table: number, out: number): void;
  scatterAddRows(n: number, D: number, ids: number, dOut: number, dTable: number): void;
  gatherColumns(n: number, R: number, cols: number, ids: number, w: number, out: number): void;
  scatterAddColumns(n: number, R: number, cols: number, ids: number, dOut: number, dW: number): void;
  cellForward(
    kind: number,
    T: number,
    B: number,
    H: number,
    xProj: number,
    wHh: number,
    bIh: number,
    bHh: number,
    hs: number,
    cs: number,
    cache: number,
    xIds: number,
    lengths: number,
  ): void;
  cellBackward(
    kind: number,
    T: number,
    B: number,
    H: number,
    wHh: number,
    hs: number,
    cs: number,
    cache: number,
    dhs: number,
    dhN: number,
    dcN: number,
    dGx: number,
    dGh: number,
    dh0: number,
    dc0: number,
    dbIh: number,
    dbHh: number,
    lengths: number,
    dhSteps: number,
  ): void;
  poolForward(
    mode: number,
    T: number,
    B: number,
    D: number,
    x: number,
    lengths: number,
    out: number,
    argmax: number,
  ): void;
  poolBackward(
    mode: number,
    T: number,
    B: number,
    D: number,
    dOut: number,
    lengths: number,
    argmax: number,
    dx: number,
  ): void;
  softmaxCrossEntropy(
    N: number,
    V: number,
    logits: number,
    targets: number,
    scale: number,
    dLogits: number,
    labelSmoothing: number,
  ): number;
  ctcLoss(
    T: number,
    B: number,
    C: number,
    S: number,
    logits: number,
    targets: number,
    inputLengths: number,
    targetLengths: number,
    zeroInfinity: number,
    work: number,
    losses: number,
    dLogits: number,
  ): number;
  clipValue(n: number, x: number, limit: number): void;
  sumSquares(n: number, x: number): number;
  scale(n: number, x: number, s: number): void;
  dropout(n: number, x: number, threshold: number, keep: number, seed: number, mask: number, out: number): void;
  multiply(n: number, a: number, b: number, out: number): void;
  adagradUpdate(
    n: number,
    param: number,
    grad: number,
    sum: number,
    lr: number,
    eps: number,
    weightDecay: number,
  ): void;
  sgdUpdate(n: number, param: number, grad: number, lr: number, weightDecay: number): void;
  momentumUpdate(
    n: number,
    param: number,
    grad: number,
    buf: number,
    lr: number,
    momentum: number,
    dampKeep: number,
    nesterov: number,
    weightDecay: number,
    first: number,
  ): void;
  rmspropUpdate(
    n: number,
    param: number,
    grad: number,
    sq: number,
    lr: number,
    alpha: number,
    alphaKeep: number,
    eps: number,
    weightDecay: number,
  ): void;
  adamUpdate(
    n: number,
    param: number,
    grad: number,
    m: number,
    v: number,
    stepSize: number,
    beta1: number,
    beta1Keep: number,
    beta2: number,
    beta2Keep: number,
    correction2: number,
    eps: number,
    weightDecay: number,
    decay: number,
    decoupled: number,
  ): void;
}

const KERNEL_EXPORTS = [
  'heapBase',
  'gemmScratchBytes',
  'setGemmScratch',
  'gemm',
  'gemmParts',
  'gemmPart',
  'cellParts',
  'cellForwardPart',
  'cellBackwardPart',
  'cellBiasGradParts',
  'cellBiasGradPart',
  'addBias',
  'sumRows',
  'gatherRows',
  'scatterAddRows',
  'gatherColumns',
  'scatterAddColumns',
  'cellForward',
  'cellBackward',
  'poolForward',
  'poolBackward',
  'softmaxCrossEntropy',
  'ctcLoss',
  'decoderWorkFloats',
  'decoderForward',
  'decoderBackward',
  'topK',
  'logSoftmax',
  'clipValue',
  'sumSquares',
  'scale',
  'dropout',
  'multiply',
  'adagradUpdate',
  'sgdUpdate',
  'momentumUpdate',
  'rmspropUpdate',
  'adamUpdate',
] as const;

const PAGE = 65536;
const ALIGN = 16;
/** wasm32 addresses: at most 65536 pages. */
const MAX_BYTES = 65536 * PAGE;
/** Grow by at least this much, so a run of small allocations does not detach views on every call. */
const MIN_GROW_PAGES = 16;

export const REBUILD = 'run npm run build:wasm';

type BufKind = 'float' | 'int';

/** A buffer's record in the allocator: owner, address and length live in private fields that no caller can
 *  change, and the object is frozen. Kernels take addresses from here, never from fields a caller can reach. */
abstract class WasmBuf<A extends Float32Array | Int32Array> implements Buf<A> {
  readonly #owner: WasmBackend;
  /** Byte address of element 0 in the backend's memory. */
  readonly #ptr: number;
  readonly #length: number;
  readonly #kind: BufKind;
  #view: A;
  /** Set by free(): the bytes may belong to another buffer now, so every use is refused. */
  #freed = false;

  constructor(owner: WasmBackend, ptr: number, length: number, kind: BufKind) {
    this.#owner = owner;
    this.#ptr = ptr;
    this.#length = length;
    this.#kind = kind;
    this.#view = this.view(owner.memory.buffer);
    Object.freeze(this);
  }

  get owner(): WasmBackend {
    return this.#owner;
  }

  get ptr(): number {
    return this.#ptr;
  }

  get length(): number {
    return this.#length;
  }

  get freed(): boolean {
    return this.#freed;
  }

  /** For the backend's free(): from now on every use is refused (a private field: freezing does not stop it). */
  markFreed(): void {
    this.#freed = true;
  }

  protected abstract view(buffer: ArrayBuffer): A;

  /** A live view: re-created when memory growth has replaced (and detached) the old ArrayBuffer. */
  get data(): A {
    if (this.#freed) throw new TypeError('wasm backend: this buffer was freed (its model or workspace was disposed)');
    const buffer = this.#owner.memory.buffer;
    if (this.#view.buffer !== buffer) this.#view = this.view(buffer);
    return this.#view;
  }

  /**
   * Byte address of `span`'s first element, for a kernel of `owner`: the span must be a real Span (frozen,
   * range checked when made) of a live `kind` buffer that `owner` allocated, and its range must lie inside the
   * allocator's record of that buffer. Otherwise a TypeError/RangeError naming the kernel and argument.
   */
  static address(owner: WasmBackend, kind: BufKind, kernel: string, name: string, span: unknown): number {
    check.checkIsSpan(kernel, name, span);
    const buf: unknown = span.buf;
    if (typeof buf !== 'object' || buf === null || !(#ptr in buf) || buf.#owner !== owner || buf.#kind !== kind) {
      const alloc = kind === 'float' ? 'allocFloat' : 'allocInt';
      throw new TypeError(
        `${kernel}: ${name} is not a${kind === 'int' ? 'n' : ''} ${kind} buffer of this wasm backend (allocate it with this backend's ${alloc})`,
      );
    }
    if (buf.#freed) throw new TypeError(`${kernel}: ${name} was freed (its model or workspace was disposed)`);
    if (span.offset + span.length > buf.#length) {
      throw new RangeError(
        `${kernel}: ${name} [${span.offset}, ${span.offset + span.length}) lies outside its buffer of ${buf.#length} elements`,
      );
    }
    return buf.#ptr + 4 * span.offset;
  }
}

class WasmFloatBuf extends WasmBuf<Float32Array> {
  protected view(buffer: ArrayBuffer): Float32Array {
    return new Float32Array(buffer, this.ptr, this.length);
  }
}

class WasmIntBuf extends WasmBuf<Int32Array> {
  protected view(buffer: ArrayBuffer): Int32Array {
    return new Int32Array(buffer, this.ptr, this.length);
  }
}

export class WasmBackend implements Backend {
  readonly name = 'wasm' as const;
  readonly dtype = 'f32' as const;
  readonly memory: WasmMemory;
  readonly #exports: WasmExports;
  /** Next never-used byte (16-byte aligned). */
  #top: number;
  /** Freed blocks below #top, by address, none adjacent to another (they are merged). */
  #freeBlocks: { ptr: number; bytes: number }[] = [];
  #disposed = false;
  /** The end of the highest block ever handed out: memory above it is still as the module started (zero). */
  #highWater = 0;
  /** The worker threads (null: this thread alone), and why this many. */
  #pool: WasmThreadPool | null = null;
  #threadsReason = ONE_THREAD_ASKED;
  /** Set when a worker thread died: every later call throws it (the backend is unusable). */
  #lost: RnnkitError | null = null;

  /** Use loadWasmBackend(); this takes an instantiated module's exports. */
  constructor(exports: WasmExports) {
    this.#exports = exports;
    this.memory = exports.memory;
    this.#top = alignUp(exports.heapBase() >>> 0);
    // The GEMM packs panels of A and B into this scratch, and the cells their W_hh (one per instance, allocated
    // once here: no kernel call grows memory, so views taken before a call stay attached — except the decoder
    // loop's workspace, allocated by the first decoder call that needs more, see #decoderTable).
    const scratchBytes = exports.gemmScratchBytes() >>> 0;
    if (exports.setGemmScratch(this.#alloc('loadWasmBackend', scratchBytes), scratchBytes) !== 1) {
      throw new Error(`wasm backend: rnnkit.wasm refused its GEMM scratch (stale build?); ${REBUILD}`);
    }
  }

  info(): BackendInfo {
    const simd = this.#exports.simdLevel?.() === 2 ? 'wasm-relaxed-simd' : 'wasm-simd128';
    return { name: this.name, dtype: this.dtype, simd, threads: this.#pool?.threads ?? 1 };
  }

  /** Why the backend runs the threads it runs (e.g. that SharedArrayBuffer is unavailable). */
  get threadsReason(): string {
    return this.#threadsReason;
  }

  /**
   * For the loaders, once, before any kernel runs: starts `count` worker threads on this backend's memory
   * (shared), each with its own GEMM scratch. Resolves when every one is ready; when one fails or they are not
   * all ready within `timeoutMs`, all are terminated and the backend stays on one thread, its threadsReason
   * saying why. When one dies later, the call that finds it and every call after it throw (see wasm-threads.ts).
   */
  async startThreads(module: unknown, count: number, spawn: SpawnThread, timeoutMs: number): Promise<void> {
    const kernel = 'loadWasmBackend';
    if (this.#pool) throw new TypeError('startThreads: this wasm backend has its threads already');
    if (!(typeof SharedArrayBuffer === 'function' && this.memory.buffer instanceof SharedArrayBuffer))
      throw new TypeError('startThreads: this wasm backend was made without shared memory');
    const scratchBytes = this.#exports.gemmScratchBytes() >>> 0;
    const blocks = [CONTROL_BYTES, ...Array.from({ length: count }, () => scratchBytes)].map((bytes) => ({
      ptr: this.#alloc(kernel, bytes),
      bytes: alignUp(bytes),
    }));
    const control = blocks[0]!.ptr;
    const handles: ThreadHandle[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const failure = await new Promise<string | null>((resolve) => {
      let ready = 0;
      timer = setTimeout(
        () => resolve(`worker threads not ready within ${timeoutMs / 1000} s (${ready} of ${count})`),
        timeoutMs,
      );
      for (let i = 0; i < count; i++) {
        const report: Parameters<SpawnThread>[1] = (r) => {
          if (this.#pool) {
            if (r.kind === 'failed') this.#pool.died(i + 1, r.message);
          } else if (r.kind === 'ready') {
            if (++ready === count) resolve(null);
          } else resolve(`worker thread ${i + 1} failed to start: ${r.message}`);
        };
        try {
          const handle = spawn(i, report);
          handles.push(handle);
          handle.postMessage({
            kind: 'start',
            module,
            memory: this.memory,
            part: i + 1,
            control,
            scratch: blocks[i + 1]!.ptr,
            scratchBytes,
          });
        } catch (error) {
          resolve(`worker thread ${i + 1} could not be created: ${describe(error)}`);
          break;
        }
      }
    });
    clearTimeout(timer);
    if (failure !== null) {
      for (const handle of handles) handle.terminate();
      for (const block of blocks.reverse()) this.#release(block.ptr, block.bytes);
      this.#threadsReason = `one thread: ${failure}`;
      return;
    }
    const x = this.#exports;
    const local: Record<PartKernel, (part: number, parts: number, ...args: number[]) => void> = {
      gemmPart: x.gemmPart,
      cellForwardPart: x.cellForwardPart,
      cellBackwardPart: x.cellBackwardPart,
      cellBiasGradPart: x.cellBiasGradPart,
    };
    this.#pool = new WasmThreadPool(this.memory.buffer, control, local, handles, (error) => {
      this.#lost = error;
      this.#pool = null; // the pool stopped its workers
      this.#threadsReason = error.message;
    });
    this.#threadsReason = `${count + 1} threads: worker threads share the backend's WebAssembly memory`;
  }

  /** For the loaders: records why the backend runs one thread although more were asked for. */
  refuseThreads(reason: string): void {
    if (!this.#pool) this.#threadsReason = reason;
  }

  /** Parts to cut a kernel into: at most the threads, at most what the kernel's split allows. */
  #parts(most: number): number {
    return this.#pool ? Math.min(this.#pool.threads, most) : 1;
  }

  /** Frees what the backend owns outside its buffers: the worker threads. */
  #stopThreads(reason: string): void {
    this.#pool?.stop();
    this.#pool = null;
    this.#threadsReason = reason;
  }

  /** Bytes up to the end of the highest block in use now (with the static data). */
  get bytesAllocated(): number {
    return this.#top;
  }

  /** Bytes in use now (the high-water mark less what was freed below it). */
  get bytesInUse(): number {
    return this.#top - this.#freeBlocks.reduce((sum, block) => sum + block.bytes, 0);
  }

  /** Gives a buffer's memory back for reuse; the buffer (and every span of it) is unusable afterwards. */
  free(buf: Buf<FloatArray | Int32Array>): void {
    if (!(buf instanceof WasmBuf) || buf.owner !== this)
      throw new TypeError('free: the buffer is not one of this wasm backend');
    if (buf.freed) return;
    buf.markFreed();
    const bytes = alignUp(buf.length * 4);
    if (bytes > 0) this.#release(buf.ptr, bytes);
  }

  /** Frees everything: the backend (and every buffer of it) is unusable afterwards, its memory garbage once
   *  unreferenced. Models and workspaces need no dispose() of their own then. */
  dispose(): void {
    this.#disposed = true;
    this.#freeBlocks = [];
    this.#stopThreads('one thread: the backend was disposed');
  }

  get disposed(): boolean {
    return this.#disposed;
  }

  allocFloat(length: number): Buf<FloatArray> {
    check.checkSize('allocFloat', 'length', length);
    return new WasmFloatBuf(this, this.#alloc('allocFloat', length * 4), length, 'float');
  }

  allocInt(length: number): Buf<Int32Array> {
    check.checkSize('allocInt', 'length', length);
    return new WasmIntBuf(this, this.#alloc('allocInt', length * 4), length, 'int');
  }

  #alloc(kernel: string, bytes: number): number {
    if (this.#disposed) throw new TypeError(`${kernel}: this wasm backend was disposed`);
    if (this.#lost) throw this.#lost;
    const size = alignUp(bytes);
    const reused = this.#takeFreed(size);
    if (reused !== null) {
      new Uint8Array(this.memory.buffer, reused, size).fill(0); // buffers start zeroed, reused or not
      return reused;
    }
    const ptr = this.#top;
    const end = alignUp(ptr + bytes);
    if (end > MAX_BYTES) {
      throw new RangeError(
        `${kernel}: ${bytes} more bytes would exceed the 4 GiB address space of WebAssembly memory (${ptr} bytes in use)`,
      );
    }
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const needed = Math.ceil((end - have) / PAGE);
      const maxPages = MAX_BYTES / PAGE - have / PAGE;
      const pages = Math.min(Math.max(needed, MIN_GROW_PAGES), maxPages);
      try {
        this.memory.grow(pages);
      } catch (err) {
        try {
          this.memory.grow(needed); // the generous step may exceed the engine's limit when the exact one fits
        } catch {
          const why = err instanceof Error ? err.message : String(err);
          throw new RangeError(`${kernel}: cannot grow WebAssembly memory to ${end} bytes (${why})`);
        }
      }
    }
    this.#top = end;
    // Below the high-water mark the bytes were someone's before (freed blocks lowered #top): zero them.
    if (ptr < this.#highWater) new Uint8Array(this.memory.buffer, ptr, Math.min(end, this.#highWater) - ptr).fill(0);
    this.#highWater = Math.max(this.#highWater, end);
    return ptr;
  }

  /** First fit: the lowest freed block that holds `size` bytes, split when larger; null when none does. */
  #takeFreed(size: number): number | null {
    if (size === 0) return null;
    const at = this.#freeBlocks.findIndex((block) => block.bytes >= size);
    if (at < 0) return null;
    const block = this.#freeBlocks[at]!;
    const ptr = block.ptr;
    if (block.bytes === size) this.#freeBlocks.splice(at, 1);
    else this.#freeBlocks[at] = { ptr: ptr + size, bytes: block.bytes - size };
    return ptr;
  }

  /** Returns [ptr, ptr + bytes) to the free list, merged with its neighbours; a block reaching #top lowers it. */
  #release(ptr: number, bytes: number): void {
    const blocks = this.#freeBlocks;
    let at = blocks.findIndex((block) => block.ptr > ptr);
    if (at < 0) at = blocks.length;
    let block = { ptr, bytes };
    const before = blocks[at - 1];
    if (before && before.ptr + before.bytes === ptr) {
      block = { ptr: before.ptr, bytes: before.bytes + bytes };
      blocks.splice(--at, 1);
    }
    const after = blocks[at];
    if (after && block.ptr + block.bytes === after.ptr) {
      block.bytes += after.bytes;
      blocks.splice(at, 1);
    }
    if (block.ptr + block.bytes === this.#top) this.#top = block.ptr;
    else blocks.splice(at, 0, block);
  }

  /** Byte address of a float span's first element, after checking it against the allocator's record. */
  #floatPointer(kernel: string, name: string, span: FloatSpan): number {
    if (this.#disposed) throw new TypeError(`${kernel}: ${name} was freed (this wasm backend was disposed)`);
    if (this.#lost) throw this.#lost;
    return WasmBuf.address(this, 'float', kernel, name, span);
  }

  #intPointer(kernel: string, name: string, span: IntSpan): number {
    if (this.#disposed) throw new TypeError(`${kernel}: ${name} was freed (this wasm backend was disposed)`);
    if (this.#lost) throw this.#lost;
    return WasmBuf.address(this, 'int', kernel, name, span);
  }

  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    alpha: number,
    A: FloatSpan,
    B: FloatSpan,
    beta: number,
    C: FloatSpan,
  ): void {
    check.checkGemm(transA, transB, M, N, K, alpha, A, B, beta, C);
    const k = 'gemm';
    const a = this.#floatPointer(k, 'A', A),
      b = this.#floatPointer(k, 'B', B),
      c = this.#floatPointer(k, 'C', C);
    const args = [transA ? 1 : 0, transB ? 1 : 0, M, N, K, alpha, a, b, beta, c] as const;
    const parts = this.#parts(this.#exports.gemmParts(M, N, K));
    if (parts > 1) this.#pool!.run('gemmPart', parts, [...args]);
    else this.#exports.gemm(...args);
  }

  addBias(M: number, N: number, bias: FloatSpan, C: FloatSpan): void {
    check.checkAddBias(M, N, bias, C);
    this.#exports.addBias(M, N, this.#floatPointer('addBias', 'bias', bias), this.#floatPointer('addBias', 'C', C));
  }

  sumRows(M: number, N: number, A: FloatSpan, out: FloatSpan): void {
    check.checkSumRows(M, N, A, out);
    this.#exports.sumRows(M, N, this.#floatPointer('sumRows', 'A', A), this.#floatPointer('sumRows', 'out', out));
  }

  gatherRows(n: number, D: number, ids: IntSpan, table: FloatSpan, out: FloatSpan): void {
    check.checkGatherRows(n, D, ids, table, out);
    const k = 'gatherRows';
    this.#exports.gatherRows(
      n,
      D,
      this.#intPointer(k, 'ids', ids),
      this.#floatPointer(k, 'table', table),
      this.#floatPointer(k, 'out', out),
    );
  }

  scatterAddRows(n: number, D: number, ids: IntSpan, dOut: FloatSpan, dTable: FloatSpan): void {
    check.checkScatterAddRows(n, D, ids, dOut, dTable);
    const k = 'scatterAddRows';
    this.#exports.scatterAddRows(
      n,
      D,
      this.#intPointer(k, 'ids', ids),
      this.#floatPointer(k, 'dOut', dOut),
      this.#floatPointer(k, 'dTable', dTable),
    );
  }

  gatherColumns(n: number, R: number, ids: IntSpan, W: FloatSpan, out: FloatSpan): void {
    check.checkGatherColumns(n, R, ids, W, out);
    const k = 'gatherColumns';
    this.#exports.gatherColumns(
      n,
      R,
      W.length / R,
      this.#intPointer(k, 'ids', ids),
      this.#floatPointer(k, 'W', W),
      this.#floatPointer(k, 'out', out),
    );
  }

  scatterAddColumns(n: number, R: number, ids: IntSpan, dOut: FloatSpan, dW: FloatSpan): void {
    check.checkScatterAddColumns(n, R, ids, dOut, dW);
    const k = 'scatterAddColumns';
    this.#exports.scatterAddColumns(
      n,
      R,
      dW.length / R,
      this.#intPointer(k, 'ids', ids),
      this.#floatPointer(k, 'dOut', dOut),
      this.#floatPointer(k, 'dW', dW),
    );
  }

  cellForward(
    kind: CellKind,
    T: number,
    B: number,
    H: number,
    xProj: FloatSpan,
    wHh: FloatSpan,
    bIh: FloatSpan,
    bHh: FloatSpan,
    hs: FloatSpan,
    cs: FloatSpan,
    cache: FloatSpan,
    xIds: IntSpan | null = null,
    lengths: IntSpan | null = null,
  ): void {
    check.checkCellForward(kind, T, B, H, xProj, wHh, bIh, bHh, hs, cs, cache, xIds, lengths);
    const k = 'cellForward';
    const args = [
      CELL_KINDS.indexOf(kind),
      T,
      B,
      H,
      this.#floatPointer(k, 'xProj', xProj),
      this.#floatPointer(k, 'wHh', wHh),
      this.#floatPointer(k, 'bIh', bIh),
      this.#floatPointer(k, 'bHh', bHh),
      this.#floatPointer(k, 'hs', hs),
      this.#floatPointer(k, 'cs', cs),
      this.#floatPointer(k, 'cache', cache),
      xIds ? this.#intPointer(k, 'xIds', xIds) : 0,
      lengths ? this.#intPointer(k, 'lengths', lengths) : 0,
    ] as const;
    const parts = this.#parts(this.#exports.cellParts(args[0], B, H));
    if (parts > 1) this.#pool!.run('cellForwardPart', parts, [...args]);
    else this.#exports.cellForward(...args);
  }

  cellBackward(
    kind: CellKind,
    T: number,
    B: number,
    H: number,
    wHh: FloatSpan,
    hs: FloatSpan,
    cs: FloatSpan,
    cache: FloatSpan,
    dhs: FloatSpan,
    dhN: FloatSpan,
    dcN: FloatSpan,
    dGx: FloatSpan,
    dGh: FloatSpan,
    dh0: FloatSpan,
    dc0: FloatSpan,
    dbIh: FloatSpan | null = null,
    dbHh: FloatSpan | null = null,
    lengths: IntSpan | null = null,
    dhSteps: FloatSpan | null = null,
  ): void {
    check.checkCellBackward(
      kind,
      T,
      B,
      H,
      wHh,
      hs,
      cs,
      cache,
      dhs,
      dhN,
      dcN,
      dGx,
      dGh,
      dh0,
      dc0,
      dbIh,
      dbHh,
      lengths,
      dhSteps,
    );
    const k = 'cellBackward';
    const kindId = CELL_KINDS.indexOf(kind);
    const args = [
      kindId,
      T,
      B,
      H,
      this.#floatPointer(k, 'wHh', wHh),
      this.#floatPointer(k, 'hs', hs),
      this.#floatPointer(k, 'cs', cs),
      this.#floatPointer(k, 'cache', cache),
      this.#floatPointer(k, 'dhs', dhs),
      this.#floatPointer(k, 'dhN', dhN),
      this.#floatPointer(k, 'dcN', dcN),
      this.#floatPointer(k, 'dGx', dGx),
      this.#floatPointer(k, 'dGh', dGh),
      this.#floatPointer(k, 'dh0', dh0),
      this.#floatPointer(k, 'dc0', dc0),
    ] as const;
    const ib = dbIh ? this.#floatPointer(k, 'dbIh', dbIh) : 0,
      hb = dbHh ? this.#floatPointer(k, 'dbHh', dbHh) : 0,
      lens = lengths ? this.#intPointer(k, 'lengths', lengths) : 0,
      steps = dhSteps ? this.#floatPointer(k, 'dhSteps', dhSteps) : 0;
    const parts = this.#parts(this.#exports.cellParts(kindId, B, H));
    if (parts <= 1) {
      this.#exports.cellBackward(...args, ib, hb, lens, steps);
      return;
    }
    this.#pool!.run('cellBackwardPart', parts, [...args, lens, steps]);
    // The bias gradients, as cellBackward sums them (all rows in order), split by columns.
    const GH = gatesOf(kind) * H;
    const sumParts = this.#parts(this.#exports.cellBiasGradParts(T * B, GH));
    if (ib !== 0) this.#pool!.run('cellBiasGradPart', sumParts, [T * B, GH, args[11], ib]);
    if (hb !== 0) this.#pool!.run('cellBiasGradPart', sumParts, [T * B, GH, args[12], hb]);
  }

  poolForward(
    mode: PoolMode,
    T: number,
    B: number,
    D: number,
    x: FloatSpan,
    lengths: IntSpan,
    out: FloatSpan,
    argmax: IntSpan,
  ): void {
    check.checkPoolForward(mode, T, B, D, x, lengths, out, argmax);
    const k = 'poolForward';
    this.#exports.poolForward(
      POOL_MODES.indexOf(mode),
      T,
      B,
      D,
      this.#floatPointer(k, 'x', x),
      this.#intPointer(k, 'lengths', lengths),
      this.#floatPointer(k, 'out', out),
      this.#intPointer(k, 'argmax', argmax),
    );
  }

  poolBackward(
    mode: PoolMode,
    T: number,
    B: number,
    D: number,
    dOut: FloatSpan,
    lengths: IntSpan,
    argmax: IntSpan,
    dx: FloatSpan,
  ): void {
    check.checkPoolBackward(mode, T, B, D, dOut, lengths, argmax, dx);
    const k = 'poolBackward';
    this.#exports.poolBackward(
      POOL_MODES.indexOf(mode),
      T,
      B,
      D,
      this.#floatPointer(k, 'dOut', dOut),
      this.#intPointer(k, 'lengths', lengths),
      this.#intPointer(k, 'argmax', argmax),
      this.#floatPointer(k, 'dx', dx),
    );
  }

  /** The decoder's workspace (kept and grown, never shrunk): its first words hold the layers' addresses. */
  #decoderWork = { ptr: 0, bytes: 0 };

  /** A workspace of at least `floats` floats, with `table` (addresses) written at its start. Growing it is
   *  an allocation: spans re-derive their views; raw views kept across this call may detach. */
  #decoderTable(kernel: string, floats: number, table: number[]): number {
    const bytes = floats * 4;
    if (bytes > this.#decoderWork.bytes) {
      if (this.#decoderWork.bytes > 0) this.#release(this.#decoderWork.ptr, this.#decoderWork.bytes);
      this.#decoderWork = { ptr: 0, bytes: 0 };
      const size = alignUp(bytes);
      this.#decoderWork = { ptr: this.#alloc(kernel, size), bytes: size };
    }
    new Uint32Array(this.memory.buffer, this.#decoderWork.ptr, table.length).set(table);
    return this.#decoderWork.ptr;
  }

  #decoderLayers(k: string, layers: readonly DecoderLayer[]): number[] {
    return layers.flatMap((layer, l) =>
      (['wIh', 'wHh', 'bIh', 'bHh', 'hs', 'cs', 'cache'] as const).map((name) =>
        this.#floatPointer(k, `layers[${l}].${name}`, layer[name]),
      ),
    );
  }

  #decoderShared(k: string, mem: DecoderMemory, wCombine: FloatSpan): number[] {
    return [
      this.#floatPointer(k, 'keys', mem.keys),
      this.#floatPointer(k, 'memory', mem.memory),
      this.#intPointer(k, 'sourceLengths', mem.sourceLengths),
      this.#floatPointer(k, 'wCombine', wCombine),
    ];
  }

  decoderForward(
    shape: DecoderShape,
    layers: readonly DecoderLayer[],
    embedded: FloatSpan,
    mem: DecoderMemory,
    wCombine: FloatSpan,
    rec: DecoderRecord,
  ): void {
    check.checkDecoderForward(shape, layers, embedded, mem, wCombine, rec);
    const k = 'decoderForward';
    const { kind, T, B, S, E, H, M } = shape,
      cell = CELL_KINDS.indexOf(kind),
      L = layers.length;
    const table = this.#decoderLayers(k, layers);
    const args = [
      this.#floatPointer(k, 'embedded', embedded),
      ...this.#decoderShared(k, mem, wCombine),
      this.#floatPointer(k, 'input0', rec.input0),
      this.#floatPointer(k, 'attention', rec.attention),
      this.#floatPointer(k, 'combined', rec.combined),
      this.#floatPointer(k, 'feeds', rec.feeds),
    ];
    const work = this.#decoderTable(k, this.#exports.decoderWorkFloats(cell, T, B, S, H, M, L), table);
    this.#exports.decoderForward(cell, T, B, S, E, H, M, L, ...args, work);
  }

  decoderBackward(
    shape: DecoderShape,
    layers: readonly DecoderLayer[],
    mem: DecoderMemory,
    wCombine: FloatSpan,
    rec: DecoderRecord,
    dFeeds: FloatSpan,
    dhN: readonly FloatSpan[],
    dcN: readonly FloatSpan[],
    grads: readonly DecoderLayerGrads[],
    out: DecoderGrads,
  ): void {
    check.checkDecoderBackward(shape, layers, mem, wCombine, rec, dFeeds, dhN, dcN, grads, out);
    const k = 'decoderBackward';
    const { kind, T, B, S, E, H, M } = shape,
      cell = CELL_KINDS.indexOf(kind),
      L = layers.length;
    const table = [
      ...this.#decoderLayers(k, layers),
      ...grads.flatMap((g, l) => [
        this.#floatPointer(k, `dhN[${l}]`, dhN[l]!),
        this.#floatPointer(k, `dcN[${l}]`, dcN[l]!),
        ...(['dGx', 'dGh', 'dh0', 'dc0', 'dbIh', 'dbHh'] as const).map((name) =>
          this.#floatPointer(k, `grads[${l}].${name}`, g[name]),
        ),
      ]),
    ];
    const args = [
      ...this.#decoderShared(k, mem, wCombine),
      this.#floatPointer(k, 'attention', rec.attention),
      this.#floatPointer(k, 'combined', rec.combined),
      this.#floatPointer(k, 'feeds', rec.feeds),
      this.#floatPointer(k, 'dFeeds', dFeeds),
      ...(['dEmbedded', 'dKeys', 'dMemory', 'dCombine', 'dFeed0'] as const).map((name) =>
        this.#floatPointer(k, name, out[name]),
      ),
    ];
    const work = this.#decoderTable(k, this.#exports.decoderWorkFloats(cell, T, B, S, H, M, L), table);
    this.#exports.decoderBackward(cell, T, B, S, E, H, M, L, ...args, work);
  }

  topK(N: number, V: number, K: number, scores: FloatSpan, values: FloatSpan, indices: IntSpan): void {
    check.checkTopK(N, V, K, scores, values, indices);
    const k = 'topK';
    this.#exports.topK(
      N,
      V,
      K,
      this.#floatPointer(k, 'scores', scores),
      this.#floatPointer(k, 'values', values),
      this.#intPointer(k, 'indices', indices),
    );
  }

  logSoftmax(N: number, V: number, x: FloatSpan, out: FloatSpan): void {
    check.checkLogSoftmax(N, V, x, out);
    this.#exports.logSoftmax(
      N,
      V,
      this.#floatPointer('logSoftmax', 'x', x),
      this.#floatPointer('logSoftmax', 'out', out),
    );
  }

  softmaxCrossEntropy(
    N: number,
    V: number,
    logits: FloatSpan,
    targets: IntSpan,
    scale: number,
    dLogits: FloatSpan | null,
    labelSmoothing = 0,
  ): number {
    check.checkSoftmaxCrossEntropy(N, V, logits, targets, scale, dLogits, labelSmoothing);
    const k = 'softmaxCrossEntropy';
    const x = this.#floatPointer(k, 'logits', logits),
      y = this.#intPointer(k, 'targets', targets);
    // Pointer 0 means "no gradient": a real buffer is never at 0 (the allocator starts above heapBase).
    const d = dLogits ? this.#floatPointer(k, 'dLogits', dLogits) : 0;
    return this.#exports.softmaxCrossEntropy(N, V, x, y, scale, d, labelSmoothing);
  }

  ctcLoss(
    T: number,
    B: number,
    C: number,
    S: number,
    logits: FloatSpan,
    targets: IntSpan,
    inputLengths: IntSpan,
    targetLengths: IntSpan,
    zeroInfinity: boolean,
    work: FloatSpan,
    losses: FloatSpan,
    dLogits: FloatSpan | null,
  ): number {
    check.checkCtcLoss(T, B, C, S, logits, targets, inputLengths, targetLengths, zeroInfinity, work, losses, dLogits);
    const k = 'ctcLoss';
    return this.#exports.ctcLoss(
      T,
      B,
      C,
      S,
      this.#floatPointer(k, 'logits', logits),
      this.#intPointer(k, 'targets', targets),
      this.#intPointer(k, 'inputLengths', inputLengths),
      this.#intPointer(k, 'targetLengths', targetLengths),
      zeroInfinity ? 1 : 0,
      this.#floatPointer(k, 'work', work),
      this.#floatPointer(k, 'losses', losses),
      dLogits ? this.#floatPointer(k, 'dLogits', dLogits) : 0,
    );
  }

  clipValue(x: FloatSpan, limit: number): void {
    check.checkClipValue(x, limit);
    this.#exports.clipValue(x.length, this.#floatPointer('clipValue', 'x', x), limit);
  }

  sumSquares(x: FloatSpan): number {
    check.checkSumSquares(x);
    return this.#exports.sumSquares(x.length, this.#floatPointer('sumSquares', 'x', x));
  }

  scale(x: FloatSpan, s: number): void {
    check.checkScale(x, s);
    this.#exports.scale(x.length, this.#floatPointer('scale', 'x', x), s);
  }

  dropout(x: FloatSpan, p: number, seed: number, mask: FloatSpan, out: FloatSpan): void {
    const k = 'dropout';
    check.checkDropout(x, p, seed, mask, out);
    this.#exports.dropout(
      x.length,
      this.#floatPointer(k, 'x', x),
      dropoutThreshold(p),
      Math.fround(1 / (1 - p)),
      seed,
      this.#floatPointer(k, 'mask', mask),
      this.#floatPointer(k, 'out', out),
    );
  }

  multiply(a: FloatSpan, b: FloatSpan, out: FloatSpan): void {
    const k = 'multiply';
    check.checkMultiply(a, b, out);
    this.#exports.multiply(
      a.length,
      this.#floatPointer(k, 'a', a),
      this.#floatPointer(k, 'b', b),
      this.#floatPointer(k, 'out', out),
    );
  }

  adagradUpdate(param: FloatSpan, grad: FloatSpan, sum: FloatSpan, lr: number, eps: number, weightDecay: number): void {
    const k = 'adagradUpdate';
    check.checkAdagradUpdate(param, grad, sum, lr, eps, weightDecay);
    this.#exports.adagradUpdate(
      param.length,
      this.#floatPointer(k, 'param', param),
      this.#floatPointer(k, 'grad', grad),
      this.#floatPointer(k, 'sum', sum),
      lr,
      eps,
      weightDecay,
    );
  }

  sgdUpdate(param: FloatSpan, grad: FloatSpan, lr: number, weightDecay: number): void {
    const k = 'sgdUpdate';
    check.checkSgdUpdate(param, grad, lr, weightDecay);
    this.#exports.sgdUpdate(
      param.length,
      this.#floatPointer(k, 'param', param),
      this.#floatPointer(k, 'grad', grad),
      lr,
      weightDecay,
    );
  }

  // The stateful updates: the derived constants (1 − dampening, 1 − α, 1 − β1, 1 − β2, Adam's bias corrections,
  // AdamW's 1 − lr·wd) are computed here in float64 once per call and passed as f32 arguments (rounded to
  // nearest by the call, like Math.fround), as native/optim.cc does in double; the kernel loops run in f32.
  momentumUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    buf: FloatSpan,
    lr: number,
    momentum: number,
    dampening: number,
    nesterov: boolean,
    weightDecay: number,
    first: boolean,
  ): void {
    const k = 'momentumUpdate';
    check.checkMomentumUpdate(param, grad, buf, lr, momentum, dampening, nesterov, weightDecay, first);
    this.#exports.momentumUpdate(
      param.length,
      this.#floatPointer(k, 'param', param),
      this.#floatPointer(k, 'grad', grad),
      this.#floatPointer(k, 'buf', buf),
      lr,
      momentum,
      1 - dampening,
      nesterov ? 1 : 0,
      weightDecay,
      first ? 1 : 0,
    );
  }

  rmspropUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    sq: FloatSpan,
    lr: number,
    alpha: number,
    eps: number,
    weightDecay: number,
  ): void {
    const k = 'rmspropUpdate';
    check.checkRmspropUpdate(param, grad, sq, lr, alpha, eps, weightDecay);
    this.#exports.rmspropUpdate(
      param.length,
      this.#floatPointer(k, 'param', param),
      this.#floatPointer(k, 'grad', grad),
      this.#floatPointer(k, 'sq', sq),
      lr,
      alpha,
      1 - alpha,
      eps,
      weightDecay,
    );
  }

  adamUpdate(
    param: FloatSpan,
    grad: FloatSpan,
    m: FloatSpan,
    v: FloatSpan,
    lr: number,
    beta1: number,
    beta2: number,
    eps: number,
    weightDecay: number,
    decoupled: boolean,
    step: number,
  ): void {
    const k = 'adamUpdate';
    check.checkAdamUpdate(param, grad, m, v, lr, beta1, beta2, eps, weightDecay, decoupled, step);
    const stepSize = lr / (1 - beta1 ** step),
      correction2 = Math.sqrt(1 - beta2 ** step);
    this.#exports.adamUpdate(
      param.length,
      this.#floatPointer(k, 'param', param),
      this.#floatPointer(k, 'grad', grad),
      this.#floatPointer(k, 'm', m),
      this.#floatPointer(k, 'v', v),
      stepSize,
      beta1,
      1 - beta1,
      beta2,
      1 - beta2,
      correction2,
      eps,
      weightDecay,
      1 - lr * weightDecay,
      decoupled ? 1 : 0,
    );
  }
}

function alignUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

/** The two builds of assembly/: plain f32x4 SIMD (rnnkit.wasm, the default) and relaxed SIMD
 *  (rnnkit.relaxed.wasm: f32x4.relaxed_madd, fused multiply-add where the CPU has it). */
export const WASM_BUILDS = ['simd', 'relaxed'] as const;
export type WasmBuild = (typeof WASM_BUILDS)[number];

/** A module (v128, v128, v128) → v128 whose body is one f32x4.relaxed_madd: valid only where the runtime
 *  has relaxed SIMD (Node 20 needs V8's --experimental-wasm-relaxed-simd; later versions have it on). */
const RELAXED_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, 0x03,
  0x02, 0x01, 0x00, 0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b,
]);

/** Whether this runtime can run the relaxed-SIMD build. */
export function wasmRelaxedSimdSupported(): boolean {
  try {
    return wasmApi().validate(RELAXED_PROBE);
  } catch {
    return false;
  }
}

/** Why the backend runs `threads` thread(s) when `threads` were asked for and SharedArrayBuffer is (not)
 *  available (in a page: whether it is cross-origin isolated). Worker failures are said by the backend. */
export function wasmThreadsReason(sharedMemory: boolean, threads = 1): string {
  if (!sharedMemory)
    return 'one thread: SharedArrayBuffer is unavailable (a page must be cross-origin isolated: COOP same-origin, COEP require-corp)';
  return threads <= 1 ? ONE_THREAD_ASKED : `${threads} threads: worker threads share the backend's WebAssembly memory`;
}

const ONE_THREAD_ASKED = 'one thread: one was asked for';

/** The module file of a build: the relaxed one where the runtime supports relaxed SIMD (`build` 'auto'). */
export function wasmFileOf(build: WasmBuild | 'auto' = 'auto'): string {
  if (build !== 'auto' && !(WASM_BUILDS as readonly string[]).includes(build)) {
    throw new TypeError(`wasm backend: build must be auto, ${WASM_BUILDS.join(', ')}; got ${JSON.stringify(build)}`);
  }
  const relaxed = build === 'relaxed' || (build === 'auto' && wasmRelaxedSimdSupported());
  return relaxed ? 'rnnkit.relaxed.wasm' : 'rnnkit.wasm';
}

/** How many threads, and how to start the workers. */
export interface WasmThreadOptions {
  /** Threads to run on, the caller's included (default 1). More than 1 needs SharedArrayBuffer and `spawn`. */
  threads?: number;
  /** Starts a worker thread (Node: wasm.ts; browser: web/wasm.ts). */
  spawn?: SpawnThread;
  /** How long the workers may take to start before the backend gives up on them (default 20 s). */
  startTimeoutMs?: number;
  /** Why threads cannot run here even with SharedArrayBuffer (e.g. a page's main thread cannot wait). */
  threadsRefused?: string;
}

/**
 * Instantiates rnnkit.wasm from its bytes (any JavaScript runtime: Node, a browser, a worker), on `threads`
 * threads where memory can be shared (else one, its threadsReason saying why). Throws an Error saying why when
 * the module is invalid or not the one this version builds.
 */
export async function instantiateWasmBackend(bytes: Uint8Array, options: WasmThreadOptions = {}): Promise<WasmBackend> {
  const api = wasmApi();
  const threads = options.threads ?? 1;
  let memoryImport: MemoryImport | null = null;
  try {
    memoryImport = memoryImportOf(bytes);
  } catch {
    // not a module: compile() below says why
  }
  const sharedSupported = sharedMemorySupported();
  const shared = threads > 1 && sharedSupported && !!options.spawn && !options.threadsRefused && !!memoryImport?.shared;
  let module: WasmModule;
  try {
    module = await api.compile(shared || !memoryImport ? bytes : unsharedMemoryModule(bytes, memoryImport));
  } catch (err) {
    throw new Error(
      `wasm backend: rnnkit.wasm is not a valid WebAssembly module for this runtime (${describe(err)}); ${REBUILD}`,
    );
  }
  const unexpected = api.Module.imports(module).filter((i) => !(i.module === 'env' && i.name === 'memory'));
  if (unexpected.length > 0) {
    const names = unexpected.map((i) => `${i.module}.${i.name}`).join(', ');
    throw new Error(
      `wasm backend: rnnkit.wasm expects imports (${names}), so it is not the module this version builds; ${REBUILD}`,
    );
  }
  // Without a memory import (not this version's module) the exports are checked, memory first.
  const imported =
    memoryImport && new api.Memory({ initial: memoryImport.initial, maximum: memoryImport.maximum, shared });
  const { exports } = await api.instantiate(module, imported ? { env: { memory: imported } } : {});
  const memory = imported ?? (exports.memory as WasmMemory | undefined);
  const missing: string[] = KERNEL_EXPORTS.filter((name) => typeof exports[name] !== 'function');
  if (!memory) missing.unshift('memory');
  if (missing.length > 0 || !memory) {
    throw new Error(`wasm backend: rnnkit.wasm lacks the export(s) ${missing.join(', ')} (stale build?); ${REBUILD}`);
  }
  const backend = new WasmBackend({ ...(exports as unknown as WasmExports), memory });
  if (shared) await backend.startThreads(module, threads - 1, options.spawn!, options.startTimeoutMs ?? 20_000);
  else if (threads > 1) backend.refuseThreads(options.threadsRefused ?? wasmThreadsReason(sharedSupported, threads));
  return backend;
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
