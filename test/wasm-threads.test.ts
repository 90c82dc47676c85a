// The WebAssembly backend on worker threads: the GEMM, the cells and whole training runs give the same bits on
// 1, 2 and 3 threads (the split is fixed by rows, columns and streams, never by the thread count), and they
// agree with the reference backend; workers that cannot start leave the backend on one thread, saying why,
// within a bounded time; dispose() ends the workers; a worker that dies during a call (exits, runs out of
// memory, throws) or between calls makes that call or the next throw one RnnkitError instead of hanging, and
// the backend refuses every call after it; a slow worker is waited for.
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend, CellKind, FloatSpan, IntSpan } from '../src/backend/types.js';
import { gatesOf } from '../src/backend/types.js';
import {
  type WasmBackend,
  loadWasmBackend,
  nodeThreadSpawner,
  spawnNodeThread,
  threadScript,
} from '../src/backend/wasm.js';
import type { SpawnThread, ThreadHandle } from '../src/backend/wasm-threads.js';
import { RnnkitError } from '../src/errors.js';
import { MemoryTraining } from '../src/web/trainer.js';
import { expectClose, floatSpan, intSpan, makeRandom, randomValues } from './helpers.js';

const THREADS = [1, 2, 3] as const;
const backends: WasmBackend[] = [];
async function wasmOn(threads: number): Promise<WasmBackend> {
  const backend = await loadWasmBackend({ threads });
  expect(backend.info().threads).toBe(threads);
  backends.push(backend);
  return backend;
}
afterAll(() => backends.forEach((b) => b.dispose()));

/** The first element whose bits differ (-1: none; NaNs compare by their bits too). */
function firstDifference(a: Float32Array, b: Float32Array): number {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length),
    y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  if (x.length !== y.length) return Math.min(x.length, y.length);
  return x.findIndex((bits, i) => bits !== y[i]);
}

/** Runs `compute` on 1, 2 and 3 threads; every output must be the same bits; returns the 1-thread outputs. */
async function sameOnEveryThreadCount(compute: (backend: Backend) => Float32Array[]): Promise<Float32Array[]> {
  const results: Float32Array[][] = [];
  for (const threads of THREADS) results.push(compute(await wasmOn(threads)));
  for (const [i, result] of results.entries()) {
    result.forEach((out, o) =>
      expect(firstDifference(out, results[0]![o]!), `output ${o} on ${THREADS[i]} threads`).toBe(-1),
    );
  }
  return results[0]!;
}

describe('GEMM on threads', () => {
  // Shapes cut by rows and by columns, with edge tiles, a K beyond one cache block, and few rows (M < 4).
  const shapes = [
    [300, 257, 129],
    [70, 600, 300],
    [2, 1000, 300],
    [3, 515, 260],
    [129, 33, 70],
  ] as const;
  for (const [M, N, K] of shapes) {
    it(`${M}×${N}×${K}: the same bits on 1, 2, 3 threads for every transpose and beta, close to the reference`, async () => {
      const random = makeRandom(M * 7 + N);
      const a = randomValues(random, M * K),
        b = randomValues(random, K * N),
        c = randomValues(random, M * N);
      const cases = [false, true].flatMap((tA) =>
        [false, true].flatMap((tB) => [0, 1, 0.3].map((beta) => [tA, tB, beta] as const)),
      );
      const run = (backend: Backend): Float32Array[] =>
        cases.map(([tA, tB, beta]) => {
          const C = floatSpan(backend, c);
          backend.gemm(tA, tB, M, N, K, 0.7, floatSpan(backend, a), floatSpan(backend, b), beta, C);
          return Float32Array.from(C.data.subarray(C.offset, C.offset + C.length));
        });
      const wasm = await sameOnEveryThreadCount(run);
      run(new ReferenceBackend()).forEach((expected, i) => expectClose(wasm[i]!, expected, 1e-4, 1e-4, `case ${i}`));
    });
  }
});

