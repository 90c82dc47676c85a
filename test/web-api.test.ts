// rnnkit/web under Node: checkpoints as bytes/Blobs are the CLI's files byte for byte, a CLI checkpoint samples
// the same text through the web API as `rnnkit sample --backend wasm`, and in-memory training gives the same
// weights as the CLI's trainer on the same backend and seed.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../src/backend/index.js';
import { runTraining } from '../src/tasks/index.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../src/train/config.js';
import type { TrainEvent } from '../src/train/trainer.js';
import {
  MemoryTraining,
  languageModelBlob,
  languageModelBytes,
  loadLanguageModel,
  loadWasmBackend,
  sample,
  wasmThreads,
} from '../src/web/index.js';
import { cli } from './cli-helpers.js';

const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'rnnkit-web-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const TEXT = 'the quick brown fox jumps over the lazy dog. '.repeat(40);
/** The plain-SIMD build: the one Node 20 runs by default, so both sides compute the same bits. */
const wasmBytes = (): Uint8Array => new Uint8Array(readFileSync(new URL('../build/wasm/rnnkit.wasm', import.meta.url)));
const webWasm = () => loadWasmBackend({ bytes: wasmBytes() });

describe('checkpoints as bytes', () => {
  it('a checkpoint made by the CLI (native when it loads) loads from a Blob, re-encodes byte for byte, and samples as `rnnkit sample --backend wasm`', async () => {
    const out = join(tempDir(), 'run');
    const native = (await probeBackend('native')).loaded;
    const trained = await cli(
      'train',
      '--backend',
      native ? 'native' : 'wasm',
      '--steps',
      '30',
      '--hidden',
      '24',
      '--cell',
      'gru',
      '--seed',
      '5',
      '--out',
      out,
      '--quiet',
    );
    expect(trained.code, trained.err).toBe(0);
    const file = readFileSync(join(out, 'model.safetensors'));
    const { model, vocab } = await loadLanguageModel(new Blob([file]), await webWasm());
    expect(Buffer.from(languageModelBytes(model, vocab)).equals(file)).toBe(true);
    expect(Buffer.from(await languageModelBlob(model, vocab).arrayBuffer()).equals(file)).toBe(true);
    const sampled = await cli('sample', out, '--backend', 'wasm', '--seed', '11', '--length', '120');
    expect(sampled.code, sampled.err).toBe(0);
    const text = sample(model, vocab, { length: 120, seed: 11 });
    expect(text).toHaveLength(120);
    expect(`${text}\n`).toBe(sampled.out); // the CLI ends its output with a newline
  });

  it('refuses bytes that are not a model file, naming it', async () => {
    await expect(loadLanguageModel(new Uint8Array([1, 2, 3]), await webWasm(), 'upload.bin')).rejects.toThrow(
      'upload.bin: 3 bytes is too short to hold a header length',
    );
  });
});

describe('in-memory training', () => {
  const config: Partial<TrainConfig> = {
    cell: 'lstm',
    layers: 2,
    hidden: 24,
    dropout: 0.1,
    seq: 12,
    batch: 3,
    steps: 40,
    optimizer: 'adam',
    lr: 0.01,
    valFrac: 0.1,
    evalEvery: 10,
    sampleEvery: 10,
    sampleLength: 30,
    logEvery: 5,
    seed: 9,
  };

  it('gives the weights, losses and samples of the CLI trainer on the wasm backend, bit for bit', async () => {
    const out = join(tempDir(), 'run');
    const nodeEvents: TrainEvent[] = [];
    await runTraining({
      text: TEXT,
      config: { ...DEFAULT_TRAIN_CONFIG, ...config },
      backend: await webWasm(),
      out,
      onEvent: (e) => nodeEvents.push(e),
    });
    const training = new MemoryTraining(TEXT, await webWasm(), config);
    const webEvents: TrainEvent[] = [];
    const result = await training.train({ onEvent: (e) => webEvents.push(e) });
    expect(result.steps).toBe(40);
    expect(Buffer.from(training.run.modelBytes()).equals(readFileSync(join(out, 'model.safetensors')))).toBe(true);
    const comparable = (events: TrainEvent[]): unknown[] =>
      events.flatMap((e): unknown[] =>
        e.type === 'step'
          ? [[e.metrics.step, e.metrics.loss, e.metrics.val_loss]]
          : e.type === 'sample' || e.type === 'validation'
            ? [e]
            : [],
      );
    expect(comparable(webEvents)).toEqual(comparable(nodeEvents));
    expect(webEvents.filter((e) => e.type === 'sample')).toHaveLength(4);
  });

  it('stops after the current step when the signal fires, keeping the weights reached', async () => {
    const training = new MemoryTraining(TEXT, await webWasm(), { ...config, steps: 10_000 });
    const abort = new AbortController();
    const result = await training.train({
      signal: abort.signal,
      onEvent: (e) => e.type === 'step' && e.metrics.step >= 20 && abort.abort(),
    });
    expect(result.interrupted).toBe(true);
    expect(result.steps).toBe(20);
  });

  it('refuses a task other than lm and unknown settings, before allocating', async () => {
    const backend = await webWasm();
    expect(() => new MemoryTraining(TEXT, backend, { task: 'classify' })).toThrow(
      'the browser trains the language model (task lm) only, got task classify',
    );
    expect(() => new MemoryTraining(TEXT, backend, { hiden: 5 } as Partial<TrainConfig>)).toThrow(
      'config has no setting "hiden"',
    );
  });
});

describe('threads', () => {
  it('the web API and rnnkit info say how many threads the WebAssembly backend runs, and why', async () => {
    // Node has SharedArrayBuffer; the web API's default is the cores navigator reports (Node 20 has none: 1).
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
    expect(wasmThreads()).toEqual({
      threads: cores,
      reason:
        cores === 1
          ? 'one thread: one was asked for'
          : `${cores} threads: worker threads share the backend's WebAssembly memory`,
    });
    expect((await webWasm()).info().threads).toBe(1);
    const info = await cli('info', '--threads', '2');
    expect(info.out).toContain(
      "wasm       loaded      wasm-simd128, 2 threads\n           threads     2 threads: worker threads share the backend's WebAssembly memory\n",
    );
    const one = await cli('info', '--threads', '1');
    expect(one.out).toContain(
      'wasm       loaded      wasm-simd128, 1 thread\n           threads     one thread: one was asked for\n',
    );
  });
});
