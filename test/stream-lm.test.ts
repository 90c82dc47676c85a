// The language model's streaming API: step() over a text in pieces (one character, or uneven pieces) gives
// the logits of one whole-text Workspace.forward and its final state, bit for bit on each backend, down to
// one character of one stream (every SIMD level and both wasm builds: stream-engines.test.ts); copy() and
// reset() do what they say; bad input is refused.
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../src/backend/types.js';
import { Vocabulary } from '../src/data/vocab.js';
import { generate, generateFrom } from '../src/generate/sample.js';
import { LanguageModelStream } from '../src/model/lm-stream.js';
import { Model } from '../src/model/model.js';
import { Workspace } from '../src/model/workspace.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { makeRandom } from './helpers.js';

const V = 11,
  T = 41; // 4 streams × 41 steps = 164 rows: past native's few-rows GEMM path (< 128 rows) too
const CELLS = [
  { cell: 'lstm', nonlinearity: 'tanh', embed: 0 },
  { cell: 'gru', nonlinearity: 'tanh', embed: 6 },
  { cell: 'rnn', nonlinearity: 'relu', embed: 6 },
] as const;

async function makeModel(backend: BackendName, cell: (typeof CELLS)[number]): Promise<Model> {
  const model = new Model(await BACKEND_FACTORIES[backend](), { ...cell, hidden: 20, layers: 2, vocabSize: V });
  model.initialize(7);
  return model;
}

function randomIds(n: number, seed: number): Int32Array {
  const random = makeRandom(seed);
  return Int32Array.from({ length: n }, () => Math.floor(random() * V));
}

/** The whole text in one forward from zeros: logits [T,B,V] and the final h of every layer. */
function wholeForward(model: Model, ids: Int32Array, B: number): { logits: Float32Array; h: Float32Array } {
  const workspace = new Workspace(model, T, B);
  workspace.resetState();
  workspace.ids.data.set(ids);
  workspace.forward(T, false);
  const h = new Float32Array(model.config.layers * B * model.config.hidden);
  for (let l = 0; l < model.config.layers; l++) h.set(workspace.state(l).h.data, l * B * model.config.hidden);
  return { logits: Float32Array.from(workspace.logits(T).data), h };
}

/** The same text through step() in pieces of the given sizes (summing to T). */
function stepped(
  model: Model,
  ids: Int32Array,
  B: number,
  pieces: number[],
): { logits: Float32Array; h: Float32Array } {
  const stream = new LanguageModelStream(model, { batch: B, maxSteps: 8 });
  const state = stream.createState(),
    logits = new Float32Array(T * B * V);
  let t = 0;
  for (const size of pieces) {
    logits.set(stream.step(ids.subarray(t * B, (t + size) * B), state).logits, t * B * V);
    t += size;
  }
  expect(t).toBe(T);
  return { logits, h: Float32Array.from(state.h) };
}

const ONE_AT_A_TIME = Array<number>(T).fill(1);
const UNEVEN = [3, 1, 5, 2, 8, 4, 8, 8, 2];

describe('LanguageModelStream.step equals the whole-text forward', () => {
  for (const backend of TESTED_BACKENDS) {
    for (const cell of CELLS) {
      it(`${backend}, ${cell.cell}: 4 streams, one step at a time and in uneven pieces, bit for bit`, async () => {
        const model = await makeModel(backend, cell),
          B = 4,
          ids = randomIds(T * B, 3);
        const whole = wholeForward(model, ids, B);
        for (const pieces of [ONE_AT_A_TIME, UNEVEN]) {
          const steps = stepped(model, ids, B, pieces);
          expect(
            Buffer.from(steps.logits.buffer).equals(Buffer.from(whole.logits.buffer)),
            `logits, pieces ${pieces.join(',')}`,
          ).toBe(true);
          expect(Buffer.from(steps.h.buffer).equals(Buffer.from(whole.h.buffer)), 'final state').toBe(true);
        }
      });

      it(`${backend}, ${cell.cell}: 1 stream, one character at a time, bit for bit`, async () => {
        const model = await makeModel(backend, cell),
          ids = randomIds(T, 4);
        const whole = wholeForward(model, ids, 1),
          steps = stepped(model, ids, 1, ONE_AT_A_TIME);
        expect(Buffer.from(steps.logits.buffer).equals(Buffer.from(whole.logits.buffer)), 'logits').toBe(true);
        expect(Buffer.from(steps.h.buffer).equals(Buffer.from(whole.h.buffer)), 'final state').toBe(true);
      });
    }
  }
});

describe('stream states', () => {
  it('copy() branches: a copy advanced twice gives the same logits; reset() starts the text again', async () => {
    const model = await makeModel('reference', CELLS[0]!),
      stream = new LanguageModelStream(model);
    const state = stream.createState();
    stream.step([1, 2, 3], state);
    const branch = state.copy();
    const first = Float32Array.from(stream.step([4], state).logits);
    expect(Float32Array.from(stream.step([4], branch).logits)).toEqual(first);
    expect(branch.h).toEqual(state.h);
    const fresh = Float32Array.from(stream.step([5], stream.createState()).logits);
    branch.reset();
    expect(Float32Array.from(stream.step([5], branch).logits)).toEqual(fresh);
    expect(fresh).not.toEqual(first);
  });

  it('sampling from a state equals sampling after the same prime', async () => {
    const model = await makeModel('reference', CELLS[1]!),
      vocab = new Vocabulary('abcdefghijk'.split(''));
    const expected = [...generate(model, vocab, { length: 20, prime: 'abcab', seed: 9 })].map((c) => c[0]).join('');
    const stream = new LanguageModelStream(model),
      state = stream.createState();
    stream.feed(vocab.encode('abca', 'prime'), state);
    const fromState = [
      ...generateFrom(stream, vocab, state, Int32Array.of(vocab.encode('b', 'x')[0]!), { length: 20, seed: 9 }),
    ]
      .map((c) => c[0])
      .join('');
    expect(fromState).toBe(expected);
  });

  it('refuses a piece longer than maxSteps, an id outside the vocabulary and a state of another shape, in one line', async () => {
    const model = await makeModel('reference', CELLS[0]!),
      stream = new LanguageModelStream(model, { maxSteps: 4 });
    const state = stream.createState();
    expect(() => stream.step([1, 2, 3, 4, 5], state)).toThrow(/5 ids are not 1 to 4 steps \(maxSteps\) of 1 stream/);
    expect(() => stream.step([1, V], state)).toThrow(/id 11 at position 1 is outside \[0, 11\)/);
    expect(() => stream.step([1], new LanguageModelStream(model, { batch: 2 }).createState())).toThrow(
      /the state is one of 2 stream\(s\)/,
    );
  });
});
