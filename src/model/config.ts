// What defines a model's shape, its validation, and its parameters in PyTorch's names, shapes and order:
// the state dict of `embed = nn.Embedding(V, E)` (absent for one-hot input),
// `rnn = nn.RNN|nn.LSTM|nn.GRU(E or V, H, L, bidirectional=…)` and `head = nn.Linear(D·H, outputs)`
// (D = 2 directions when bidirectional, else 1).
import { invalidOption } from '../errors.js';
import { type CellKind, gatesOf } from '../backend/types.js';
import { checkSeq2Seq, seq2seqParameterSpecs } from './seq2seq-params.js';

export type Cell = 'rnn' | 'lstm' | 'gru';
export type Nonlinearity = 'tanh' | 'relu';

export interface ModelConfig {
  cell: Cell;
  /** Only for cell 'rnn'. */
  nonlinearity: Nonlinearity;
  hidden: number;
  layers: number;
  /** Embedding size; 0 means one-hot input (or float frames of vocabSize features). */
  embed: number;
  /** Input ids are in [0, vocabSize); with embed 0 it is also the width of layer 0's input. */
  vocabSize: number;
  /** Two directions per layer, outputs concatenated [forward; backward] (PyTorch's bidirectional). Default false. */
  bidirectional?: boolean;
  /** Rows of the head (classes of a classifier). Default vocabSize: the language model predicts the next id. */
  outputs?: number;
  /** Features per float frame read by layer 0 (a model of frames, embed 0; e.g. stacked log-mels). Default
   *  vocabSize (one-hot ids are frames of vocabSize). */
  frameWidth?: number;
  /** 'seq2seq': the encoder–decoder of seq2seq-params.ts (vocabSize: the source side, outputs: the target
   *  side); absent: embedding, recurrent stack and head. */
  architecture?: 'seq2seq';
}

export interface ParamSpec {
  name: string;
  shape: number[];
}

/** Refuse sizes that would exhaust memory before anything is allocated. */
export const MAX_PARAMETERS = 2 ** 28;

/** D: 2 for a bidirectional model, else 1. */
export const directionsOf = (config: Pick<ModelConfig, 'bidirectional'>): 1 | 2 => (config.bidirectional ? 2 : 1);

/** The head's rows: `outputs`, or the vocabulary size when absent. */
export const outputsOf = (config: Pick<ModelConfig, 'outputs' | 'vocabSize'>): number =>
  config.outputs ?? config.vocabSize;

/** Layer 0's input width for embed 0: frameWidth, or the vocabulary size (one-hot ids). */
export const frameWidthOf = (config: Pick<ModelConfig, 'frameWidth' | 'vocabSize'>): number =>
  config.frameWidth ?? config.vocabSize;

export function cellKind(config: Pick<ModelConfig, 'cell' | 'nonlinearity'>): CellKind {
  return config.cell === 'rnn' ? (config.nonlinearity === 'relu' ? 'rnn_relu' : 'rnn_tanh') : config.cell;
}

function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

export function validateConfig(config: ModelConfig): ModelConfig {
  if (!['rnn', 'lstm', 'gru'].includes(config.cell))
    throw invalidOption(`cell must be rnn, lstm or gru, got ${String(config.cell)}`);
  if (!['tanh', 'relu'].includes(config.nonlinearity))
    throw invalidOption(`nonlinearity must be tanh or relu, got ${String(config.nonlinearity)}`);
  checkInteger('hidden', config.hidden, 1, 65536);
  checkInteger('layers', config.layers, 1, 64);
  checkInteger('embed', config.embed, 0, 65536);
  checkInteger('vocabulary size', config.vocabSize, 2, 1 << 21);
  if (config.bidirectional !== undefined && typeof config.bidirectional !== 'boolean') {
    throw invalidOption(`bidirectional must be true or false, got ${String(config.bidirectional)}`);
  }
  if (config.outputs !== undefined) checkInteger('outputs', config.outputs, 1, 1 << 21);
  if (config.frameWidth !== undefined) {
    checkInteger('frame width', config.frameWidth, 1, 1 << 21);
    if (config.embed > 0)
      throw invalidOption('a frame width is for a model of float frames (embed 0), not one with an embedding');
  }
  if (config.architecture !== undefined && config.architecture !== 'seq2seq')
    throw invalidOption(`architecture must be seq2seq when given, got ${String(config.architecture)}`);
  if (config.architecture === 'seq2seq') checkSeq2Seq(config);
  const count = parameterCount(config);
  if (count > MAX_PARAMETERS) {
    throw invalidOption(
      `the model would have ${count} parameters (${((count * 4) / 2 ** 30).toFixed(1)} GiB); the limit is ${MAX_PARAMETERS}`,
    );
  }
  return config;
}

/** The suffix of direction d's tensors in PyTorch's state dict. */
export const directionSuffix = (d: number): string => (d === 0 ? '' : '_reverse');

/** nn.RNN/LSTM/GRU's state-dict order: per layer, the forward direction's four tensors, then the reverse's. */
export function parameterSpecs(config: ModelConfig): ParamSpec[] {
  if (config.architecture === 'seq2seq') return seq2seqParameterSpecs(config);
  const { hidden: H, embed: E } = config;
  const D = directionsOf(config);
  const specs: ParamSpec[] = [];
  if (E > 0) specs.push({ name: 'embed.weight', shape: [config.vocabSize, E] });
  specs.push(...recurrentSpecs('rnn', config, E > 0 ? E : frameWidthOf(config), D));
  specs.push(
    { name: 'head.weight', shape: [outputsOf(config), D * H] },
    { name: 'head.bias', shape: [outputsOf(config)] },
  );
  return specs;
}

/** The state dict of `prefix = nn.RNN|nn.LSTM|nn.GRU(inputSize, H, L, bidirectional = D == 2)`. */
export function recurrentSpecs(
  prefix: string,
  config: Pick<ModelConfig, 'cell' | 'nonlinearity' | 'hidden' | 'layers'>,
  inputSize: number,
  D: number,
): ParamSpec[] {
  const { hidden: H, layers: L } = config;
  const GH = gatesOf(cellKind(config)) * H;
  const specs: ParamSpec[] = [];
  for (let l = 0; l < L; l++) {
    for (let d = 0; d < D; d++) {
      const suffix = `l${l}${directionSuffix(d)}`;
      specs.push(
        { name: `${prefix}.weight_ih_${suffix}`, shape: [GH, l === 0 ? inputSize : D * H] },
        { name: `${prefix}.weight_hh_${suffix}`, shape: [GH, H] },
        { name: `${prefix}.bias_ih_${suffix}`, shape: [GH] },
        { name: `${prefix}.bias_hh_${suffix}`, shape: [GH] },
      );
    }
  }
  return specs;
}

export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

export function parameterCount(config: ModelConfig): number {
  return parameterSpecs(config).reduce((sum, spec) => sum + sizeOf(spec.shape), 0);
}
