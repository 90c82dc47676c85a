// Finite-difference gradient checks of every parameter and of the initial state, on the reference backend
// in float64, for every cell, one-hot and embedding input, one and two layers, B > 1, T > 1.
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { ModelConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { Workspace } from '../src/model/workspace.js';
import { checkGradient, makeRandom } from './helpers.js';

const T = 4,
  B = 2,
  V = 5;

function setup(config: Omit<ModelConfig, 'vocabSize'>, dropout = 0) {
  const model = new Model(new ReferenceBackend({ dtype: 'f64' }), { ...config, vocabSize: V });
  model.initialize(7);
  // Larger weights than the default make the nonlinearities work in their curved range.
  model.params.all.data.forEach((v, i, a) => (a[i] = v * 3));
  const ws = new Workspace(model, T, B, { dropout });
  const random = makeRandom(11);
  ws.ids.data.set(Array.from({ length: T * B }, () => Math.floor(random() * V)));
  ws.targets.data.set(Array.from({ length: T * B }, () => Math.floor(random() * V)));
  const initial = Array.from({ length: config.layers }, () => ({
    h: Float64Array.from({ length: B * config.hidden }, () => random() - 0.5),
    c: Float64Array.from({ length: B * config.hidden }, () => random() - 0.5),
  }));
  // Mean loss of one chunk from the fixed initial state.
  const loss = (): number => {
    ws.resetState();
    initial.forEach((s, l) => {
      const state = ws.state(l);
      state.h.data.set(s.h);
      state.c?.data.set(s.c);
    });
    return ws.forward(T, true, dropout > 0 ? 1234 : undefined) / (T * B);
  };
  return { model, ws, loss, initial };
}

const cases: Omit<ModelConfig, 'vocabSize'>[] = [];
for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  for (const nonlinearity of cell === 'rnn' ? (['tanh', 'relu'] as const) : (['tanh'] as const)) {
    cases.push({ cell, nonlinearity, hidden: 3, layers: 2, embed: 0 });
    cases.push({ cell, nonlinearity, hidden: 4, layers: 1, embed: 3 });
  }
}

const withDropout: [Omit<ModelConfig, 'vocabSize'>, number][] = [
  ...cases.map((c) => [c, 0] as [Omit<ModelConfig, 'vocabSize'>, number]),
  [{ cell: 'lstm', nonlinearity: 'tanh', hidden: 3, layers: 3, embed: 2 }, 0.4],
  [{ cell: 'gru', nonlinearity: 'tanh', hidden: 3, layers: 2, embed: 0 }, 0.5],
];

describe('finite-difference gradients (reference backend, float64)', () => {
  for (const [config, dropout] of withDropout) {
    it(`${config.cell}-${config.nonlinearity} L=${config.layers} E=${config.embed} dropout=${dropout}`, () => {
      const { model, ws, loss, initial } = setup(config, dropout);
      loss();
      model.zeroGrads();
      ws.backward(T);
      const grads = Float64Array.from(model.grads.all.data);
      const stateGrads = initial.map((_, l) => {
        const { h, c } = ws.stateGrad(l);
        return { h: Float64Array.from(h.data), c: c ? Float64Array.from(c.data) : null };
      });
      for (const tensor of model.params.tensors) {
        checkGradient(
          tensor.view.data,
          grads.subarray(tensor.offset, tensor.offset + tensor.view.length),
          loss,
          tensor.name,
        );
      }
      initial.forEach((state, l) => {
        checkGradient(state.h, stateGrads[l]!.h, loss, `initial h of layer ${l}`);
        if (stateGrads[l]!.c) checkGradient(state.c, stateGrads[l]!.c!, loss, `initial c of layer ${l}`);
      });
    });
  }
});

describe('dropout in the workspace', () => {
  it('applies only when forward() gets a seed, with a mask that depends on the seed', () => {
    const { ws } = setup({ cell: 'lstm', nonlinearity: 'tanh', hidden: 3, layers: 2, embed: 0 }, 0.5);
    const lossWith = (seed?: number): number => {
      ws.resetState();
      return ws.forward(T, true, seed);
    };
    const plain = lossWith();
    expect(lossWith()).toBe(plain);
    expect(lossWith(1)).not.toBe(plain);
    expect(lossWith(1)).toBe(lossWith(1));
    expect(lossWith(2)).not.toBe(lossWith(1));
  });

  it('refuses a dropout outside [0, 1)', () => {
    expect(() => setup({ cell: 'gru', nonlinearity: 'tanh', hidden: 3, layers: 2, embed: 0 }, 1)).toThrow(
      /dropout must be a probability in \[0, 1\), got 1/,
    );
    expect(() => setup({ cell: 'gru', nonlinearity: 'tanh', hidden: 3, layers: 2, embed: 0 }, -0.5)).toThrow(
      /got -0.5/,
    );
  });
});
