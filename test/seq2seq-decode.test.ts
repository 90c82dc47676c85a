// Greedy decoding and beam search (src/model/seq2seq-decode.ts): K = 1 equals greedy; with a beam wide
// enough to hold every hypothesis, the n-best list and its scores equal an exhaustive search scored by the
// teacher-forced model; outputs never exceed --max-length; batched decoding equals one input at a time, also
// when inputs that are done leave the batch's rows.
import { describe, expect, test } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend } from '../src/backend/types.js';
import { loadWasmBackend } from '../src/backend/wasm.js';
import type { Cell } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { Seq2SeqWorkspace } from '../src/model/seq2seq.js';
import { type Hypothesis, Seq2SeqDecoder, lengthPenalty } from '../src/model/seq2seq-decode.js';
import { seq2seqParameterSpecs } from '../src/model/seq2seq-params.js';
import { TARGET_END, TARGET_START } from '../src/tasks/seq2seq/vocab.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';

/** A small random model; `sharpen` scales the head so that its distributions are far from uniform. */
function tinyModel(backend: Backend, cell: Cell, Vt: number, seed: number, sharpen = 3): Model {
  const model = new Model(backend, {
    architecture: 'seq2seq',
    cell,
    nonlinearity: 'tanh',
    hidden: 5,
    layers: 2,
    embed: 3,
    bidirectional: true,
    vocabSize: 6,
    outputs: Vt,
  });
  model.initialize(seed);
  for (const name of ['head.weight', 'head.bias']) {
    const data = model.params.get(name).data;
    for (let i = 0; i < data.length; i++) data[i] = data[i]! * sharpen;
  }
  return model;
}

const SOURCES = [
  Int32Array.of(1, 2, 3, 4),
  Int32Array.of(5),
  Int32Array.of(2, 2, 1),
  Int32Array.of(3, 1, 4, 1, 5, 2),
  Int32Array.of(4, 4),
];

