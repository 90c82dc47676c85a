// Parity with PyTorch for variable-length (packed) and bidirectional sequences: fixtures written by a real
// PyTorch (test/fixtures/make_seq_fixtures.py, run by hand; its header documents every key) for
// - kind "stack": pack_padded_sequence → nn.RNN|LSTM|GRU(bidirectional=…) from a random initial state over
//   float frames → output, h_n (c_n), and the gradients of Σ output⊙R + Σ h_n⊙S (+ Σ c_n⊙Sc) w.r.t. every
//   parameter, the frames and the initial state: RecurrentStack must reproduce them;
// - kind "classify": SequenceClassifier (test/fixtures/sequence_classifier.py) → logits, probabilities, mean
//   cross-entropy and every parameter gradient: ClassifierWorkspace must reproduce them.
//
// Tolerance as test/pytorch-parity.test.ts: |rnnkit − PyTorch| <= 1e-5 + 1e-4·|PyTorch| element-wise.
// It runs on every backend under test in float32, and on the reference backend in float64 too.
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend } from '../src/backend/types.js';
import { ClassifierWorkspace, type Pooling } from '../src/model/classifier.js';
import type { ModelConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { RecurrentStack } from '../src/model/stack.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { expectClose, floatSpan } from './helpers.js';

const ABS = 1e-5;
const REL = 1e-4;

const BACKENDS: { label: string; make: () => Promise<Backend> }[] = [
  ...TESTED_BACKENDS.map((name) => ({ label: name, make: BACKEND_FACTORIES[name] })),
  { label: 'reference-f64', make: async () => new ReferenceBackend({ dtype: 'f64' }) },
];

const loaded = new Map<string, Promise<Backend>>();
/** One backend per label for the whole file (loading wasm or native for every case would be wasteful). */
const backendFor = (variant: (typeof BACKENDS)[number]): Promise<Backend> => {
  if (!loaded.has(variant.label)) loaded.set(variant.label, variant.make());
  return loaded.get(variant.label)!;
};

const FIXTURES = resolve(import.meta.dirname, 'fixtures', 'pytorch-seq');

type Cell = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru';

interface StackFixture {
  name: string;
  torch: string;
  kind: 'stack';
  cell: Cell;
  layers: number;
  bidirectional: boolean;
  T: number;
  B: number;
  I: number;
  H: number;
  lengths: number[];
  x: number[];
  h0: number[];
  c0?: number[];
  params: Record<string, number[]>;
  output: number[];
  h_n: number[];
  c_n?: number[];
  R: number[];
  S: number[];
  Sc?: number[];
  loss: number;
  grads: Record<string, number[]>;
  dx: number[];
  dh0: number[];
  dc0?: number[];
}

interface ClassifyFixture {
  name: string;
  torch: string;
  kind: 'classify';
  cell: ModelConfig['cell'];
  nonlinearity: ModelConfig['nonlinearity'];
  layers: number;
  bidirectional: boolean;
  embed: number;
  vocab: number;
  classes: number;
  pool: Pooling;
  T: number;
  B: number;
  H: number;
  ids: number[];
  lengths: number[];
  labels: number[];
  params: Record<string, number[]>;
  logits: number[];
  probs: number[];
  loss: number;
  grads: Record<string, number[]>;
}

const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(FIXTURES, f), 'utf8')) as StackFixture | ClassifyFixture);
const stackCases = fixtures.filter((f): f is StackFixture => f.kind === 'stack');
const classifyCases = fixtures.filter((f): f is ClassifyFixture => f.kind === 'classify');

