// Properties of the masked stack and the sequence classifier that hold for any weights: outputs past a
// length are zero; a sequence's results do not depend on padding nor on the other sequences of its batch;
// a batch equals each sequence run alone (outputs, final states, summed gradients); reusing buffers for a
// smaller batch leaves nothing stale; bad arguments get one clear error.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend/types.js';
import { ClassifierWorkspace, POOLINGS } from '../src/model/classifier.js';
import type { ModelConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { RecurrentStack, type StackInput } from '../src/model/stack.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { expectClose, expectError, floatSpan, makeRandom, randomValues } from './helpers.js';

// Every backend under test, loaded once for the file.
const BACKENDS: { label: string; make: () => Backend }[] = await Promise.all(
  TESTED_BACKENDS.map(async (name) => {
    const backend = await BACKEND_FACTORIES[name]();
    return { label: name, make: () => backend };
  }),
);

const H = 3,
  V = 5,
  T = 6;
const LENGTHS = [3, 6, 1, 5];
const B = LENGTHS.length;
const SHAPES: Pick<ModelConfig, 'cell' | 'nonlinearity' | 'bidirectional' | 'embed'>[] = [
  { cell: 'lstm', nonlinearity: 'tanh', bidirectional: true, embed: 0 },
  { cell: 'gru', nonlinearity: 'tanh', bidirectional: true, embed: 2 },
  { cell: 'rnn', nonlinearity: 'relu', bidirectional: false, embed: 0 },
  { cell: 'rnn', nonlinearity: 'tanh', bidirectional: true, embed: 0 },
];

const label = (s: (typeof SHAPES)[number], input: StackInput): string =>
  `${s.cell === 'rnn' ? `rnn-${s.nonlinearity}` : s.cell} ${s.bidirectional ? 'bi' : 'uni'} ${input === 'frames' ? 'frames' : s.embed ? 'embedding' : 'one-hot'}`;

interface Run {
  output: Float64Array; // [T,B,W]
  h: Float64Array; // [L·D,B,H]
  grads: Float64Array;
}

/** One stack run of L = 2 layers over `data` (ids or frames, time-major [T,B(,V)]) with loss Σ output⊙R. */
function runStack(
  backend: Backend,
  shape: (typeof SHAPES)[number],
  input: StackInput,
  steps: number,
  lengths: number[],
  data: number[],
  R: number[],
): Run {
  const n = lengths.length;
  const model = new Model(backend, {
    ...shape,
    embed: input === 'frames' ? 0 : shape.embed,
    hidden: H,
    layers: 2,
    vocabSize: V,
  });
  model.initialize(3);
  const stack = new RecurrentStack(model, steps, n, { input });
  const dOutput = floatSpan(backend, R);
  (input === 'frames' ? stack.frames : stack.ids).data.set(data);
  stack.lengths.data.set(lengths);
  stack.forward(steps, n);
  model.zeroGrads();
  stack.backward(steps, n, dOutput);
  return {
    output: Float64Array.from(stack.output(steps, n).data),
    h: Float64Array.from(stack.finalState(n).h.data),
    grads: Float64Array.from(model.grads.all.data),
  };
}

/** Time-major rows [T,n,width] of sequence b, its first `steps` steps. */
function rowsOf(data: ArrayLike<number>, n: number, width: number, b: number, steps: number): number[] {
  const rows: number[] = [];
  for (let t = 0; t < steps; t++) for (let k = 0; k < width; k++) rows.push(data[(t * n + b) * width + k]!);
  return rows;
}

function inputData(random: () => number, input: StackInput, steps: number, n: number): number[] {
  return input === 'frames'
    ? randomValues(random, steps * n * V)
    : Array.from({ length: steps * n }, () => Math.floor(random() * V));
}

for (const { label: backendLabel, make } of BACKENDS) {
  describe(`masked stack properties on ${backendLabel}`, () => {
    for (const shape of SHAPES) {
      for (const input of ['ids', 'frames'] as const) {
        if (input === 'frames' && shape.embed) continue;
        const D = shape.bidirectional ? 2 : 1,
          W = D * H,
          width = input === 'frames' ? V : 1;
        const random = makeRandom(21);
        const data = inputData(random, input, T, B);
        const R = randomValues(random, T * B * W);
        const base = runStack(make(), shape, input, T, LENGTHS, data, R);

        it(`${label(shape, input)}: outputs past each length are zero; h_n is the last valid output (forward) and step 0's (backward)`, () => {
          let nonzeroValid = 0; // the check would be empty if every output were 0
          for (let b = 0; b < B; b++) {
            for (let t = 0; t < T; t++) {
              const row = Array.from(base.output.subarray((t * B + b) * W, (t * B + b + 1) * W));
              if (t >= LENGTHS[b]!) expect(row, `sequence ${b} step ${t}`).toEqual(new Array(W).fill(0));
              else if (row.some((v) => v !== 0)) nonzeroValid++;
            }
            const top = (2 - 1) * D,
              last = LENGTHS[b]! - 1;
            expect(Array.from(base.h.subarray((top * B + b) * H, (top * B + b + 1) * H))).toEqual(
              Array.from(base.output.subarray((last * B + b) * W, (last * B + b) * W + H)),
            );
            if (D === 2)
              expect(Array.from(base.h.subarray(((top + 1) * B + b) * H, ((top + 1) * B + b + 1) * H))).toEqual(
                Array.from(base.output.subarray(b * W + H, b * W + 2 * H)),
              );
          }
          expect(nonzeroValid).toBeGreaterThan(0);
        });

        it(`${label(shape, input)}: a sequence's results do not depend on its padding nor on the other sequences`, () => {
          for (let b = 0; b < B; b++) {
            // Everything but sequence b's valid steps replaced (padding, other sequences, their R).
            const other = inputData(random, input, T, B),
              otherR = randomValues(random, T * B * W);
            for (let t = 0; t < LENGTHS[b]!; t++) {
              for (let k = 0; k < width; k++) other[(t * B + b) * width + k] = data[(t * B + b) * width + k]!;
              for (let k = 0; k < W; k++) otherR[(t * B + b) * W + k] = R[(t * B + b) * W + k]!;
            }
            const changed = runStack(make(), shape, input, T, LENGTHS, other, otherR);
            expect(rowsOf(changed.output, B, W, b, T), `outputs of sequence ${b}`).toEqual(
              rowsOf(base.output, B, W, b, T),
            );
            for (let r = 0; r < 2 * D; r++) {
              expect(
                Array.from(changed.h.subarray((r * B + b) * H, (r * B + b + 1) * H)),
                `h_n row ${r} of sequence ${b}`,
              ).toEqual(Array.from(base.h.subarray((r * B + b) * H, (r * B + b + 1) * H)));
            }
          }
        });

        it(`${label(shape, input)}: the batch equals each sequence run alone (outputs, final states, summed gradients)`, () => {
          const summed = new Float64Array(base.grads.length);
          for (let b = 0; b < B; b++) {
            const steps = LENGTHS[b]!;
            const alone = runStack(
              make(),
              shape,
              input,
              steps,
              [steps],
              rowsOf(data, B, width, b, steps),
              rowsOf(R, B, W, b, steps),
            );
            expectClose(alone.output, rowsOf(base.output, B, W, b, steps), 1e-6, 1e-5, `outputs of sequence ${b}`);
            expectClose(
              alone.h,
              Array.from({ length: 2 * D * H }, (_, i) => base.h[(Math.floor(i / H) * B + b) * H + (i % H)]!),
              1e-6,
              1e-5,
              `h_n of sequence ${b}`,
            );
            alone.grads.forEach((g, i) => (summed[i]! += g));
          }
          expectClose(summed, base.grads, 1e-5, 1e-4, 'gradients');
        });
      }
    }

    it('masked: false runs every sequence for T steps, as lengths of T do', () => {
      const backend = make();
      const model = new Model(backend, {
        cell: 'gru',
        nonlinearity: 'tanh',
        hidden: H,
        layers: 2,
        embed: 0,
        vocabSize: V,
        bidirectional: true,
      });
      model.initialize(1);
      const stack = new RecurrentStack(model, T, B);
      stack.ids.data.set(inputData(makeRandom(2), 'ids', T, B));
      stack.lengths.data.fill(T);
      stack.forward(T, B);
      const masked = Float64Array.from(stack.output(T, B).data);
      stack.lengths.data.set(LENGTHS);
      stack.forward(T, B, { masked: false });
      expect(Array.from(stack.output(T, B).data)).toEqual(Array.from(masked));
    });

    it('a stack reused after a smaller batch gives what a fresh stack gives (nothing stale)', () => {
      const backend = make();
      const model = new Model(backend, {
        cell: 'lstm',
        nonlinearity: 'tanh',
        hidden: H,
        layers: 2,
        embed: 0,
        vocabSize: V,
        bidirectional: true,
      });
      model.initialize(4);
      const random = makeRandom(8);
      const run = (stack: RecurrentStack, steps: number, lengths: number[], ids: number[]) => {
        const n = lengths.length,
          dhN = floatSpan(backend, randomValues(makeRandom(1), 4 * n * H));
        stack.ids.data.set(ids);
        stack.lengths.data.set(lengths);
        stack.forward(steps, n);
        model.zeroGrads();
        stack.backward(steps, n, null, dhN);
        return [
          Array.from(stack.output(steps, n).data),
          Array.from(stack.finalState(n).h.data),
          Array.from(model.grads.all.data),
          Array.from(stack.initialStateGrad(n).h.data),
        ];
      };
      // A smaller batch first: its states lie where the larger batch's initial states go.
      const reused = new RecurrentStack(model, T, B);
      run(reused, 3, [3, 2], inputData(random, 'ids', 3, 2));
      const ids = inputData(random, 'ids', T, B);
      expect(run(reused, T, LENGTHS, ids)).toEqual(run(new RecurrentStack(model, T, B), T, LENGTHS, ids));
    });

    it('without a dropout seed the stack is the one without dropout; seeds change the mask', () => {
      const backend = make();
      const model = new Model(backend, {
        cell: 'rnn',
        nonlinearity: 'tanh',
        hidden: H,
        layers: 3,
        embed: 0,
        vocabSize: V,
        bidirectional: true,
      });
      model.initialize(5);
      const ids = inputData(makeRandom(3), 'ids', T, B);
      const outputs = (dropout: number, dropoutSeed?: number): number[] => {
        const stack = new RecurrentStack(model, T, B, { dropout });
        stack.ids.data.set(ids);
        stack.lengths.data.set(LENGTHS);
        stack.forward(T, B, dropoutSeed === undefined ? {} : { dropoutSeed });
        return Array.from(stack.output(T, B).data);
      };
      const plain = outputs(0);
      expect(outputs(0.5)).toEqual(plain);
      expect(outputs(0.5, 1)).not.toEqual(plain);
      expect(outputs(0.5, 1)).toEqual(outputs(0.5, 1));
      expect(outputs(0.5, 2)).not.toEqual(outputs(0.5, 1));
    });
  });

  describe(`sequence classifier properties on ${backendLabel}`, () => {
    const C = 3;
    const makeClassifier = (backend: Backend, pool: (typeof POOLINGS)[number], steps: number, n: number) => {
      const model = new Model(backend, {
        cell: 'lstm',
        nonlinearity: 'tanh',
        hidden: H,
        layers: 2,
        embed: 2,
        vocabSize: V,
        bidirectional: true,
        outputs: C,
      });
      model.initialize(6);
      return { model, classifier: new ClassifierWorkspace(model, steps, n, pool) };
    };
    for (const pool of POOLINGS) {
      it(`${pool}: each sequence's logits equal the sequence classified alone, whatever its padding ids`, () => {
        const backend = make();
        const random = makeRandom(9);
        const { classifier } = makeClassifier(backend, pool, T, B);
        classifier.ids.data.set(inputData(random, 'ids', T, B));
        classifier.lengths.data.set(LENGTHS);
        classifier.forward(T, B, false);
        const logits = Array.from(classifier.logits(B).data);
        const probs = classifier.probabilities(B);
        for (let b = 0; b < B; b++) {
          expect(probs.subarray(b * C, (b + 1) * C).reduce((a, x) => a + x, 0)).toBeCloseTo(1, 6);
          const steps = LENGTHS[b]!;
          const alone = makeClassifier(backend, pool, steps, 1).classifier;
          alone.ids.data.set(rowsOf(classifier.ids.data, B, 1, b, steps));
          alone.lengths.data.set([steps]);
          alone.forward(steps, 1, false);
          expectClose(alone.logits(1).data, logits.slice(b * C, (b + 1) * C), 1e-6, 1e-5, `logits of sequence ${b}`);
        }
        for (let t = 0; t < T; t++)
          for (let b = 0; b < B; b++)
            if (t >= LENGTHS[b]!) classifier.ids.data[t * B + b] = (classifier.ids.data[t * B + b]! + 1) % V;
        classifier.forward(T, B, false);
        expect(Array.from(classifier.logits(B).data), 'padding ids changed').toEqual(logits);
      });

      it(`${pool}: reused after a smaller batch, the loss and gradients are a fresh classifier's`, () => {
        const backend = make();
        const random = makeRandom(10);
        const run = (
          classifier: ClassifierWorkspace,
          model: Model,
          steps: number,
          lengths: number[],
          ids: number[],
          labels: number[],
        ) => {
          classifier.ids.data.set(ids);
          classifier.lengths.data.set(lengths);
          classifier.labels.data.set(labels);
          const loss = classifier.forward(steps, lengths.length, true);
          model.zeroGrads();
          classifier.backward(steps, lengths.length);
          return [loss, ...model.grads.all.data];
        };
        const reused = makeClassifier(backend, pool, T, B);
        run(reused.classifier, reused.model, 4, [2, 4], inputData(random, 'ids', 4, 2), [2, 0]);
        const ids = inputData(random, 'ids', T, B);
        const fresh = makeClassifier(backend, pool, T, B);
        expect(run(reused.classifier, reused.model, T, LENGTHS, ids, [0, 1, 2, 1])).toEqual(
          run(fresh.classifier, fresh.model, T, LENGTHS, ids, [0, 1, 2, 1]),
        );
      });
    }
  });

  describe(`errors on ${backendLabel}`, () => {
    const backend = make();
    const lstm = new Model(backend, {
      cell: 'lstm',
      nonlinearity: 'tanh',
      hidden: H,
      layers: 2,
      embed: 0,
      vocabSize: V,
      bidirectional: true,
      outputs: 3,
    });
    const gru = new Model(backend, { cell: 'gru', nonlinearity: 'tanh', hidden: H, layers: 1, embed: 2, vocabSize: V });
    const stack = new RecurrentStack(lstm, T, B);
    stack.lengths.data.set(LENGTHS);

    it('refuses a batch larger than the stack, lengths outside [1, T], and backward without its forward', () => {
      expectError(() => stack.forward(T + 1, B), RangeError, `a batch of ${T + 1} steps: expected 1 to ${T}`);
      expectError(() => stack.forward(T, 0), RangeError, `a batch of 0 sequences: expected 1 to ${B}`);
      expectError(() => stack.forward(5, B), RangeError, 'length 6 of sequence 1 is outside [1, 5]');
      stack.lengths.data[2] = 0;
      expectError(() => stack.forward(T, B), RangeError, 'length 0 of sequence 2 is outside [1, 6]');
      stack.lengths.data.set(LENGTHS);
      stack.forward(T, 2);
      expectError(() => stack.backward(T, B, null), Error, `backward(${T}, ${B}) does not follow forward(${T}, ${B})`);
    });

    it('refuses states and gradients of the wrong size or for the wrong cell', () => {
      expectError(
        () => stack.forward(T, B, { h0: floatSpan(backend, new Array(5).fill(0)) }),
        RangeError,
        `h0 has 5 elements, expected ${4 * B * H} (L·D·B·H)`,
      );
      stack.forward(T, B);
      expectError(
        () => stack.backward(T, B, floatSpan(backend, [1])),
        RangeError,
        `dOutput has 1 elements, expected ${T * B * 2 * H} (T·B·D·H)`,
      );
      const gruStack = new RecurrentStack(gru, T, B);
      gruStack.lengths.data.set(LENGTHS);
      expectError(
        () => gruStack.forward(T, B, { c0: floatSpan(backend, new Array(B * H).fill(0)) }),
        TypeError,
        'c0 is only for LSTM cells, this model has gru',
      );
    });

    it('refuses frames for a model with an embedding, a bad dropout and an unknown pooling', () => {
      expect(() => new RecurrentStack(gru, T, B, { input: 'frames' })).toThrow(
        'float frames need a model without an embedding (embed 0; the frame width is frameWidth, else vocabSize)',
      );
      expect(() => new RecurrentStack(gru, T, B, { dropout: 1 })).toThrow(
        'dropout must be a probability in [0, 1), got 1',
      );
      expect(() => new RecurrentStack(lstm, T, B, { inputGradient: true })).toThrow(
        'inputGradient is for frames input (ids have no gradient)',
      );
      expect(() => new ClassifierWorkspace(lstm, T, B, 'first' as 'last')).toThrow(
        'pooling must be one of last, mean, max, got first',
      );
      expect(() => stack.inputGrad(T, B)).toThrow(
        'inputGrad() needs a stack with frames input built with inputGradient: true',
      );
    });

    it('refuses labels outside [0, C) and backward after a forward without labels', () => {
      const classifier = new ClassifierWorkspace(lstm, T, B, 'mean');
      classifier.lengths.data.set(LENGTHS);
      classifier.labels.data.set([0, 1, 3, 2]);
      expectError(() => classifier.forward(T, B, true), RangeError, 'label 3 of sequence 2 is outside [0, 3)');
      expect(classifier.forward(T, B, false)).toBeNaN();
      expectError(
        () => classifier.backward(T, B),
        Error,
        `backward(${T}, ${B}) does not follow forward(${T}, ${B}, true)`,
      );
    });

    it('the language-model workspace refuses a bidirectional model or a head that is not the vocabulary', async () => {
      const { Workspace } = await import('../src/model/workspace.js');
      expect(() => new Workspace(lstm, T, B)).toThrow(
        /bidirectional must be false and outputs equal the vocabulary size/,
      );
    });
  });
}
