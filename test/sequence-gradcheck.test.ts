// Finite-difference gradient checks, on the reference backend in float64, of the masked recurrent stack
// (every cell, 1 and 2 layers, uni- and bidirectional, one-hot / embedding / float-frame input, unsorted
// lengths including 1 and T, B = 1, dropout) and of the sequence classifier (every pooling).
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { FloatSpan } from '../src/backend/types.js';
import { ClassifierWorkspace, POOLINGS, type Pooling } from '../src/model/classifier.js';
import type { ModelConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { RecurrentStack, type StackInput } from '../src/model/stack.js';
import { checkGradient, floatSpan, makeRandom, randomValues } from './helpers.js';

type Shape = Pick<ModelConfig, 'cell' | 'nonlinearity' | 'layers' | 'bidirectional'>;
type InputKind = 'one-hot' | 'embedding' | 'frames';

const H = 3,
  V = 4,
  E = 3;
const CELLS: Pick<ModelConfig, 'cell' | 'nonlinearity'>[] = [
  { cell: 'rnn', nonlinearity: 'tanh' },
  { cell: 'rnn', nonlinearity: 'relu' },
  { cell: 'lstm', nonlinearity: 'tanh' },
  { cell: 'gru', nonlinearity: 'tanh' },
];

const name = (s: Shape): string =>
  `${s.cell === 'rnn' ? `rnn-${s.nonlinearity}` : s.cell} L=${s.layers} ${s.bidirectional ? 'bi' : 'uni'}`;

/** A float64 model with larger weights than the default, so the nonlinearities work in their curved range. */
function makeModel(shape: Shape, embed: number, outputs?: number): Model {
  const model = new Model(new ReferenceBackend({ dtype: 'f64' }), {
    ...shape,
    hidden: H,
    embed,
    vocabSize: V,
    ...(outputs ? { outputs } : {}),
  });
  model.initialize(7);
  model.params.all.data.forEach((v, i, a) => (a[i] = v * 3));
  return model;
}

/** Checks every parameter, the initial state (and the frames) of loss = Σ output⊙R + Σ h_n⊙S (+ Σ c_n⊙Sc)
 *  from random h0 (c0), as PyTorch's fixtures define it. */
function checkStack(shape: Shape, inputKind: InputKind, T: number, lengths: number[], dropout = 0): void {
  const B = lengths.length,
    L = shape.layers,
    D = shape.bidirectional ? 2 : 1,
    lstm = shape.cell === 'lstm';
  const model = makeModel(shape, inputKind === 'embedding' ? E : 0);
  const input: StackInput = inputKind === 'frames' ? 'frames' : 'ids';
  const stack = new RecurrentStack(model, T, B, { input, dropout, inputGradient: input === 'frames' });
  const backend = model.backend,
    random = makeRandom(11),
    states = L * D * B * H;
  const h0 = floatSpan(backend, randomValues(random, states, 0.5));
  const c0 = lstm ? floatSpan(backend, randomValues(random, states, 0.5)) : null;
  const R = floatSpan(backend, randomValues(random, T * B * D * H)); // random at padded steps too
  const S = floatSpan(backend, randomValues(random, states));
  const Sc = lstm ? floatSpan(backend, randomValues(random, states)) : null;
  // Valid ids and finite frames at padded steps too: none of them may matter.
  if (input === 'frames') stack.frames.data.set(randomValues(random, T * B * V));
  else stack.ids.data.set(Array.from({ length: T * B }, () => Math.floor(random() * V)));
  stack.lengths.data.set(lengths);
  const dot = (a: FloatSpan, b: FloatSpan): number => {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += a.data[i]! * b.data[i]!;
    return sum;
  };
  const loss = (): number => {
    stack.forward(T, B, { h0, c0, ...(dropout > 0 ? { dropoutSeed: 99 } : {}) });
    const final = stack.finalState(B);
    return dot(stack.output(T, B), R) + dot(final.h, S) + (lstm ? dot(final.c!, Sc!) : 0);
  };
  loss();
  model.zeroGrads();
  stack.backward(T, B, R, S, Sc);
  const grads = Float64Array.from(model.grads.all.data);
  const initial = stack.initialStateGrad(B);
  const dh0 = Float64Array.from(initial.h.data),
    dc0 = initial.c ? Float64Array.from(initial.c.data) : null;
  const dFrames = input === 'frames' ? Float64Array.from(stack.inputGrad(T, B).data) : null;
  for (const tensor of model.params.tensors) {
    const grad = grads.subarray(tensor.offset, tensor.offset + tensor.view.length);
    if (tensor.name.startsWith('head.'))
      expect(
        grad.every((g) => g === 0),
        `${tensor.name} is not part of the stack`,
      ).toBe(true);
    else checkGradient(tensor.view.data, grad, loss, tensor.name);
  }
  checkGradient(h0.data, dh0, loss, 'h0');
  if (c0) checkGradient(c0.data, dc0!, loss, 'c0');
  if (dFrames) checkGradient(stack.frames.data, dFrames, loss, 'frames');
}

describe('finite-difference gradients of the masked stack (reference backend, float64)', () => {
  const inputs: InputKind[] = ['one-hot', 'embedding', 'frames'];
  for (const cell of CELLS) {
    for (const layers of [1, 2]) {
      for (const bidirectional of [false, true]) {
        for (const input of inputs) {
          const shape = { ...cell, layers, bidirectional };
          it(`${name(shape)} ${input}, T=4, lengths [2, 4, 1]`, () => checkStack(shape, input, 4, [2, 4, 1]));
        }
      }
    }
    const shape = { ...cell, layers: 2, bidirectional: true };
    it(`${name(shape)} embedding, one sequence shorter than T (B=1)`, () => checkStack(shape, 'embedding', 5, [3]));
    it(`${name(shape)} frames, T=1`, () => checkStack(shape, 'frames', 1, [1, 1]));
  }
  it('lstm L=3 bi one-hot with dropout 0.4 between layers', () =>
    checkStack({ cell: 'lstm', nonlinearity: 'tanh', layers: 3, bidirectional: true }, 'one-hot', 4, [3, 1, 4], 0.4));
  it('gru L=2 bi frames with dropout 0.5 between layers', () =>
    checkStack({ cell: 'gru', nonlinearity: 'tanh', layers: 2, bidirectional: true }, 'frames', 4, [4, 2], 0.5));
});

describe('finite-difference gradients of the sequence classifier (reference backend, float64)', () => {
  const T = 5,
    lengths = [3, 5, 1, 4],
    labels = [2, 0, 1, 2],
    C = 3;
  const check = (shape: Shape, embed: number, pool: Pooling, dropout = 0): void => {
    const B = lengths.length;
    const model = makeModel(shape, embed, C);
    const classifier = new ClassifierWorkspace(model, T, B, pool, { dropout });
    const random = makeRandom(5);
    classifier.ids.data.set(Array.from({ length: T * B }, () => Math.floor(random() * V)));
    classifier.lengths.data.set(lengths);
    classifier.labels.data.set(labels);
    const loss = (): number => classifier.forward(T, B, true, dropout > 0 ? 7 : undefined) / B;
    loss();
    model.zeroGrads();
    classifier.backward(T, B);
    const grads = Float64Array.from(model.grads.all.data);
    for (const tensor of model.params.tensors) {
      checkGradient(
        tensor.view.data,
        grads.subarray(tensor.offset, tensor.offset + tensor.view.length),
        loss,
        tensor.name,
      );
    }
  };
  for (const pool of POOLINGS) {
    for (const [c, cell] of CELLS.entries()) {
      for (const bidirectional of [false, true]) {
        const shape = { ...cell, layers: 2, bidirectional };
        const embed = (c + (bidirectional ? 1 : 0)) % 2 === 0 ? 0 : E;
        it(`${pool} pooling, ${name(shape)}, ${embed ? 'embedding' : 'one-hot'}`, () => check(shape, embed, pool));
      }
    }
  }
  it('last pooling, lstm L=3 bi, dropout 0.3', () =>
    check({ cell: 'lstm', nonlinearity: 'tanh', layers: 3, bidirectional: true }, E, 'last', 0.3));
});
