// Streaming is exact on every engine: one stream fed one character at a time through
// LanguageModelStream.step / ClassifierStream.step gives, bit for bit, the whole text's forward, on the
// reference, wasm (plain and relaxed) and native at every SIMD level × 1, 2, 3 threads. A step is a 1-row
// matrix product, the whole text a T-row one, so this holds only because the few-rows GEMM paths sum each
// element in the packed kernel's order (the same K blocks): hidden sizes past every K block (256 for AVX2,
// NEON and wasm, 512 for AVX-512) and texts of 41 rows (native: transposed few-rows path) and 130 rows
// (native: packed path) are covered. The language model is also stepped with the backend's inference weights
// in use (native fp32: W_ih and the head packed once, as sampling runs it).
import { setFlagsFromString } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend } from '../src/backend/types.js';
import { ClassifierWorkspace } from '../src/model/classifier.js';
import { ClassifierStream } from '../src/model/classifier-stream.js';
import type { ModelConfig } from '../src/model/config.js';
import { inferenceMatrices } from '../src/model/inference-weights.js';
import { LanguageModelStream } from '../src/model/lm-stream.js';
import { Model } from '../src/model/model.js';
import { Workspace } from '../src/model/workspace.js';
import { wasmRelaxedSimdSupported } from '../src/backend/wasm.js';
import { makeRandom } from './helpers.js';
import { expectNativeLoads, kernelTargets } from './kernel-suite.js';

// Node 20 has relaxed SIMD behind a V8 flag: on in this test process (a fork of its own), as in kernel-suite.ts.
if (!wasmRelaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');

const V = 11;
type Cell = Pick<ModelConfig, 'cell' | 'nonlinearity' | 'embed' | 'hidden'>;
const CASES: { cell: Cell; T: number }[] = [
  { cell: { cell: 'lstm', nonlinearity: 'tanh', embed: 0, hidden: 20 }, T: 41 },
  { cell: { cell: 'gru', nonlinearity: 'tanh', embed: 6, hidden: 20 }, T: 41 },
  { cell: { cell: 'rnn', nonlinearity: 'relu', embed: 6, hidden: 20 }, T: 41 },
  { cell: { cell: 'lstm', nonlinearity: 'tanh', embed: 0, hidden: 520 }, T: 41 },
  { cell: { cell: 'gru', nonlinearity: 'tanh', embed: 7, hidden: 300 }, T: 130 },
];

function randomIds(n: number, seed: number): Int32Array {
  const random = makeRandom(seed);
  return Int32Array.from({ length: n }, () => Math.floor(random() * V));
}

const sameBits = (a: Float32Array, b: Float32Array): boolean => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));

/** The language model's logits [T, V] and final h, whole text vs one character per step. */
function languageModel(backend: Backend, cell: Cell, T: number): { whole: Float32Array[]; steps: Float32Array[] } {
  const model = new Model(backend, { ...cell, layers: 2, vocabSize: V });
  model.initialize(7);
  const ids = randomIds(T, 3);
  const workspace = new Workspace(model, T, 1);
  workspace.resetState();
  workspace.ids.data.set(ids);
  workspace.forward(T, false);
  const whole = [Float32Array.from(workspace.logits(T).data), Float32Array.from(workspace.state(1).h.data)];
  workspace.dispose();
  const stream = new LanguageModelStream(model);
  // As the stream's users step it, and as sampling does: with the backend's inference weights in use (native:
  // the weights packed once, bf16/fp32 snapshots), where it has them.
  const weights = backend.inferenceWeights?.(inferenceMatrices(model)) ?? null;
  const stepped = (run: <R>(fn: () => R) => R): Float32Array[] => {
    const state = stream.createState(),
      logits = new Float32Array(T * V);
    for (let t = 0; t < T; t++)
      logits.set(
        run(() => stream.step(ids.subarray(t, t + 1), state).logits),
        t * V,
      );
    return [logits, Float32Array.from(state.h.subarray(model.config.hidden))];
  };
  const steps = stepped((fn) => fn());
  if (weights) {
    whole.push(...whole);
    steps.push(...stepped((fn) => weights.run(fn)));
    weights.dispose();
  }
  stream.dispose();
  model.dispose();
  return { whole, steps };
}

/** The classifier's probabilities after each of the first 8 and the last character: whole text so far vs
 *  the carried stream fed one character at a time. */
function classifier(backend: Backend, cell: Cell, T: number): { whole: Float32Array[]; steps: Float32Array[] } {
  const model = new Model(backend, { ...cell, layers: 2, vocabSize: V, bidirectional: false, outputs: 3 });
  model.initialize(5);
  const ids = randomIds(T, 4);
  const checked = [1, 2, 3, 4, 5, 6, 7, 8, T];
  const workspace = new ClassifierWorkspace(model, T, 1, 'last');
  const whole = checked.map((n) => {
    workspace.ids.data.set(ids.subarray(0, n));
    workspace.lengths.data[0] = n;
    workspace.forward(n, 1, false);
    return Float32Array.from(workspace.probabilities(1));
  });
  workspace.dispose();
  const stream = new ClassifierStream(model, 'last'),
    state = stream.createState(),
    steps: Float32Array[] = [];
  for (let t = 0; t < T; t++) {
    const { probabilities } = stream.step(ids.subarray(t, t + 1), state);
    if (checked.includes(t + 1)) steps.push(Float32Array.from(probabilities));
  }
  stream.dispose();
  model.dispose();
  return { whole, steps };
}

describe('one stream, one character per step, equals the whole text bit for bit on every engine', () => {
  expectNativeLoads();
  for (const { cell, T } of CASES) {
    const name = `${cell.cell} H${cell.hidden}, ${T} characters`;
    for (const [what, run] of [
      ['LanguageModelStream', languageModel],
      ['ClassifierStream', classifier],
    ] as const) {
      it(`${what}, ${name}`, async () => {
        const engines: [string, Backend][] = [
          ['reference', new ReferenceBackend()],
          ...(await kernelTargets()).map((t) => [t.name, t.backend] as [string, Backend]),
        ];
        const failed: string[] = [];
        for (const [engine, backend] of engines) {
          const { whole, steps } = run(backend, cell, T);
          expect(steps.length).toBe(whole.length);
          whole.forEach((w, i) => {
            if (!sameBits(steps[i]!, w)) failed.push(`${engine} (output ${i})`);
          });
        }
        expect(failed, 'engines whose steps differ from the whole text').toEqual([]);
        const names = engines.map(([engine]) => engine);
        expect(names).toContain('wasm');
        if (wasmRelaxedSimdSupported()) expect(names).toContain('wasm relaxed');
      });
    }
  }
});
