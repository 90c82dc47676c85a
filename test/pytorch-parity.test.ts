// Parity with PyTorch: fixtures written by a real PyTorch (test/fixtures/make_fixtures.py, run by hand; CI needs
// no PyTorch) give, for `embed = nn.Embedding` (or one-hot input) → `nn.RNN|LSTM|GRU(batch_first=True)` →
// `nn.Linear`, the logits, mean cross-entropy, every parameter gradient, the initial-state gradients and the
// final state of one chunk from a random initial state. Every backend must reproduce them, and the reference
// backend in float64 too. Also both checkpoint directions: rnnkit's model.safetensors loaded by PyTorch
// (load_state_dict(strict=True)), and a PyTorch state dict loaded by rnnkit's loadModel.
//
// Tolerance: |rnnkit − PyTorch| <= 1e-5 + 1e-4·|PyTorch| element-wise, for every quantity. PyTorch computes in
// float32, so this is a few float32 rounding steps of headroom, not a loose check. Set PARITY_REPORT=1 to print
// the measured max abs/rel differences per backend.
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend } from '../src/backend/types.js';
import { loadModel, saveModel } from '../src/io/checkpoint.js';
import type { ModelConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { Workspace } from '../src/model/workspace.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { expectClose } from './helpers.js';

const ABS = 1e-5;
const REL = 1e-4;

const FIXTURES = resolve(import.meta.dirname, 'fixtures');
const PYTORCH = join(FIXTURES, 'pytorch');

interface Tensor {
  shape: number[];
  data: number[];
}

interface ParityCase {
  torch: string;
  name: string;
  config: {
    cell: ModelConfig['cell'];
    nonlinearity: ModelConfig['nonlinearity'];
    V: number;
    E: number;
    H: number;
    L: number;
    B: number;
    T: number;
  };
  params: Record<string, Tensor>;
  ids: number[][]; // [B][T]
  targets: number[][]; // [B][T]
  h0: Tensor; // [L,B,H]
  c0: Tensor | null;
  logits: Tensor; // [B,T,V]
  loss: number;
  grads: Record<string, Tensor>;
  grad_h0: Tensor;
  grad_c0: Tensor | null;
  hN: Tensor;
  cN: Tensor | null;
}

interface LogitsFixture {
  torch: string;
  checkpoint: string;
  config: {
    cell: ModelConfig['cell'];
    nonlinearity: ModelConfig['nonlinearity'];
    hidden: number;
    layers: number;
    embed: number;
  };
  vocab: string[];
  ids: number[][]; // [B][T]
  logits: Tensor; // [B,T,V]
}

const readJson = <Tp>(path: string): Tp => JSON.parse(readFileSync(path, 'utf8')) as Tp;

const cases = readdirSync(PYTORCH)
  .filter((f) => f.endsWith('.json') && f !== 'optim.json') // optim.json: torch.optim, see test/optimizers.test.ts
  .sort()
  .map((f) => readJson<ParityCase>(join(PYTORCH, f)));
/** rnnkit → PyTorch: PyTorch's logits for the checkpoints under fixtures/rnnkit/. */
const fromRnnkit = readdirSync(join(PYTORCH, 'from-rnnkit'))
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({ name: f.replace(/\.json$/, ''), fixture: readJson<LogitsFixture>(join(PYTORCH, 'from-rnnkit', f)) }));
/** PyTorch → rnnkit: state dicts with rnnkit metadata, and PyTorch's logits. */
const toRnnkit = readdirSync(PYTORCH)
  .filter((d) => existsSync(join(PYTORCH, d, 'model.safetensors')))
  .sort()
  .map((name) => ({
    name,
    dir: join(PYTORCH, name),
    fixture: readJson<LogitsFixture>(join(PYTORCH, name, 'expected.json')),
  }));

// Every backend under test in float32, plus the reference backend in float64.
const VARIANTS: { label: string; make: () => Promise<Backend> }[] = [
  ...TESTED_BACKENDS.map((name) => ({ label: name, make: BACKEND_FACTORIES[name] })),
  { label: 'reference-f64', make: async () => new ReferenceBackend({ dtype: 'f64' }) },
];

// ---------------------------------------------------------------- measured differences (PARITY_REPORT=1)

interface Stat {
  maxAbs: number;
  maxRel: number; // |a − e| / |e| over elements with |e| >= 1e-3
  budget: number; // max |a − e| / (ABS + REL·|e|): 1 is the tolerance
}
const stats = new Map<string, Stat>();