const close = (actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void =>
  expectClose(actual, expected, ABS, REL, what);

/** The parameters in the fixture go into the model by name; the model's names (all, or those starting with
 *  `prefix`) must be the fixture's, in the same order. */
function loadParams(model: Model, params: Record<string, number[]>, prefix = ''): void {
  const tensors = model.params.tensors.filter((t) => t.name.startsWith(prefix));
  expect(
    tensors.map((t) => t.name),
    'state-dict names and order',
  ).toEqual(Object.keys(params));
  for (const t of tensors) t.view.data.set(params[t.name]!);
}

const sum = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

describe('PyTorch sequence fixtures', () => {
  it('cover every cell with 1 and 2 layers, uni and bi, B = 1, T = 1, and every pooling with one-hot and embedding input', () => {
    const cells: Cell[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru'];
    for (const cell of cells) {
      const stacks = stackCases.filter((c) => c.cell === cell);
      expect(new Set(stacks.map((c) => `${c.layers}-${c.bidirectional}`)), cell).toEqual(
        new Set(['1-false', '1-true', '2-false', '2-true']),
      );
      expect(stacks.some((c) => c.B === 1) && stacks.some((c) => c.T === 1), cell).toBe(true);
      const classify = classifyCases.filter((c) => (c.cell === 'rnn' ? `rnn_${c.nonlinearity}` : c.cell) === cell);
      expect(new Set(classify.map((c) => `${c.pool}-${c.bidirectional}`)).size, cell).toBe(6);
    }
    for (const pool of ['last', 'mean', 'max']) {
      expect(new Set(classifyCases.filter((c) => c.pool === pool).map((c) => c.embed > 0)), pool).toEqual(
        new Set([false, true]),
      );
    }
    for (const c of fixtures) expect(c.torch).toMatch(/^\d+\.\d+/);
  });
});

for (const variant of BACKENDS) {
  describe(`packed sequences: parity with PyTorch on ${variant.label}`, () => {
    for (const f of stackCases) {
      it(`${f.name}: output, h_n, c_n, gradients of the parameters, the frames and the initial state`, async () => {
        const backend = await backendFor(variant);
        const { T, B, I, H } = f;
        const lstm = f.cell === 'lstm';
        const config: ModelConfig = {
          cell: f.cell === 'lstm' || f.cell === 'gru' ? f.cell : 'rnn',
          nonlinearity: f.cell === 'rnn_relu' ? 'relu' : 'tanh',
          hidden: H,
          layers: f.layers,
          embed: 0,
          vocabSize: 2,
          frameWidth: I,
          bidirectional: f.bidirectional, // the frame width is its own (not the vocabulary's)
        };
        const model = new Model(backend, config);
        const stack = new RecurrentStack(model, T, B, { input: 'frames', inputGradient: true });
        const h0 = floatSpan(backend, f.h0),
          c0 = lstm ? floatSpan(backend, f.c0!) : null;
        const R = floatSpan(backend, f.R),
          S = floatSpan(backend, f.S),
          Sc = lstm ? floatSpan(backend, f.Sc!) : null;
        loadParams(model, f.params, 'rnn.');
        stack.frames.data.set(f.x);
        stack.lengths.data.set(f.lengths);

        stack.forward(T, B, { h0, c0 });
        const final = stack.finalState(B);
        close(stack.output(T, B).data, f.output, 'output');
        close(final.h.data, f.h_n, 'h_n');
        if (lstm) close(final.c!.data, f.c_n!, 'c_n');
        else expect(final.c).toBeNull();
        const loss =
          sum(stack.output(T, B).data, f.R) + sum(final.h.data, f.S) + (lstm ? sum(final.c!.data, f.Sc!) : 0);
        close([loss], [f.loss], 'loss');

        model.zeroGrads();
        stack.backward(T, B, R, S, Sc);
        for (const t of model.grads.tensors.filter((t) => t.name.startsWith('rnn.')))
          close(t.view.data, f.grads[t.name]!, `gradient of ${t.name}`);
        close(stack.inputGrad(T, B).data, f.dx, 'gradient of the frames');
        const initial = stack.initialStateGrad(B);
        close(initial.h.data, f.dh0, 'gradient of h0');
        if (lstm) close(initial.c!.data, f.dc0!, 'gradient of c0');
      });
    }
  });

  describe(`sequence classifier: parity with PyTorch on ${variant.label}`, () => {
    for (const f of classifyCases) {
      it(`${f.name}: logits, probabilities, loss and every gradient`, async () => {
        const backend = await backendFor(variant);
        const { T, B, H } = f;
        const config: ModelConfig = {
          cell: f.cell,
          nonlinearity: f.nonlinearity,
          hidden: H,
          layers: f.layers,
          embed: f.embed,
          vocabSize: f.vocab,
          bidirectional: f.bidirectional,
          outputs: f.classes,
        };
        const model = new Model(backend, config);
        const classifier = new ClassifierWorkspace(model, T, B, f.pool);
        loadParams(model, f.params);
        classifier.ids.data.set(f.ids);
        classifier.lengths.data.set(f.lengths);
        classifier.labels.data.set(f.labels);

        const loss = classifier.forward(T, B, true) / B;
        close(classifier.logits(B).data, f.logits, 'logits');
        close(classifier.probabilities(B), f.probs, 'probabilities');
        close([loss], [f.loss], 'loss');

        model.zeroGrads();
        classifier.backward(T, B);
        for (const t of model.grads.tensors) close(t.view.data, f.grads[t.name]!, `gradient of ${t.name}`);
      });
    }
  });
}