/** log P(y </s> | x) under teacher forcing, from the logits of Seq2SeqWorkspace.forward (float64 softmax). */
function teacherForcedLogProb(model: Model, source: Int32Array, ids: readonly number[]): number {
  const T = ids.length + 1;
  const ws = new Seq2SeqWorkspace(model, source.length, T, 1);
  ws.sourceIds.data.set(source);
  ws.sourceLengths.data[0] = source.length;
  ws.targetIn.data.set([TARGET_START, ...ids]);
  ws.forward(source.length, T, 1, false);
  const logits = ws.logits(T, 1).data,
    V = ws.Vt;
  let total = 0;
  [...ids, TARGET_END].forEach((y, t) => {
    const row = Array.from(logits.subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    const logZ = max + Math.log(row.reduce((sum, x) => sum + Math.exp(x - max), 0));
    total += row[y]! - logZ;
  });
  ws.dispose();
  return total;
}

/** Every output of at most maxLength tokens from `tokens`, scored and sorted best first. */
function exhaustive(model: Model, source: Int32Array, tokens: number[], maxLength: number, alpha: number) {
  const all: number[][] = [[]];
  for (let n = 1; n <= maxLength; n++)
    for (const prefix of all.filter((ids) => ids.length === n - 1)) for (const t of tokens) all.push([...prefix, t]);
  return all
    .map((ids) => {
      const logProb = teacherForcedLogProb(model, source, ids);
      return { ids, logProb, score: logProb / lengthPenalty(ids.length + 1, alpha) };
    })
    .sort((a, b) => b.score - a.score);
}

const sameHypotheses = (actual: Hypothesis[], expected: Hypothesis[], tolerance: number): void => {
  expect(actual.map((h) => h.ids)).toEqual(expected.map((h) => h.ids));
  actual.forEach((h, i) => {
    expect(h.score).toBeCloseTo(expected[i]!.score, tolerance);
    expect(h.logProb).toBeCloseTo(expected[i]!.logProb, tolerance);
  });
};

describe('beam search on a tiny model equals an exhaustive search', () => {
  // Vt = 6: <pad> <s> </s> <unk> and two tokens; outputs over {<unk>, 4, 5} of ≤ 3 tokens: 40 hypotheses.
  test.each([
    ['lstm', 0],
    ['gru', 0.6],
    ['rnn', 1.2],
  ] as const)('%s, length penalty %s', (cell, alpha) => {
    const model = tinyModel(new ReferenceBackend({ dtype: 'f64' }), cell, 6, 7);
    const decoder = new Seq2SeqDecoder(model, 6, 2, 40);
    const sources = [SOURCES[0]!, SOURCES[3]!];
    const beams = decoder.beamSearch(sources, { beam: 40, nbest: 10, maxLength: 3, lengthPenalty: alpha });
    sources.forEach((source, i) => {
      const expected = exhaustive(model, source, [3, 4, 5], 3, alpha).slice(0, 10);
      sameHypotheses(beams[i]!, expected, 9);
    });
  });
});

describe.each(TESTED_BACKENDS)('decoding on %s', (name) => {
  test.each(['lstm', 'gru', 'rnn'] as const)('%s: K = 1 equals greedy; batched equals one at a time', async (cell) => {
    const backend = await BACKEND_FACTORIES[name]();
    const model = tinyModel(backend, cell, 9, 3, 1.5);
    const decoder = new Seq2SeqDecoder(model, 6, 5, 4);
    const options = { maxLength: 7, lengthPenalty: 0.8 };
    const greedy = decoder.greedy(SOURCES, options);
    const beam1 = decoder.beamSearch(SOURCES, { ...options, beam: 1, nbest: 1 }).map((h) => h[0]!);
    sameHypotheses(beam1, greedy, 5);
    const beam4 = decoder.beamSearch(SOURCES, { ...options, beam: 4, nbest: 4 });
    const alone = SOURCES.map((s) => decoder.beamSearch([s], { ...options, beam: 4, nbest: 4 })[0]!);
    beam4.forEach((list, i) => sameHypotheses(list, alone[i]!, 5));
    const greedyAlone = SOURCES.map((s) => decoder.greedy([s], options)[0]!);
    sameHypotheses(greedy, greedyAlone, 5);
    decoder.dispose();
    model.dispose();
  });

  test.each(['lstm', 'gru', 'rnn'] as const)(
    '%s: inputs that are done leave the batch; the others decode as they do alone',
    async (cell) => {
      const backend = await BACKEND_FACTORIES[name]();
      // Every weight ×3 and a likelier </s>: the inputs end at different steps.
      const model = tinyModel(backend, cell, 9, 3, 1);
      for (const { name: tensor } of seq2seqParameterSpecs(model.config)) {
        const data = model.params.get(tensor).data;
        for (let i = 0; i < data.length; i++) data[i] = data[i]! * 3;
      }
      const bias = model.params.get('head.bias').data;
      bias[TARGET_END] = bias[TARGET_END]! + 1;
      const decoder = new Seq2SeqDecoder(model, 6, 5, 4);
      const options = { beam: 4, nbest: 4, maxLength: 7, lengthPenalty: 0.8 };
      const rowsOf = (sources: Int32Array[]): { lists: Hypothesis[][]; rows: number } => {
        const before = decoder.rowSteps;
        const lists = decoder.beamSearch(sources, options);
        return { lists, rows: decoder.rowSteps - before };
      };
      const batched = rowsOf(SOURCES);
      const alone = SOURCES.map((s) => rowsOf([s]));
      batched.lists.forEach((list, i) => sameHypotheses(list, alone[i]!.lists[0]!, 5));
      // Alone, an input runs 1 row at step 0 and K at each later step.
      const steps = alone.map((a) => (a.rows - 1) / options.beam + 1);
      expect(new Set(steps).size).toBeGreaterThan(1);
      const B = SOURCES.length;
      expect(batched.rows).toBeLessThan(B + (Math.max(...steps) - 1) * B * options.beam);
      decoder.dispose();
      model.dispose();
    },
  );

  test('outputs never exceed --max-length', async () => {
    const backend = await BACKEND_FACTORIES[name]();
    // An end token that is never likely: every hypothesis runs to the limit.
    const model = tinyModel(backend, 'lstm', 9, 5);
    model.params.get('head.bias').data[TARGET_END] = -30;
    const decoder = new Seq2SeqDecoder(model, 6, 5, 3);
    for (const maxLength of [1, 4]) {
      const options = { maxLength, lengthPenalty: 0 };
      for (const h of decoder.greedy(SOURCES, options)) expect(h.ids.length).toBe(maxLength);
      const lists = decoder.beamSearch(SOURCES, { ...options, beam: 3, nbest: 3 });
      for (const list of lists) {
        expect(list).toHaveLength(3);
        for (const h of list) expect(h.ids.length).toBe(maxLength);
      }
    }
  });
});

test('beam search on wasm equals the reference when a decoder step grows (and detaches) wasm memory', async () => {
  // A decoder step may grow the module's memory (its workspace), which detaches every view of unshared memory
  // taken before it: the first translation in a browser page did so, and beam search then lost its scores.
  const wasm = await loadWasmBackend({ threads: 1 });
  expect(wasm.memory.buffer).toBeInstanceOf(ArrayBuffer);
  const forward = wasm.decoderForward.bind(wasm);
  wasm.decoderForward = (...args) => {
    wasm.memory.grow(1);
    forward(...args);
  };
  const options = { beam: 3, nbest: 3, maxLength: 6, lengthPenalty: 0 };
  const [grown, expected] = [wasm, new ReferenceBackend()].map((backend) =>
    new Seq2SeqDecoder(tinyModel(backend, 'lstm', 9, 4, 1.5), 6, 5, 3).beamSearch(SOURCES, options),
  );
  grown!.forEach((list, i) => sameHypotheses(list, expected![i]!, 4));
});

test('bad decoding options are refused with the option named', () => {
  const model = tinyModel(new ReferenceBackend(), 'gru', 9, 1);
  const decoder = new Seq2SeqDecoder(model, 6, 2, 3);
  const base = { beam: 2, nbest: 1, maxLength: 5, lengthPenalty: 0 };
  expect(() => decoder.beamSearch(SOURCES, { ...base, beam: 0 })).toThrow(/--beam must be an integer ≥ 1, got 0/);
  expect(() => decoder.beamSearch(SOURCES, { ...base, nbest: 3 })).toThrow(/--nbest 3 is more than the beam/);
  expect(() => decoder.beamSearch(SOURCES, { ...base, maxLength: 0 })).toThrow(/--max-length/);
  expect(() => decoder.beamSearch(SOURCES, { ...base, beam: 4, nbest: 1 })).toThrow(/this decoder holds 3/);
  expect(() => decoder.greedy([new Int32Array(0)], base)).toThrow(/input 0 has 0 tokens/);
});
