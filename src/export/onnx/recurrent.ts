// The part of every rnnkit graph before the head: token ids → embedding (or one-hot) → one ONNX RNN/LSTM/GRU
// node per layer, masked by sequence_lens, each layer's initial state sliced from the graph's h0 (c0) and its
// final state concatenated into hn (cn), laid out as PyTorch's [L·D, B, H].
import { type ModelConfig, directionsOf, parameterSpecs } from '../../model/config.js';
import type { Model } from '../../model/model.js';
import { type GraphBuilder } from './graph.js';
import { reorderGates } from './gates.js';
import { DataType } from './schema.js';

export interface RecurrentValues {
  /** The top layer's output [T, B, D·H]: zeros past each length (forward features, then backward). */
  output: string;
  /** The top layer's final states [D, B, H]. */
  topFinal: string;
}

const OP_TYPE = { rnn: 'RNN', lstm: 'LSTM', gru: 'GRU' } as const;

/** Declares the inputs ids [T,B], lengths [B], h0 (c0) [L·D,B,H]; builds the layers and the values hn (cn). */
export function addRecurrentLayers(g: GraphBuilder, model: Model): RecurrentValues {
  const config = model.config,
    { hidden: H, layers: L, embed: E, vocabSize: V } = config;
  const D = directionsOf(config),
    lstm = config.cell === 'lstm';
  const ids = g.input('ids', DataType.INT32, ['T', 'B'], `token ids [T, B], time-major, each in [0, ${V})`);
  const lengths = g.input(
    'lengths',
    DataType.INT32,
    ['B'],
    'valid steps of each sequence [B], each in [1, T]; outputs past a length are zeros',
  );
  const h0 = g.input(
    'h0',
    DataType.FLOAT,
    [L * D, 'B', H],
    'initial hidden states [L·D, B, H] (PyTorch h_0); zeros for a fresh start',
  );
  const c0 = lstm
    ? g.input('c0', DataType.FLOAT, [L * D, 'B', H], 'initial cell states [L·D, B, H] (PyTorch c_0)')
    : null;
  // One-hot input: ONNX Runtime's OneHot kernels take int64 indices.
  let x =
    E > 0
      ? g.op('Gather', [g.floats('embed.weight', [V, E], tensor(model, 'embed.weight')), ids], { axis: 0 }, 'embedded')
      : g.op(
          'OneHot',
          [
            g.op('Cast', [ids], { to: DataType.INT64 }),
            g.int64Scalar('vocabulary_size', V),
            g.floats('one_hot_values', [2], Float32Array.of(0, 1)),
          ],
          { axis: -1 },
          'one_hot',
        );
  const finals: string[] = [],
    cells: string[] = [];
  for (let l = 0; l < L; l++) {
    const rows = (value: string) =>
      g.op('Slice', [
        value,
        g.int64s(g.name('start'), [l * D]),
        g.int64s(g.name('end'), [(l + 1) * D]),
        g.int64s(g.name('axis'), [0]),
      ]);
    const inputs = [x, ...layerWeights(g, model, l), lengths, rows(h0), ...(c0 ? [rows(c0)] : [])];
    const y = g.name(`layer${l}_y`),
      yH = g.name(`layer${l}_h`),
      yC = g.name(`layer${l}_c`);
    g.node(OP_TYPE[config.cell], inputs, lstm ? [y, yH, yC] : [y, yH], layerAttributes(config));
    finals.push(yH);
    if (lstm) cells.push(yC);
    // Y [T, D, B, H] → [T, B, D·H]: the next layer's input (both directions' features side by side).
    const timeMajor = g.op('Transpose', [y], { perm: [0, 2, 1, 3] });
    x = g.op('Reshape', [timeMajor, g.int64s(g.name('shape'), [0, 0, -1])], {}, `layer${l}_output`);
  }
  g.node('Concat', finals, ['hn'], { axis: 0 });
  if (lstm) g.node('Concat', cells, ['cn'], { axis: 0 });
  return { output: x, topFinal: finals[L - 1]! };
}

function tensor(model: Model, name: string): Float32Array {
  return Float32Array.from(model.params.get(name).data);
}

/** W [D, G·H, I], R [D, G·H, H] and B [D, 2·G·H] of layer l in ONNX's gate order. */
function layerWeights(g: GraphBuilder, model: Model, l: number): string[] {
  const config = model.config,
    H = config.hidden,
    D = directionsOf(config);
  const specs = new Map(parameterSpecs(config).map((s) => [s.name, s.shape]));
  const stacked = (kind: 'weight_ih' | 'weight_hh' | 'bias'): { dims: number[]; data: Float32Array } => {
    const parts: Float32Array[] = [];
    for (let d = 0; d < D; d++) {
      const suffix = `l${l}${d === 0 ? '' : '_reverse'}`;
      if (kind === 'bias') {
        for (const b of ['bias_ih', 'bias_hh'])
          parts.push(reorderGates(config.cell, tensor(model, `rnn.${b}_${suffix}`), H, 1));
      } else {
        const name = `rnn.${kind}_${suffix}`;
        parts.push(reorderGates(config.cell, tensor(model, name), H, specs.get(name)![1]!));
      }
    }
    const data = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    parts.reduce((offset, p) => (data.set(p, offset), offset + p.length), 0);
    const first = specs.get(`rnn.weight_ih_l${l}`)!;
    const dims = kind === 'bias' ? [D, 2 * first[0]!] : [D, first[0]!, kind === 'weight_ih' ? first[1]! : H];
    return { dims, data };
  };
  return (['weight_ih', 'weight_hh', 'bias'] as const).map((kind) => {
    const { dims, data } = stacked(kind);
    return g.floats(`layer${l}.${{ weight_ih: 'W', weight_hh: 'R', bias: 'B' }[kind]}`, dims, data);
  });
}

function layerAttributes(config: ModelConfig): Record<string, number | string | string[]> {
  const D = directionsOf(config);
  const attributes: Record<string, number | string | string[]> = {
    hidden_size: config.hidden,
    direction: D === 2 ? 'bidirectional' : 'forward',
  };
  if (config.cell === 'gru') attributes['linear_before_reset'] = 1; // PyTorch's (and rnnkit's) GRU: r ⊙ (W_hn·h + b_hn)
  if (config.cell === 'rnn')
    attributes['activations'] = Array<string>(D).fill(config.nonlinearity === 'relu' ? 'Relu' : 'Tanh');
  return attributes;
}

/** Declares the outputs hn (cn) [L·D, B, H] (after the task's own outputs, so those come first). */
export function addStateOutputs(g: GraphBuilder, config: ModelConfig): void {
  const shape = [config.layers * directionsOf(config), 'B', config.hidden];
  g.output(
    'hn',
    DataType.FLOAT,
    shape,
    "final hidden states [L·D, B, H] at each sequence's length: the next piece's h0",
  );
  if (config.cell === 'lstm')
    g.output('cn', DataType.FLOAT, shape, "final cell states [L·D, B, H]: the next piece's c0");
}
