// The recogniser's network (src/speech/ctc-model.ts): frames → bidirectional stack → per-frame head → CTC.
// Finite differences of every parameter on the float64 reference; wasm and native against it; frameWidth
// refused where it cannot apply.
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend } from '../src/backend/types.js';
import { type ModelConfig, validateConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { RecurrentStack } from '../src/model/stack.js';
import { CtcWorkspace } from '../src/speech/ctc-model.js';
import { checkGradient, expectClose, makeRandom } from './helpers.js';
import { kernelTargets } from './kernel-suite.js';

const T = 7,
  B = 3,
  S = 3,
  FW = 4,
  C = 5;
const lengths = [7, 5, 3],
  targetLengths = [2, 3, 1];
const targets = [1, 2, 0, 3, 3, 4, 2, 0, 0]; // [B,S]; the zeros are padding

function setup(backend: Backend, config: ModelConfig) {
  const model = new Model(backend, config);
  model.initialize(3);
  model.params.all.data.forEach((v, i, a) => (a[i] = v * 3)); // the nonlinearities' curved range
  const ws = new CtcWorkspace(model, T, B, S);
  const random = makeRandom(4);
  ws.frames.data.set(Array.from({ length: T * B * FW }, () => random() * 2 - 1));
  ws.lengths.data.set(lengths);
  ws.targets.data.set(targets);
  ws.targetLengths.data.set(targetLengths);
  return { model, ws };
}

const configs: ModelConfig[] = [
  {
    cell: 'lstm',
    nonlinearity: 'tanh',
    hidden: 3,
    layers: 2,
    embed: 0,
    vocabSize: 2,
    frameWidth: FW,
    outputs: C,
    bidirectional: true,
  },
  {
    cell: 'gru',
    nonlinearity: 'tanh',
    hidden: 4,
    layers: 1,
    embed: 0,
    vocabSize: 2,
    frameWidth: FW,
    outputs: C,
    bidirectional: false,
  },
];

describe('the CTC network', () => {
  for (const config of configs) {
    const name = `${config.cell} L=${config.layers} ${config.bidirectional ? 'bi' : 'uni'}`;
    it(`${name}: finite differences of every parameter (float64 reference)`, () => {
      const { model, ws } = setup(new ReferenceBackend({ dtype: 'f64' }), config);
      const loss = ws.forward(T, B, S);
      expect(Number.isFinite(loss) && loss > 0).toBe(true);
      model.zeroGrads();
      ws.backward(T, B);
      checkGradient(model.params.all.data, Float64Array.from(model.grads.all.data), () => ws.forward(T, B, S), name);
    });

    it(`${name}: wasm and native match the float64 reference`, async () => {
      const ref = setup(new ReferenceBackend({ dtype: 'f64' }), config);
      const expectedLoss = ref.ws.forward(T, B, S);
      ref.model.zeroGrads();
      ref.ws.backward(T, B);
      for (const target of await kernelTargets()) {
        const got = setup(target.backend, config);
        expectClose([got.ws.forward(T, B, S)], [expectedLoss], 1e-5, 1e-5, `${target.name} loss`);
        got.model.zeroGrads();
        got.ws.backward(T, B);
        expectClose(got.model.grads.all.data, ref.model.grads.all.data, 1e-5, 1e-3, `${target.name} gradients`);
      }
    });
  }

  it('log-probabilities of each utterance are its own frames, normalised', () => {
    const { ws } = setup(new ReferenceBackend({ dtype: 'f64' }), configs[0]!);
    ws.forward(T, B, null);
    const lp = ws.logProbs(T, B, 2);
    expect(lp.length).toBe(lengths[2]! * C);
    for (let t = 0; t < lengths[2]!; t++)
      expect(Array.from(lp.subarray(t * C, (t + 1) * C)).reduce((s, v) => s + Math.exp(v), 0)).toBeCloseTo(1, 6);
  });

  it('frameWidth is refused with an embedding, and ids need frameWidth = vocabSize', () => {
    expect(() => validateConfig({ ...configs[0]!, embed: 3 })).toThrow(
      'a frame width is for a model of float frames (embed 0), not one with an embedding',
    );
    const model = new Model(new ReferenceBackend(), configs[0]!);
    expect(() => new RecurrentStack(model, 2, 2, { input: 'ids' })).toThrow(
      'ids need a model whose frame width is its vocabulary size (one-hot), not 4',
    );
  });
});