function record(variant: string, quantity: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
  const key = `${variant}\t${quantity}`;
  const s = stats.get(key) ?? { maxAbs: 0, maxRel: 0, budget: 0 };
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!,
      e = expected[i]!,
      d = Math.abs(a - e);
    s.maxAbs = Math.max(s.maxAbs, d);
    if (Math.abs(e) >= 1e-3) s.maxRel = Math.max(s.maxRel, d / Math.abs(e));
    s.budget = Math.max(s.budget, d / (ABS + REL * Math.abs(e)));
  }
  stats.set(key, s);
}

function check(
  variant: string,
  quantity: string,
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
): void {
  record(variant, quantity, actual, expected);
  expectClose(actual, expected, ABS, REL, what);
}

afterAll(() => {
  if (process.env['PARITY_REPORT'] !== '1' || stats.size === 0) return;
  const rows = [...stats].map(
    ([key, s]) =>
      `${key.padEnd(28)}\t${s.maxAbs.toExponential(2)}\t${s.maxRel.toExponential(2)}\t${s.budget.toFixed(3)}`,
  );
  console.log(['variant\tquantity\tmax abs\tmax rel (|e|>=1e-3)\tfraction of tolerance', ...rows].join('\n'));
});

// ---------------------------------------------------------------- helpers

function modelConfig(c: ParityCase['config']): ModelConfig {
  return { cell: c.cell, nonlinearity: c.nonlinearity, hidden: c.H, layers: c.L, embed: c.E, vocabSize: c.V };
}

/** Batch-first [B][T] ids into a time-major [T][B] span. */
function setTimeMajor(target: Int32Array, ids: number[][]): void {
  const B = ids.length;
  ids.forEach((row, b) => row.forEach((id, t) => (target[t * B + b] = id)));
}

/** rnnkit's [T,B,V] logits as PyTorch's batch-first [B,T,V]. */
function batchFirst(logits: ArrayLike<number>, T: number, B: number, V: number): Float64Array {
  const out = new Float64Array(T * B * V);
  for (let t = 0; t < T; t++) {
    for (let b = 0; b < B; b++) {
      for (let v = 0; v < V; v++) out[(b * T + t) * V + v] = logits[(t * B + b) * V + v]!;
    }
  }
  return out;
}

const layerSlice = (t: Tensor, l: number, size: number): number[] => t.data.slice(l * size, (l + 1) * size);

const backends = new Map<string, Promise<Backend>>();
const backendFor = (variant: (typeof VARIANTS)[number]): Promise<Backend> => {
  if (!backends.has(variant.label)) backends.set(variant.label, variant.make());
  return backends.get(variant.label)!;
};

/** Logits [B,T,V] (batch-first) of `model` from a zero state for batch-first ids. */
function runLogits(model: Model, ids: number[][]): Float64Array {
  const B = ids.length,
    T = ids[0]!.length;
  const ws = new Workspace(model, T, B);
  setTimeMajor(ws.ids.data, ids);
  ws.resetState();
  ws.forward(T, false);
  return batchFirst(ws.logits(T).data, T, B, model.config.vocabSize);
}

// ---------------------------------------------------------------- the tests

describe('PyTorch fixtures', () => {
  it('cover every cell kind with L = 1 and 2, B = 1 and 3, T = 1 and 7, H = 9 and 33, one-hot and embedding', () => {
    expect(cases.length).toBeGreaterThanOrEqual(16);
    for (const kind of ['rnn-tanh', 'rnn-relu', 'lstm', 'gru']) {
      const mine = cases.filter(
        (c) => (c.config.cell === 'rnn' ? `rnn-${c.config.nonlinearity}` : c.config.cell) === kind,
      );
      const seen = (f: (c: ParityCase) => unknown) => [...new Set(mine.map(f))].sort();
      expect(
        seen((c) => c.config.L),
        kind,
      ).toEqual([1, 2]);
      expect(
        seen((c) => c.config.B),
        kind,
      ).toEqual([1, 3]);
      expect(
        seen((c) => c.config.T),
        kind,
      ).toEqual([1, 7]);
      expect(
        seen((c) => c.config.H),
        kind,
      ).toEqual([33, 9]);
      expect(
        seen((c) => c.config.E),
        kind,
      ).toEqual([0, 5]);
      expect(
        seen((c) => c.config.V),
        kind,
      ).toEqual([13]);
    }
    for (const c of cases) expect(c.torch).toMatch(/^\d+\.\d+/);
    expect(fromRnnkit.map((f) => f.name)).toEqual(expect.arrayContaining(['lstm-embed', 'gru-onehot']));
    expect(toRnnkit.length).toBeGreaterThanOrEqual(2);
  });
});

