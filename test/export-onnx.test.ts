// The ONNX export run in ONNX Runtime: for every cell, one and two layers, uni- and bidirectional, every
// pooling, on random ids with uneven lengths and random initial states, the outputs equal rnnkit's (the
// reference backend) within 1e-5; and feeding a sequence in two pieces through h0/c0 → hn/cn equals
// feeding it whole.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Span } from '../src/backend/types.js';
import { onnxModelBytes } from '../src/export/onnx/model.js';
import { ClassifierWorkspace, type Pooling } from '../src/model/classifier.js';
import { type ModelConfig, directionsOf } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { RecurrentStack } from '../src/model/stack.js';
import { expectClose, makeRandom, randomValues } from './helpers.js';

const CELLS: Pick<ModelConfig, 'cell' | 'nonlinearity'>[] = [
  { cell: 'rnn', nonlinearity: 'tanh' },
  { cell: 'rnn', nonlinearity: 'relu' },
  { cell: 'lstm', nonlinearity: 'tanh' },
  { cell: 'gru', nonlinearity: 'tanh' },
];
const H = 6,
  V = 9,
  T = 7,
  B = 4;
const LENGTHS = [7, 4, 6, 5]; // uneven, each above the first piece's 3 steps

function makeModel(config: Omit<ModelConfig, 'hidden' | 'vocabSize'>, seed: number): Model {
  const model = new Model(new ReferenceBackend(), { ...config, hidden: H, vocabSize: V });
  model.initialize(seed);
  return model;
}

const label = (c: Pick<ModelConfig, 'cell' | 'nonlinearity'>) => (c.cell === 'rnn' ? `rnn_${c.nonlinearity}` : c.cell);

interface Inputs {
  ids: Int32Array;
  lengths: Int32Array;
  h0: Float32Array;
  c0: Float32Array | null;
}

function randomInputs(model: Model, seed: number): Inputs {
  const random = makeRandom(seed),
    S = model.config.layers * directionsOf(model.config) * B * H;
  return {
    ids: Int32Array.from({ length: T * B }, () => Math.floor(random() * V)),
    lengths: Int32Array.from(LENGTHS),
    h0: Float32Array.from(randomValues(random, S, 0.5)),
    c0: model.config.cell === 'lstm' ? Float32Array.from(randomValues(random, S, 0.5)) : null,
  };
}

async function runOnnx(
  bytes: Uint8Array,
  model: Model,
  x: Inputs,
  steps: number,
): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(bytes);
  const S = model.config.layers * directionsOf(model.config);
  const feeds: Record<string, ort.Tensor> = {
    ids: new ort.Tensor('int32', x.ids, [steps, B]),
    lengths: new ort.Tensor('int32', x.lengths, [B]),
    h0: new ort.Tensor('float32', x.h0, [S, B, H]),
  };
  if (x.c0) feeds['c0'] = new ort.Tensor('float32', x.c0, [S, B, H]);
  const results = await session.run(feeds);
  await session.release();
  return Object.fromEntries(Object.entries(results).map(([name, t]) => [name, t.data as Float32Array]));
}

/** rnnkit's language model on a masked batch from given states: the stack, then the head (as Workspace.forward). */
function rnnkitLogits(model: Model, x: Inputs): { logits: Float32Array; hn: Float32Array; cn: Float32Array | null } {
  const backend = model.backend,
    stack = new RecurrentStack(model, T, B);
  stack.ids.data.set(x.ids);
  stack.lengths.data.set(x.lengths);
  const span = (a: Float32Array) => {
    const s = Span.of(backend.allocFloat(a.length));
    s.data.set(a);
    return s;
  };
  stack.forward(T, B, { h0: span(x.h0), c0: x.c0 ? span(x.c0) : null });
  const logits = Span.of(backend.allocFloat(T * B * V));
  backend.gemm(false, true, T * B, V, H, 1, stack.output(T, B), model.paramTensors.headWeight, 0, logits);
  backend.addBias(T * B, V, model.paramTensors.headBias, logits);
  const final = stack.finalState(B);
  return {
    logits: Float32Array.from(logits.data),
    hn: Float32Array.from(final.h.data),
    cn: final.c ? Float32Array.from(final.c.data) : null,
  };
}

/** Rows t ≥ from of a [T,B,·] array, for the sequences whose length reaches past `from`. */
const stepsFrom = (a: Float32Array, from: number, width: number) => a.slice(from * B * width);

