// Disposal keeps a long-lived wasm backend bounded: freed blocks are reused (zeroed), neighbours merge, a
// disposed model's buffers refuse every use, and 50 models built and trained one after another (one server
// process, one page) leave the WebAssembly memory where the first few left it.
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Span } from '../src/backend/types.js';
import { type WasmBackend, loadWasmBackend } from '../src/backend/wasm.js';
import { Model } from '../src/model/model.js';
import { MemoryTraining } from '../src/web/trainer.js';

const TEXT = 'to be or not to be, that is the question. '.repeat(30);
const SHAPES = [
  { cell: 'lstm', hidden: 32, layers: 2 },
  { cell: 'gru', hidden: 48, layers: 1 },
  { cell: 'rnn', hidden: 20, layers: 3 },
] as const;

describe('wasm allocation with free', () => {
  it('reuses a freed block, zeroed, and merges neighbours so the top comes back down', async () => {
    const wasm = await loadWasmBackend();
    const base = wasm.bytesAllocated;
    const a = wasm.allocFloat(100),
      b = wasm.allocFloat(50),
      c = wasm.allocFloat(10);
    a.data.fill(7);
    const aPtr = a.data.byteOffset;
    wasm.free(a);
    const again = wasm.allocFloat(60); // first fit: inside a's old block
    expect(again.data.byteOffset).toBe(aPtr);
    expect(Array.from(again.data).every((v) => v === 0)).toBe(true);
    wasm.free(again);
    wasm.free(c);
    wasm.free(b);
    expect(wasm.bytesAllocated).toBe(base);
    expect(wasm.bytesInUse).toBe(base);
    const fromTop = wasm.allocFloat(160); // below the high-water mark: someone's bytes before, zeroed now
    expect(fromTop.data.byteOffset).toBe(aPtr);
    expect(Array.from(fromTop.data).every((v) => v === 0)).toBe(true);
  });

  it('a freed buffer and a disposed model refuse every use, with a message saying why', async () => {
    const wasm = await loadWasmBackend();
    const buf = wasm.allocFloat(4);
    wasm.free(buf);
    expect(() => buf.data).toThrow('wasm backend: this buffer was freed (its model or workspace was disposed)');
    const model = new Model(wasm, { cell: 'rnn', nonlinearity: 'tanh', hidden: 4, layers: 1, embed: 0, vocabSize: 3 });
    const weight = model.params.all;
    model.dispose();
    expect(() => wasm.scale(weight, 2)).toThrow('scale: x was freed (its model or workspace was disposed)');
    expect(() => wasm.free(new ReferenceBackend().allocFloat(1))).toThrow(
      'free: the buffer is not one of this wasm backend',
    );
  });

  it('a disposed backend refuses allocation', async () => {
    const wasm = await loadWasmBackend();
    const kept = Span.of(wasm.allocFloat(3));
    wasm.dispose();
    expect(() => wasm.allocFloat(1)).toThrow('allocFloat: this wasm backend was disposed');
    expect(() => wasm.sumSquares(kept)).toThrow('sumSquares: x was freed');
  });
});

describe('50 models one after another', () => {
  /** Trains model i; returns its model file and the memory's size after it. */
  const trainOne = async (
    wasm: WasmBackend,
    i: number,
    dispose: boolean,
  ): Promise<{ file: Uint8Array; memory: number }> => {
    const training = new MemoryTraining(TEXT, wasm, {
      ...SHAPES[i % SHAPES.length],
      steps: 3,
      seq: 16,
      batch: 4,
      valFrac: 0.1,
      evalEvery: 3,
      sampleEvery: 3,
      sampleLength: 20,
      seed: i,
    });
    const result = await training.train();
    expect(result.steps).toBe(3);
    const file = training.run.modelBytes();
    if (dispose) training.dispose();
    return { file, memory: wasm.memory.buffer.byteLength };
  };

  it('with dispose(), the WebAssembly memory after 50 equals that after the first 3, and nothing stays in use', async () => {
    const wasm = await loadWasmBackend();
    const base = wasm.bytesInUse;
    const sizes: number[] = [];
    for (let i = 0; i < 50; i++) {
      const { file, memory } = await trainOne(wasm, i, true);
      sizes.push(memory);
      expect(wasm.bytesInUse).toBe(base);
      // Reused memory computes what fresh memory does: the same weights as on a new backend.
      if (i % 10 === 9)
        expect(Buffer.from(file).equals((await trainOne(await loadWasmBackend(), i, false)).file), `model ${i}`).toBe(
          true,
        );
    }
    expect(sizes[49]).toBe(sizes[2]);
  });

  it('without dispose(), memory grows with every model (what the test above guards against)', async () => {
    const wasm = await loadWasmBackend();
    const sizes = [];
    for (let i = 0; i < 6; i++) sizes.push((await trainOne(wasm, i, false)).memory);
    expect(sizes[5]).toBeGreaterThan(sizes[2]!);
  });
});
