// The classifier's streaming API: after each piece, step() gives the probabilities of one classification of
// the whole text so far (ClassifierWorkspace.forward over it), bit for bit on each backend, for a forward
// 'last' model (carried state, down to one character per step) and for models that need the
// whole text (bidirectional, mean/max pooling); copy() and reset(); bad input in one line.
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backend/types.js';
import { ClassifierWorkspace, type Pooling } from '../src/model/classifier.js';
import { ClassifierStream } from '../src/model/classifier-stream.js';
import { Model } from '../src/model/model.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { makeRandom } from './helpers.js';

const V = 13,
  C = 3;

async function makeModel(backend: BackendName, bidirectional: boolean, cell: 'lstm' | 'gru' = 'lstm'): Promise<Model> {
  const model = new Model(await BACKEND_FACTORIES[backend](), {
    cell,
    nonlinearity: 'tanh',
    hidden: 12,
    layers: 2,
    embed: 5,
    vocabSize: V,
    bidirectional,
    outputs: C,
  });
  model.initialize(5);
  return model;
}

function wholeText(model: Model, pool: Pooling, ids: Int32Array): Float32Array {
  const w = new ClassifierWorkspace(model, ids.length, 1, pool);
  w.ids.data.set(ids);
  w.lengths.data[0] = ids.length;
  w.forward(ids.length, 1, false);
  return w.probabilities(1);
}

const text = (() => {
  const random = makeRandom(2);
  return Int32Array.from({ length: 150 }, () => Math.floor(random() * V));
})();
const PIECES = [4, 7, 5, 64, 9, 4, 33, 24]; // sums to 150; the carried stream takes at most 64 at a time

describe('ClassifierStream.step equals classifying the text so far', () => {
  for (const backend of TESTED_BACKENDS) {
    for (const [bidirectional, pool, cell] of [
      [false, 'last', 'lstm'],
      [false, 'last', 'gru'],
      [false, 'mean', 'lstm'],
      [true, 'max', 'gru'],
      [true, 'last', 'lstm'],
    ] as const) {
      it(`${backend}, ${cell}, ${bidirectional ? 'bidirectional' : 'forward'}, ${pool}: after every piece, bit for bit`, async () => {
        const model = await makeModel(backend, bidirectional, cell),
          stream = new ClassifierStream(model, pool);
        expect(stream.carriesState).toBe(!bidirectional && pool === 'last');
        const state = stream.createState();
        let end = 0;
        for (const size of PIECES) {
          const { probabilities } = stream.step(text.subarray(end, end + size), state);
          end += size;
          const expected = wholeText(model, pool, text.subarray(0, end));
          expect(
            Buffer.from(probabilities.buffer).equals(Buffer.from(expected.buffer)),
            `after ${end} characters: ${probabilities} vs ${expected}`,
          ).toBe(true);
        }
        expect(state.length).toBe(150);
      });
    }

    it(`${backend}: one character at a time (carried state) gives the text's probabilities bit for bit`, async () => {
      const model = await makeModel(backend, false),
        stream = new ClassifierStream(model, 'last'),
        state = stream.createState();
      let probabilities: Float32Array = new Float32Array(0);
      for (let t = 0; t < 40; t++) probabilities = stream.step(text.subarray(t, t + 1), state).probabilities;
      const expected = wholeText(model, 'last', text.subarray(0, 40));
      expect(Buffer.from(probabilities.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    });
  }

  it('copy() keeps a point of the text; reset() empties it', async () => {
    for (const [bidirectional, pool] of [
      [false, 'last'],
      [true, 'mean'],
    ] as const) {
      const model = await makeModel('reference', bidirectional),
        stream = new ClassifierStream(model, pool);
      const state = stream.createState();
      stream.step(text.subarray(0, 10), state);
      const kept = state.copy();
      const a = stream.step(text.subarray(10, 20), state).probabilities;
      expect(stream.step(text.subarray(10, 20), kept).probabilities).toEqual(a);
      kept.reset();
      expect(kept.length).toBe(0);
      expect(stream.step(text.subarray(0, 10), kept).probabilities).toEqual(
        wholeText(model, pool, text.subarray(0, 10)),
      );
    }
  });

  it("maxLen (a checkpoint's max_len): characters past it change nothing, as the classifier cuts its input", async () => {
    for (const [bidirectional, pool] of [
      [false, 'last'],
      [true, 'mean'],
    ] as const) {
      const model = await makeModel('reference', bidirectional),
        stream = new ClassifierStream(model, pool, { maxLen: 10 }),
        state = stream.createState();
      const expected = wholeText(model, pool, text.subarray(0, 10));
      expect(stream.step(text.subarray(0, 7), state).probabilities).toEqual(
        wholeText(model, pool, text.subarray(0, 7)),
      );
      expect(stream.step(text.subarray(7, 12), state).probabilities).toEqual(expected); // 3 of 5 kept
      expect(stream.step(text.subarray(12, 20), state).probabilities).toEqual(expected); // none kept
      expect(state.length).toBe(10);
      expect(() => stream.step([13], state)).toThrow(/id 13 at position 0 is outside/); // still checked
      const unlimited = new ClassifierStream(model, pool, { maxLen: 0 }),
        all = unlimited.createState();
      expect(unlimited.step(text.subarray(0, 20), all).probabilities).toEqual(
        wholeText(model, pool, text.subarray(0, 20)),
      );
      expect(all.length).toBe(20);
    }
    const model = await makeModel('reference', false);
    expect(() => new ClassifierStream(model, 'last', { maxLen: -1 })).toThrow(/maxLen must be an integer >= 0/);
  });

  it("refuses an id outside the vocabulary, an empty or too long piece and another stream's state, in one line", async () => {
    const model = await makeModel('reference', false),
      stream = new ClassifierStream(model, 'last', { maxSteps: 8 });
    const state = stream.createState();
    expect(() => stream.step([1, 13], state)).toThrow(/id 13 at position 1 is outside \[0, 13\)/);
    expect(() => stream.step([], state)).toThrow(/0 ids; a step takes 1 to 8 ids/);
    expect(() => stream.step(new Array(9).fill(1), state)).toThrow(/9 ids; a step takes 1 to 8 ids/);
    expect(() => stream.step([1], new ClassifierStream(model, 'max').createState())).toThrow(
      /a stream of another kind of model/,
    );
    expect(state.length).toBe(0);
  });
});