describe('ONNX export of the language model, in ONNX Runtime', () => {
  for (const cell of CELLS) {
    for (const layers of [1, 2]) {
      const embed = layers === 1 ? 0 : 5; // one-hot and embedded input both
      it(`${label(cell)}, ${layers} layer(s), embed ${embed}: logits and final states equal rnnkit's; two pieces equal the whole`, async () => {
        const model = makeModel({ ...cell, layers, embed }, 11 + layers);
        const bytes = onnxModelBytes(model, { task: 'lm' }, { task: 'lm' }, 'test');
        const x = randomInputs(model, 5);
        const expected = rnnkitLogits(model, x);
        const whole = await runOnnx(bytes, model, x, T);
        // Past a length the recurrent output is zero in both, so the logits there are the head's bias in both.
        expectClose(whole['logits']!, expected.logits, 1e-5, 1e-5, 'logits');
        expectClose(whole['hn']!, expected.hn, 1e-5, 1e-5, 'hn');
        if (expected.cn) expectClose(whole['cn']!, expected.cn, 1e-5, 1e-5, 'cn');

        // The same sequences in pieces of 3 and T−3 steps, the second starting from the first's hn (cn).
        const k = 3;
        const first = await runOnnx(
          bytes,
          model,
          { ...x, ids: x.ids.slice(0, k * B), lengths: Int32Array.from(LENGTHS, () => k) },
          k,
        );
        const second = await runOnnx(
          bytes,
          model,
          {
            ids: x.ids.slice(k * B),
            lengths: Int32Array.from(LENGTHS, (L) => L - k),
            h0: first['hn']!,
            c0: first['cn'] ?? null,
          },
          T - k,
        );
        expectClose(first['logits']!, whole['logits']!.slice(0, k * B * V), 1e-6, 1e-6, 'first piece logits');
        // The second piece runs T−k steps; past each shortened length its rows are the bias, as the whole's are.
        expectClose(second['logits']!, stepsFrom(whole['logits']!, k, V), 1e-5, 1e-5, 'second piece logits');
        expectClose(second['hn']!, whole['hn']!, 1e-5, 1e-5, 'hn after two pieces');
        if (expected.cn) expectClose(second['cn']!, whole['cn']!, 1e-5, 1e-5, 'cn after two pieces');
      });
    }
  }
});

describe('ONNX export of the sequence classifier, in ONNX Runtime', () => {
  for (const cell of CELLS) {
    for (const layers of [1, 2]) {
      for (const bidirectional of [false, true]) {
        for (const pool of ['last', 'mean', 'max'] as Pooling[]) {
          it(`${label(cell)}, ${layers} layer(s), ${bidirectional ? 'bidirectional' : 'forward'}, ${pool} pooling: probabilities equal rnnkit's`, async () => {
            const model = makeModel({ ...cell, layers, embed: 4, bidirectional, outputs: 3 }, 3 + layers);
            const bytes = onnxModelBytes(model, { task: 'classify', pool }, { task: 'classify' }, 'test');
            const x = { ...randomInputs(model, 8), h0: new Float32Array(layers * directionsOf(model.config) * B * H) };
            if (x.c0) x.c0.fill(0); // the classifier starts every sequence from zeros
            const workspace = new ClassifierWorkspace(model, T, B, pool);
            workspace.ids.data.set(x.ids);
            workspace.lengths.data.set(x.lengths);
            workspace.forward(T, B, false);
            const onnx = await runOnnx(bytes, model, x, T);
            expectClose(onnx['probabilities']!, workspace.probabilities(B), 1e-5, 1e-5, 'probabilities');
          });
        }
      }
    }
  }

  it("a forward classifier with last pooling streams: two pieces through h0/hn give the whole sequence's probabilities", async () => {
    const model = makeModel({ cell: 'lstm', nonlinearity: 'tanh', layers: 2, embed: 4, outputs: 3 }, 9);
    const bytes = onnxModelBytes(model, { task: 'classify', pool: 'last' }, { task: 'classify' }, 'test');
    const zeros = () => new Float32Array(2 * B * H);
    const x = { ...randomInputs(model, 2), h0: zeros(), c0: zeros() };
    const whole = await runOnnx(bytes, model, x, T);
    const k = 3;
    const first = await runOnnx(
      bytes,
      model,
      { ...x, ids: x.ids.slice(0, k * B), lengths: Int32Array.from(LENGTHS, () => k) },
      k,
    );
    const second = await runOnnx(
      bytes,
      model,
      { ids: x.ids.slice(k * B), lengths: Int32Array.from(LENGTHS, (L) => L - k), h0: first['hn']!, c0: first['cn']! },
      T - k,
    );
    expectClose(second['probabilities']!, whole['probabilities']!, 1e-6, 1e-5, 'probabilities after two pieces');
    expect(second['probabilities']!.length).toBe(B * 3);
  });
});