/** Inputs of one cell call; lengths sorted longest first (some streams end early). */
function cellCase(kind: CellKind, T: number, B: number, H: number, seed: number) {
  const random = makeRandom(seed);
  const GH = gatesOf(kind) * H;
  const lengths = Array.from({ length: B }, (_, b) => Math.max(1, T - Math.floor((b * T) / (B + 3))));
  return {
    xProj: randomValues(random, T * B * GH),
    wHh: randomValues(random, GH * H, 0.3),
    bIh: randomValues(random, GH),
    bHh: randomValues(random, GH),
    h0: randomValues(random, B * H),
    dhs: randomValues(random, T * B * H),
    dhN: randomValues(random, B * H),
    dcN: randomValues(random, B * H),
    lengths,
  };
}

function runCell(backend: Backend, kind: CellKind, T: number, B: number, H: number, packed: boolean, seed: number) {
  const v = cellCase(kind, T, B, H, seed);
  const GH = gatesOf(kind) * H;
  const CW = kind === 'lstm' || kind === 'gru' ? 4 * H : 0;
  const f = (values: ArrayLike<number>): FloatSpan => floatSpan(backend, values);
  const zeros = (n: number): FloatSpan => f(new Float32Array(n));
  const hsInit = new Float32Array((T + 1) * B * H);
  hsInit.set(v.h0);
  const hs = f(hsInit),
    cs = zeros(kind === 'lstm' ? (T + 1) * B * H : 0),
    cache = zeros(T * B * CW);
  const lengths: IntSpan | null = packed ? intSpan(backend, v.lengths) : null;
  const wHh = f(v.wHh);
  backend.cellForward(kind, T, B, H, f(v.xProj), wHh, f(v.bIh), f(v.bHh), hs, cs, cache, null, lengths);
  const dGx = zeros(T * B * GH),
    dGh = zeros(T * B * GH),
    dh0 = zeros(B * H),
    dc0 = zeros(kind === 'lstm' ? B * H : 0),
    dbIh = f(randomValues(makeRandom(seed + 1), GH)),
    dbHh = zeros(GH),
    dhSteps = zeros(T * B * H);
  backend.cellBackward(
    kind,
    T,
    B,
    H,
    wHh,
    hs,
    cs,
    cache,
    f(v.dhs),
    f(v.dhN),
    f(kind === 'lstm' ? v.dcN : []),
    dGx,
    dGh,
    dh0,
    dc0,
    dbIh,
    dbHh,
    lengths,
    dhSteps,
  );
  return [hs, cs, cache, dGx, dGh, dh0, dc0, dbIh, dbHh, dhSteps].map((s) =>
    Float32Array.from(s.data.subarray(s.offset, s.offset + s.length)),
  );
}

describe('cells on threads', () => {
  // Each with B·G·H·H >= 2^16 multiply-adds per step, so that the streams are split (in chunks of 4).
  const cases = [
    ['lstm', 6, 12, 40, false],
    ['lstm', 5, 10, 46, true],
    ['gru', 6, 13, 48, true],
    ['rnn_tanh', 7, 16, 70, false],
    ['rnn_relu', 5, 9, 96, true],
  ] as const;
  for (const [kind, T, B, H, packed] of cases) {
    it(`${kind} T${T} B${B} H${H}${packed ? ' with lengths' : ''}: forward and backward the same bits on 1, 2, 3 threads, close to the reference`, async () => {
      const run = (backend: Backend): Float32Array[] => runCell(backend, kind, T, B, H, packed, T * 100 + B);
      const wasm = await sameOnEveryThreadCount(run);
      run(new ReferenceBackend()).forEach((expected, i) => expectClose(wasm[i]!, expected, 2e-4, 1e-3, `output ${i}`));
    });
  }
});

describe('training on threads', () => {
  it('an LSTM trained 12 steps has the same weights, bit for bit, on 1, 2 and 3 threads', async () => {
    const text = 'the quick brown fox jumps over the lazy dog; pack my box with five dozen liquor jugs. '.repeat(20);
    const config = {
      cell: 'lstm',
      hidden: 64,
      layers: 2,
      embed: 16,
      seq: 12,
      batch: 12,
      steps: 12,
      optimizer: 'adam',
    } as const;
    const models: Uint8Array[] = [];
    for (const threads of THREADS) {
      const training = new MemoryTraining(text, await wasmOn(threads), config);
      await training.train();
      models.push(training.run.modelBytes());
    }
    expect(Buffer.from(models[1]!).equals(Buffer.from(models[0]!))).toBe(true);
    expect(Buffer.from(models[2]!).equals(Buffer.from(models[0]!))).toBe(true);
  });
});

