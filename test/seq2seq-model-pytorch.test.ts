// The whole sequence-to-sequence model against a real PyTorch (fixtures from
// test/fixtures/make_seq2seq_model_fixtures.py: Seq2Seq.loss of test/fixtures/seq2seq_model.py): logits,
// attention, loss and every parameter's gradient, loaded by PyTorch's state-dict names, on every backend.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend } from '../src/backend/types.js';
import { Model } from '../src/model/model.js';
import { Seq2SeqWorkspace } from '../src/model/seq2seq.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';

const DIR = join(import.meta.dirname, 'fixtures', 'pytorch-seq2seq-model');

export interface ModelFixture {
  name: string;
  cell: string;
  layers: number;
  bidirectional: boolean;
  Vs: number;
  Vt: number;
  E: number;
  H: number;
  S: number;
  T: number;
  B: number;
  label_smoothing: number;
  source: number[];
  source_lengths: number[];
  target_in: number[];
  target_out: number[];
  params: Record<string, number[]>;
  logits: number[];
  attention: number[];
  loss: number;
  grads: Record<string, number[]>;
}

export const modelFixtures: ModelFixture[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')));

/** A model of the fixture's shape with its parameters (every state-dict name must be one of ours). */
export function fixtureModel(fx: ModelFixture, backend: Backend): Model {
  const [cell, nonlinearity] = fx.cell.startsWith('rnn_') ? ['rnn', fx.cell.slice(4)] : [fx.cell, 'tanh'];
  const model = new Model(backend, {
    architecture: 'seq2seq',
    cell: cell as 'rnn',
    nonlinearity: nonlinearity as 'tanh',
    hidden: fx.H,
    layers: fx.layers,
    embed: fx.E,
    bidirectional: fx.bidirectional,
    vocabSize: fx.Vs,
    outputs: fx.Vt,
  });
  expect(model.params.tensors.map((t) => t.name).sort()).toEqual(Object.keys(fx.params).sort());
  for (const t of model.params.tensors) t.view.data.set(fx.params[t.name]!);
  return model;
}

/** Loads the fixture's batch into a workspace (PyTorch's padding 0 in target_out → −1, not scored). */
export function loadBatch(ws: Seq2SeqWorkspace, fx: ModelFixture): void {
  ws.sourceIds.data.set(fx.source);
  ws.sourceLengths.data.set(fx.source_lengths);
  ws.targetIn.data.set(fx.target_in);
  ws.targetOut.data.set(fx.target_out.map((id) => (id === 0 ? -1 : id)));
}

function close(actual: ArrayLike<number>, expected: readonly number[], tolerance: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / (tolerance + Math.abs(expected[i]!) * tolerance));
  expect(worst, `${what}: worst error in units of the tolerance`).toBeLessThanOrEqual(1);
}

const unsmoothed = modelFixtures.filter((fx) => fx.label_smoothing === 0);

describe.each(TESTED_BACKENDS)('seq2seq model vs PyTorch on %s', (name) => {
  test.each(unsmoothed.map((fx) => [fx.name, fx] as const))('%s', async (_, fx) => {
    const backend = await BACKEND_FACTORIES[name]();
    const model = fixtureModel(fx, backend);
    const ws = new Seq2SeqWorkspace(model, fx.S, fx.T, fx.B);
    loadBatch(ws, fx);
    model.zeroGrads();
    const { loss, tokens } = ws.forward(fx.S, fx.T, fx.B, true);
    ws.backward(fx.S, fx.T, fx.B);
    expect(tokens).toBe(fx.target_out.filter((id) => id !== 0).length);
    const tolerance = 2e-5;
    close([loss / tokens], [fx.loss], tolerance, 'loss');
    close(ws.logits(fx.T, fx.B).data, fx.logits, tolerance, 'logits');
    close(ws.attention(fx.T, fx.B, fx.S).data, fx.attention, tolerance, 'attention');
    for (const t of model.grads.tensors) close(t.view.data, fx.grads[t.name]!, 1e-4, `d ${t.name}`);
    ws.dispose();
    model.dispose();
  });
});

describe.each(TESTED_BACKENDS)('label smoothing vs PyTorch on %s', (name) => {
  test.each(modelFixtures.filter((fx) => fx.label_smoothing > 0).map((fx) => [fx.name, fx] as const))(
    '%s',
    async (_, fx) => {
      const model = fixtureModel(fx, await BACKEND_FACTORIES[name]());
      const ws = new Seq2SeqWorkspace(model, fx.S, fx.T, fx.B);
      loadBatch(ws, fx);
      model.zeroGrads();
      const { loss, tokens } = ws.forward(fx.S, fx.T, fx.B, true, undefined, fx.label_smoothing);
      ws.backward(fx.S, fx.T, fx.B);
      close([loss / tokens], [fx.loss], 2e-5, 'loss');
      for (const t of model.grads.tensors) close(t.view.data, fx.grads[t.name]!, 1e-4, `d ${t.name}`);
    },
  );
});

test('in float64 the reference backend matches PyTorch float32 to its rounding', () => {
  for (const fx of unsmoothed) {
    const model = fixtureModel(fx, new ReferenceBackend({ dtype: 'f64' }));
    const ws = new Seq2SeqWorkspace(model, fx.S, fx.T, fx.B);
    loadBatch(ws, fx);
    model.zeroGrads();
    const { loss, tokens } = ws.forward(fx.S, fx.T, fx.B, true);
    ws.backward(fx.S, fx.T, fx.B);
    close([loss / tokens], [fx.loss], 1e-5, `${fx.name} loss`);
    for (const t of model.grads.tensors) close(t.view.data, fx.grads[t.name]!, 1e-4, `${fx.name} d ${t.name}`);
  }
});