for (const variant of VARIANTS) {
  describe(`parity with PyTorch on ${variant.label}`, () => {
    for (const fixture of cases) {
      it(`${fixture.name}: logits, loss, gradients, initial-state gradients and final state`, async () => {
        const backend = await backendFor(variant);
        const c = fixture.config;
        const model = new Model(backend, modelConfig(c));
        const ws = new Workspace(model, c.T, c.B);
        // Views are taken only after every allocation (WASM memory growth detaches older views).
        expect(
          model.params.tensors.map((t) => t.name),
          'state-dict names and order',
        ).toEqual(Object.keys(fixture.params));
        for (const t of model.params.tensors) {
          const p = fixture.params[t.name]!;
          expect(t.shape, t.name).toEqual(p.shape);
          t.view.data.set(p.data);
        }
        setTimeMajor(ws.ids.data, fixture.ids);
        setTimeMajor(ws.targets.data, fixture.targets);
        const BH = c.B * c.H;
        ws.resetState();
        for (let l = 0; l < c.L; l++) {
          const state = ws.state(l);
          state.h.data.set(layerSlice(fixture.h0, l, BH));
          if (fixture.c0) state.c!.data.set(layerSlice(fixture.c0, l, BH));
          else expect(state.c).toBeNull();
        }

        const loss = ws.forward(c.T) / (c.T * c.B);
        const v = variant.label;
        check(v, 'logits', batchFirst(ws.logits(c.T).data, c.T, c.B, c.V), fixture.logits.data, 'logits');
        check(v, 'loss', [loss], [fixture.loss], 'loss');
        for (let l = 0; l < c.L; l++) {
          const state = ws.state(l);
          check(v, 'final state', state.h.data, layerSlice(fixture.hN, l, BH), `final h of layer ${l}`);
          if (fixture.cN)
            check(v, 'final state', state.c!.data, layerSlice(fixture.cN, l, BH), `final c of layer ${l}`);
        }

        model.zeroGrads();
        ws.backward(c.T);
        for (const t of model.grads.tensors)
          check(v, 'parameter grads', t.view.data, fixture.grads[t.name]!.data, `gradient of ${t.name}`);
        for (let l = 0; l < c.L; l++) {
          const g = ws.stateGrad(l);
          check(v, 'initial-state grads', g.h.data, layerSlice(fixture.grad_h0, l, BH), `gradient of h0 of layer ${l}`);
          if (fixture.grad_c0)
            check(
              v,
              'initial-state grads',
              g.c!.data,
              layerSlice(fixture.grad_c0, l, BH),
              `gradient of c0 of layer ${l}`,
            );
        }
      });
    }

    for (const { name, fixture } of fromRnnkit) {
      it(`rnnkit → PyTorch: ${name} checkpoint, loaded by PyTorch with strict=True, gives the same logits`, async () => {
        const { model, vocab } = loadModel(join(FIXTURES, 'rnnkit', name), await backendFor(variant));
        expect(vocab.chars).toEqual(fixture.vocab);
        expect({ ...model.config, vocabSize: undefined }).toEqual({ ...fixture.config, vocabSize: undefined });
        check(variant.label, 'round-trip logits', runLogits(model, fixture.ids), fixture.logits.data, 'logits');
      });
    }

    for (const { name, dir, fixture } of toRnnkit) {
      it(`PyTorch → rnnkit: ${name} state dict loads with loadModel and gives PyTorch's logits`, async () => {
        const { model, vocab } = loadModel(dir, await backendFor(variant));
        expect(vocab.chars).toEqual(fixture.vocab);
        expect({ ...model.config, vocabSize: undefined }).toEqual({ ...fixture.config, vocabSize: undefined });
        check(variant.label, 'round-trip logits', runLogits(model, fixture.ids), fixture.logits.data, 'logits');
      });
    }
  });
}

describe('the committed rnnkit checkpoints', () => {
  // PyTorch loaded these exact bytes; today's saveModel must still write them, or the round trip proves nothing.
  for (const { name } of fromRnnkit) {
    it(`${name}: saveModel rewrites the committed file byte for byte`, () => {
      const dir = join(FIXTURES, 'rnnkit', name);
      const { model, vocab } = loadModel(dir, new ReferenceBackend());
      const out = mkdtempSync(join(tmpdir(), 'rnnkit-parity-'));
      try {
        const written = readFileSync(saveModel(out, model, vocab));
        expect(Buffer.compare(written, readFileSync(join(dir, 'model.safetensors')))).toBe(0);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});