describe('starting and stopping the workers', () => {
  /** Workers from `source` (eval'd); `exited` gets a promise of each one's exit. */
  const evalWorkers =
    (source: string, exited: Promise<number>[]): SpawnThread =>
    (_index, report) => {
      const worker = new Worker(source, { eval: true });
      exited.push(new Promise((resolve) => worker.once('exit', resolve)));
      worker.on('error', (error) => report({ kind: 'failed', message: error.message }));
      return { postMessage: (m) => worker.postMessage(m), terminate: () => void worker.terminate() };
    };

  it('a worker that throws at start: one thread within the time limit, and the reason says so', async () => {
    const exited: Promise<number>[] = [];
    const t0 = Date.now();
    const backend = await loadWasmBackend({ threads: 3, spawn: evalWorkers('throw new Error("no luck")', exited) });
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(backend.info().threads).toBe(1);
    expect(backend.threadsReason).toMatch(/^one thread: worker thread [12] failed to start: no luck$/);
    const C = floatSpan(backend, [0]);
    backend.gemm(false, false, 1, 1, 1, 1, floatSpan(backend, [2]), floatSpan(backend, [3]), 0, C);
    expect(C.data[C.offset]).toBe(6); // it still computes, on this thread
  });

  it('workers that never say ready: one thread after startTimeoutMs, and they are terminated', async () => {
    const exited: Promise<number>[] = [];
    const backend = await loadWasmBackend({
      threads: 2,
      startTimeoutMs: 300,
      spawn: evalWorkers('setInterval(() => {}, 1000)', exited),
    });
    expect(backend.info().threads).toBe(1);
    expect(backend.threadsReason).toBe('one thread: worker threads not ready within 0.3 s (0 of 1)');
    expect(exited).toHaveLength(1);
    await Promise.all(exited); // terminated
  });

  it('a spawn that throws: one thread, saying why', async () => {
    const backend = await loadWasmBackend({
      threads: 2,
      spawn: () => {
        throw new Error('no workers here');
      },
    });
    expect(backend.threadsReason).toBe('one thread: worker thread 1 could not be created: no workers here');
  });

  it('dispose() ends every worker', async () => {
    const exited: Promise<number>[] = [];
    const recording: SpawnThread = (index, report) => {
      const worker = new Worker(threadScript());
      exited.push(new Promise((resolve) => worker.once('exit', () => resolve(index))));
      worker.on('message', report);
      return { postMessage: (m) => worker.postMessage(m), terminate: () => void worker.terminate() };
    };
    const backend = await loadWasmBackend({ threads: 3, spawn: recording });
    expect(backend.info().threads).toBe(3);
    backend.dispose();
    expect(await Promise.all(exited)).toEqual([0, 1]);
    expect(backend.info().threads).toBe(1);
    expect(backend.threadsReason).toBe('one thread: the backend was disposed');
  });

  it('kernels on threads keep refusing spans the allocator does not vouch for', async () => {
    const backend = await wasmOn(2);
    const A = floatSpan(backend, new Float32Array(300 * 300));
    const B = floatSpan(backend, new Float32Array(300 * 300));
    const C = floatSpan(backend, new Float32Array(300 * 300));
    backend.free(B.buf);
    expect(() => backend.gemm(false, false, 300, 300, 300, 1, A, B, 0, C)).toThrow('gemm: B was freed');
    const other = floatSpan(new ReferenceBackend(), new Float32Array(300 * 300));
    expect(() => backend.gemm(false, false, 300, 300, 300, 1, A, other, 0, C)).toThrow(
      'gemm: B is not a float buffer of this wasm backend',
    );
  });
});

