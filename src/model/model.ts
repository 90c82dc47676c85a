// A model is an input layer, a recurrent stack and a head; its parameters live in ONE flat arena on the
// backend, with a view per PyTorch tensor. Gradients live in a second arena of the same layout.
import { OwnedBuffers } from '../backend/owned.js';
import type { Backend, FloatSpan } from '../backend/types.js';
import { Random } from '../util/random.js';
import { type InitScheme, initRecurrent } from './init.js';
import { isSeq2Seq, seq2seqInitBound } from './seq2seq-params.js';

export type { InitScheme };
import {
  type ModelConfig,
  type ParamSpec,
  directionSuffix,
  directionsOf,
  parameterSpecs,
  sizeOf,
  validateConfig,
} from './config.js';

export interface NamedTensor extends ParamSpec {
  offset: number;
  view: FloatSpan;
}

/** A flat arena with one view per parameter, in state-dict order. */
export class ParameterArena {
  readonly tensors: NamedTensor[];
  readonly all: FloatSpan;
  readonly #owned: OwnedBuffers;

  constructor(backend: Backend, specs: ParamSpec[]) {
    const total = specs.reduce((sum, spec) => sum + sizeOf(spec.shape), 0);
    this.#owned = new OwnedBuffers(backend);
    this.all = this.#owned.float(total);
    let offset = 0;
    this.tensors = specs.map((spec) => {
      const size = sizeOf(spec.shape);
      const tensor = { ...spec, offset, view: this.all.sub(offset, size) };
      offset += size;
      return tensor;
    });
  }

  /** Frees the arena's memory; its views are unusable afterwards. */
  dispose(): void {
    this.#owned.dispose();
  }

  get(name: string): FloatSpan {
    const tensor = this.tensors.find((t) => t.name === name);
    if (!tensor) throw new Error(`no parameter named ${name}`);
    return tensor.view;
  }
}

export interface LayerParams {
  wIh: FloatSpan;
  wHh: FloatSpan;
  bIh: FloatSpan;
  bHh: FloatSpan;
}

/** Named views of one arena (parameters or their gradients) in the model's structure. */
export interface ModelTensors {
  embed: FloatSpan | null;
  /** [layer][direction]: direction 0 runs forward in time, direction 1 (bidirectional only) backward. */
  layers: LayerParams[][];
  headWeight: FloatSpan;
  headBias: FloatSpan;
}

/** The weights of `prefix` = nn.RNN|LSTM|GRU, [layer][direction]. */
export function recurrentLayers(arena: ParameterArena, prefix: string, layers: number, D: number): LayerParams[][] {
  return Array.from({ length: layers }, (_, l) =>
    Array.from({ length: D }, (_, d) => {
      const suffix = `l${l}${directionSuffix(d)}`;
      return {
        wIh: arena.get(`${prefix}.weight_ih_${suffix}`),
        wHh: arena.get(`${prefix}.weight_hh_${suffix}`),
        bIh: arena.get(`${prefix}.bias_ih_${suffix}`),
        bHh: arena.get(`${prefix}.bias_hh_${suffix}`),
      };
    }),
  );
}

/** The model's structure; for a sequence-to-sequence model, its encoder (the source embedding and the
 *  encoder's layers, which a RecurrentStack runs) and its head; the rest by name (seq2seq.ts). */
export function structure(arena: ParameterArena, config: ModelConfig): ModelTensors {
  const seq2seq = isSeq2Seq(config);
  return {
    embed: config.embed > 0 ? arena.get(seq2seq ? 'source_embed.weight' : 'embed.weight') : null,
    layers: recurrentLayers(arena, seq2seq ? 'encoder' : 'rnn', config.layers, directionsOf(config)),
    headWeight: arena.get('head.weight'),
    headBias: arena.get('head.bias'),
  };
}

export class Model {
  readonly config: ModelConfig;
  readonly params: ParameterArena;
  readonly grads: ParameterArena;
  readonly paramTensors: ModelTensors;
  readonly gradTensors: ModelTensors;

  constructor(
    readonly backend: Backend,
    config: ModelConfig,
  ) {
    this.config = validateConfig({ ...config });
    const specs = parameterSpecs(this.config);
    this.params = new ParameterArena(backend, specs);
    this.grads = new ParameterArena(backend, specs);
    this.paramTensors = structure(this.params, this.config);
    this.gradTensors = structure(this.grads, this.config);
  }

  get parameterCount(): number {
    return this.params.all.length;
  }

  /**
   * PyTorch's defaults (RNN/LSTM/GRU: uniform ±1/sqrt(H); Linear: uniform ±1/sqrt(its D·H inputs);
   * Embedding: N(0, 1)) or min-char-rnn's (weights randn·0.01, biases 0). Deterministic for a seed.
   * identity (IRNN) and orthogonal start from PyTorch's defaults and then rewrite W_hh (see init.ts).
   */
  initialize(seed: number, scheme: InitScheme = 'pytorch'): void {
    const random = new Random(seed);
    const { hidden: H } = this.config;
    for (const tensor of this.params.tensors) {
      const data = tensor.view.data;
      const isBias = tensor.name.includes('bias');
      const bound = this.initBound(tensor.name);
      for (let i = 0; i < data.length; i++) {
        if (scheme === 'randn') data[i] = isBias ? 0 : random.normal() * 0.01;
        else if (bound === null) data[i] = random.normal();
        else data[i] = (random.uniform() * 2 - 1) * bound;
      }
    }
    if (scheme === 'identity' || scheme === 'orthogonal') initRecurrent(scheme, this.params.tensors, H, random);
  }

  /** PyTorch's uniform bound for a tensor, or null for an embedding (N(0, 1)). */
  private initBound(name: string): number | null {
    if (isSeq2Seq(this.config)) return seq2seqInitBound(name, this.config);
    if (name === 'embed.weight') return null;
    return (
      1 / Math.sqrt(name.startsWith('head.') ? directionsOf(this.config) * this.config.hidden : this.config.hidden)
    );
  }

  zeroGrads(): void {
    this.grads.all.data.fill(0);
  }

  /** Frees the parameters and gradients (the model is unusable afterwards; dispose its workspaces too). */
  dispose(): void {
    this.grads.dispose();
    this.params.dispose();
  }
}
