// The gradient-flow view end to end: `rnnkit gradflow DIR` on a checkpoint (the last state's gradient checked
// against the head's closed form), `train --gradflow-every N` (gradflow.jsonl) and its charts in `rnnkit
// report`, and the bad inputs (a checkpoint without a recurrent layer, another task's, --length < 2).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { encodeSafetensors } from '../src/io/safetensors.js';
import { RegressorWorkspace } from '../src/model/regressor.js';
import { addingBatch, batchRandom } from '../src/tasks/synthetic/generate.js';
import { measureGradflow } from '../src/tasks/synthetic/gradflow.js';
import { loadSyntheticModel } from '../src/tasks/synthetic/model-file.js';
import { readGradflow } from '../src/train/gradflow.js';
import { cli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-gradflow-'));
const backend = new ReferenceBackend({ dtype: 'f64' });

async function initialised(name: string, ...args: string[]): Promise<string> {
  const out = join(dir, name);
  const result = await cli(
    'train',
    '--steps',
    '0',
    '--hidden',
    '6',
    '--backend',
    'reference',
    '--quiet',
    '--out',
    out,
    ...args,
  );
  expect(result.err).toBe('');
  return out;
}

describe('rnnkit gradflow', () => {
  it("measures ‖∂L/∂h_t‖ for every step and layer; the last equals the head's closed form", async () => {
    const out = await initialised('adding', '--task', 'adding', '--length', '15', '--layers', '2', '--cell', 'gru');
    const m = measureGradflow(out, backend, { batch: 9, seed: 4 });
    expect(m).toMatchObject({ task: 'adding', cell: 'gru', length: 15, steps: 15, batch: 9, seed: 4 });
    expect(m.state_grad_norms.map((layer) => layer.map((d) => d.length))).toEqual([[15], [15]]);
    for (const v of m.state_grad_norms.flat(2)) expect(v).toBeGreaterThan(0);
    // Top layer, t = T: ∂L/∂h_T[b] = (2/B)(ŷ_b − y_b)·w_head, so its norm over the batch is (2/B)·‖ŷ − y‖·‖w_head‖.
    const { model } = loadSyntheticModel(out, backend);
    const ws = new RegressorWorkspace(model, 15, 9);
    addingBatch(batchRandom(4, 'test', 0), 15, 9, ws.frames.data, ws.targets.data);
    ws.forward(15, 9, true);
    const residual = Math.sqrt(
      Array.from(ws.predictions(9).data).reduce((sum, y, b) => sum + (y - ws.targets.data[b]!) ** 2, 0),
    );
    const head = Math.sqrt(Array.from(model.paramTensors.headWeight.data).reduce((sum, w) => sum + w * w, 0));
    expect(m.state_grad_norms[1]![0]![14]).toBeCloseTo((2 / 9) * residual * head, 10);
    expect(m.loss).toBeCloseTo((residual * residual) / 9, 10);
  });

  it('writes the chart and --json; works for the copy task', async () => {
    const out = await initialised('copy', '--task', 'copy', '--delay', '4', '--cell', 'lstm');
    const svg = join(dir, 'copy.svg');
    const result = await cli('gradflow', out, '--json', '--batch', '5', '--svg', svg, '--backend', 'reference');
    expect(result.code).toBe(0);
    const m = JSON.parse(result.out);
    expect(m).toMatchObject({ task: 'copy', cell: 'lstm', length: 4, steps: 24, batch: 5, svg });
    expect(m.state_grad_norms[0][0]).toHaveLength(24);
    expect(m.ratio_first_to_last[0]).toBeCloseTo(m.state_grad_norms[0][0][0] / m.state_grad_norms[0][0][23], 12);
    const chart = readFileSync(svg, 'utf8');
    expect(chart).toMatch(/^<svg/);
    expect(chart).toContain('Gradient flow: lstm, copy delay 4');
    const text = await cli('gradflow', out, '--batch', '5', '--backend', 'reference');
    expect(text.out).toMatch(/layer 1: ‖∂L\/∂h_24‖ .*\(first\/last/);
    expect(existsSync(join(out, 'gradflow.svg'))).toBe(true);
  });

  it("refuses a checkpoint without a recurrent layer, another task's, and --length < 2", async () => {
    const bare = join(dir, 'bare');
    const adding = await initialised('adding-1', '--task', 'adding', '--length', '5');
    const { model } = loadSyntheticModel(adding, backend);
    const head = model.params.tensors
      .filter((t) => t.name.startsWith('head.'))
      .map((t) => ({ name: t.name, shape: t.shape, data: Float32Array.from(t.view.data) }));
    const meta = {
      format: 1,
      task: 'adding',
      cell: 'rnn',
      nonlinearity: 'tanh',
      hidden: 6,
      layers: 1,
      embed: 0,
      inputs: 2,
      outputs: 1,
      length: 5,
    };
    (await import('node:fs')).mkdirSync(bare, { recursive: true });
    writeFileSync(join(bare, 'model.safetensors'), encodeSafetensors(head, { rnnkit: JSON.stringify(meta) }));
    const refused = await cli('gradflow', bare, '--backend', 'reference');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/has no recurrent layer \(no rnn\.weight_hh_\* tensor in its model file\)/);
    const lm = await initialised('lm', '--task', 'lm');
    expect((await cli('gradflow', lm, '--backend', 'reference')).err).toMatch(
      /holds a model of task lm; this needs a model of task adding or copy/,
    );
    expect((await cli('gradflow', adding, '--length', '1', '--backend', 'reference')).err).toMatch(
      /--length must be at least 2/,
    );
  });
});

describe('train --gradflow-every and the report', () => {
  it('records rows at step 1 and every N steps, and the report charts them', async () => {
    const out = join(dir, 'recorded');
    const trained = await cli(
      'train',
      '--task',
      'adding',
      '--length',
      '8',
      '--hidden',
      '5',
      '--layers',
      '2',
      '--batch',
      '4',
      '--steps',
      '10',
      '--gradflow-every',
      '5',
      '--log-every',
      '5',
      '--clip-norm',
      '0.01',
      '--backend',
      'reference',
      '--quiet',
      '--out',
      out,
    );
    expect(trained.err).toBe('');
    const rows = readGradflow(join(out, 'gradflow.jsonl'));
    expect(rows.map((r) => r.step)).toEqual([1, 5, 10]);
    for (const r of rows) {
      expect(r.state_grad_norms.map((layer) => layer.map((d) => d.length))).toEqual([[8], [8]]);
      expect(r.layer_grad_norms).toHaveLength(2);
      expect(r.head_grad_norm).toBeGreaterThan(0);
    }
    // With --clip-norm 0.01 every step's norm is above it: rates of 1 over 1, 4 and 5 steps.
    expect(rows.map((r) => r.clip_rate)).toEqual([1, 1, 1]);
    const report = await cli('report', out);
    expect(report.code).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const title of ['Gradient flow through time', 'Gradient norm per layer', 'How often clipping fired'])
      expect(html).toContain(title);
  });
});