describe('a worker that dies', () => {
  const M = 300; // cut into at least 3 parts: worker thread 2 (spawn index 1) has one
  const random = makeRandom(11);
  const a = randomValues(random, M * M),
    b = randomValues(random, M * M);
  const gemm = (backend: Backend): Float32Array => {
    const C = floatSpan(backend, new Float32Array(M * M));
    backend.gemm(false, false, M, M, M, 1, floatSpan(backend, a), floatSpan(backend, b), 0, C);
    return Float32Array.from(C.data.subarray(C.offset, C.offset + C.length));
  };
  /** 3 threads whose worker thread 2 runs test/fixtures/wasm-thread-dies.mjs. */
  const withMisbehaving = async (dies: string, resourceLimits?: { maxOldGenerationSizeMb: number }) => {
    const script = new URL('./fixtures/wasm-thread-dies.mjs', import.meta.url);
    const misbehaving = nodeThreadSpawner(script, {
      workerData: { dies },
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    const backend = await loadWasmBackend({
      threads: 3,
      spawn: (index, report) => (index === 1 ? misbehaving : spawnNodeThread)(index, report),
    });
    backends.push(backend);
    expect(backend.info().threads).toBe(3);
    return backend;
  };
  const REST =
    "; this backend cannot compute any more (the call's outputs are not valid): load a new one, or use threads 1 (--threads 1), and resume a training run from its checkpoint (--resume)";
  const GONE = 'it stopped running: terminated, out of memory or exited';

  /** The error a call throws (it must throw). */
  const errorOf = (call: () => unknown): RnnkitError => {
    try {
      call();
    } catch (error) {
      expect(error).toBeInstanceOf(RnnkitError);
      return error as RnnkitError;
    }
    throw new Error('the call did not throw');
  };

  const cases = [
    ['exits', undefined, GONE],
    ['runs out of memory', { maxOldGenerationSizeMb: 32 }, GONE],
    ['throws', undefined, 'it threw: Error: a kernel part failed'],
  ] as const;
  for (const [dies, limits, why] of cases) {
    it(`one that ${dies} during a GEMM: the call throws one line saying so (no hang), and so does every call after it`, async () => {
      const backend = await withMisbehaving(dies, limits);
      const bias = floatSpan(backend, [1]),
        out = floatSpan(backend, [2]);
      const error = errorOf(() => gemm(backend));
      expect(error.code).toBe('ERR_BACKEND_UNAVAILABLE');
      expect(error.message).toBe(`wasm backend: worker thread 2 died during gemm (${why})${REST}`);
      expect(backend.info().threads).toBe(1);
      expect(backend.threadsReason).toBe(error.message);
      // Every later call, threaded or not, and allocations refuse with the same line.
      expect(() => gemm(backend)).toThrow(error.message);
      expect(() => backend.allocFloat(4)).toThrow(error.message);
      expect(() => backend.addBias(1, 1, bias, out)).toThrow(error.message);
      backend.dispose();
    });
  }

  it('one terminated between calls: its exit event is seen, and the next call throws', async () => {
    const handles: ThreadHandle[] = [];
    const recording: SpawnThread = (index, report) => {
      const handle = spawnNodeThread(index, report);
      handles.push(handle);
      return handle;
    };
    const backend = await loadWasmBackend({ threads: 2, spawn: recording });
    backends.push(backend);
    const expected = gemm(new ReferenceBackend());
    expectClose(gemm(backend), expected, 1e-4, 1e-4, 'before');
    handles[0]!.terminate();
    await vi.waitFor(() => expect(backend.info().threads).toBe(1), { timeout: 60_000, interval: 50 });
    const error = errorOf(() => gemm(backend));
    expect(error.message).toBe(`wasm backend: worker thread 1 died (it exited with code 1)${REST}`);
  });

  it('a slow one is waited for (its part takes 1 s, several liveness intervals): the same bits as one thread', async () => {
    const backend = await withMisbehaving('is slow');
    const slow = gemm(backend);
    expect(firstDifference(slow, gemm(await wasmOn(1)))).toBe(-1);
    expect(backend.info().threads).toBe(3);
  });
});
