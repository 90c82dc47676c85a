// --init identity (Le et al. 2015's IRNN) and --init orthogonal: the recurrent matrices they promise, the
// rest as PyTorch's defaults, deterministic for a seed; identity refused where it does not apply.
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Cell, validateConfig } from '../src/model/config.js';
import { Model } from '../src/model/model.js';
import { DEFAULT_TRAIN_CONFIG, validateTrainConfig } from '../src/train/config.js';

const backend = new ReferenceBackend({ dtype: 'f64' });
const make = (cell: Cell, nonlinearity: 'tanh' | 'relu', H: number, layers = 2) =>
  new Model(
    backend,
    validateConfig({ cell, nonlinearity, hidden: H, layers, embed: 0, vocabSize: 3, bidirectional: true, outputs: 2 }),
  );

describe('--init identity', () => {
  it("sets every W_hh to I and every recurrent bias to 0; the input and head weights are PyTorch's", () => {
    const model = make('rnn', 'relu', 5),
      pytorch = make('rnn', 'relu', 5);
    model.initialize(3, 'identity');
    pytorch.initialize(3, 'pytorch');
    for (const t of model.params.tensors) {
      const data = Array.from(t.view.data);
      if (t.name.startsWith('rnn.weight_hh_'))
        expect(data).toEqual(Array.from({ length: 25 }, (_, i) => (i % 6 === 0 ? 1 : 0)));
      else if (t.name.startsWith('rnn.bias_')) expect(data.every((v) => v === 0)).toBe(true);
      else expect(data).toEqual(Array.from(pytorch.params.get(t.name).data));
    }
  });

  it('is for ReLU RNNs only', () => {
    expect(() => validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, init: 'identity' })).toThrow(
      /--init identity is for ReLU RNNs .* not a tanh RNN/,
    );
    expect(() => validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, cell: 'lstm', init: 'identity' })).toThrow(/not lstm/);
    expect(() =>
      validateTrainConfig({ ...DEFAULT_TRAIN_CONFIG, nonlinearity: 'relu', init: 'identity' }),
    ).not.toThrow();
  });
});

describe('--init orthogonal', () => {
  it.each([
    ['rnn', 1],
    ['lstm', 4],
    ['gru', 3],
  ] as const)("makes each of %s's gate blocks of W_hh orthogonal: QᵀQ = I", (cell, gates) => {
    const H = 7,
      model = make(cell, 'tanh', H);
    model.initialize(11, 'orthogonal');
    const blocks = model.params.tensors.filter((t) => t.name.startsWith('rnn.weight_hh_'));
    expect(blocks).toHaveLength(4); // 2 layers × 2 directions
    const seen = new Set<string>();
    for (const t of blocks) {
      const w = t.view.data;
      expect(w.length).toBe(gates * H * H);
      for (let g = 0; g < gates; g++) {
        const q = (r: number, c: number): number => w[g * H * H + r * H + c]!;
        for (let i = 0; i < H; i++) {
          for (let j = 0; j < H; j++) {
            let dot = 0;
            for (let r = 0; r < H; r++) dot += q(r, i) * q(r, j);
            expect(Math.abs(dot - (i === j ? 1 : 0))).toBeLessThan(1e-12);
          }
        }
        seen.add(Array.from(w.subarray(g * H * H, (g + 1) * H * H)).join());
      }
    }
    expect(seen.size).toBe(4 * gates); // every block its own draw
    const again = make(cell, 'tanh', H);
    again.initialize(11, 'orthogonal');
    expect(Array.from(again.params.all.data)).toEqual(Array.from(model.params.all.data));
  });

  it('stays orthogonal to float32 precision on a float32 backend (H = 64)', () => {
    const model = new Model(
      new ReferenceBackend(),
      validateConfig({ cell: 'rnn', nonlinearity: 'tanh', hidden: 64, layers: 1, embed: 0, vocabSize: 3 }),
    );
    model.initialize(1, 'orthogonal');
    const w = model.paramTensors.layers[0]![0]!.wHh.data,
      H = 64;
    let worst = 0;
    for (let i = 0; i < H; i++)
      for (let j = 0; j < H; j++) {
        let dot = 0;
        for (let r = 0; r < H; r++) dot += w[r * H + i]! * w[r * H + j]!;
        worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
      }
    expect(worst).toBeLessThan(1e-5);
  });
});
