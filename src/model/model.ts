// A model is an input layer, a recurrent stack and a head; its parameters live in ONE flat arena on the
// backend, with a view per PyTorch tensor. Gradients live in a second arena of the same layout.
import { OwnedBuffers } from '../backend/owned.js';
import type { Backend, F } from '../backend/types.js';
import { Random } from '../util/random.js';
import { type InitScheme, initRecurrent } from './init.js';

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
  view: F;
}

/** A flat arena with one view per parameter, in state-dict order. */
export class ParameterArena {
  readonly tensors: NamedTensor[];
  readonly all: F;
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

  get(name: string): F {
    const tensor = this.tensors.find((t) => t.name === name);
    if (!tensor) throw new Error(`no parameter named ${name}`);
    return tensor.view;
  }
}

export interface LayerParams {
  wIh: F;
  wHh: F;
  bIh: F;
  bHh: F;
}

/** Named views of one arena (parameters or their gradients) in the model's structure. */
export interface ModelTensors {
  embed: F | null;
  /** [layer][direction]: direction 0 runs forward in time, direction 1 (bidirectional only) backward. */
  layers: LayerParams[][];
  headWeight: F;
  headBias: F;
}

export function structure(arena: ParameterArena, config: ModelConfig): ModelTensors {
  return {
    embed: config.embed > 0 ? arena.get('embed.weight') : null,
    layers: Array.from({ length: config.layers }, (_, l) =>
      Array.from({ length: directionsOf(config) }, (_, d) => {
        const suffix = `l${l}${directionSuffix(d)}`;
        return {
          wIh: arena.get(`rnn.weight_ih_${suffix}`),
          wHh: arena.get(`rnn.weight_hh_${suffix}`),
          bIh: arena.get(`rnn.bias_ih_${suffix}`),
          bHh: arena.get(`rnn.bias_hh_${suffix}`),
        };
      }),
    ),
    headWeight: arena.get('head.weight'),
    headBias: arena.get('head.bias'),
  };
}

export class Model {
  readonly config: ModelConfig;
  readonly params: ParameterArena;
  readonly grads: ParameterArena;
  readonly p: ModelTensors;
  readonly g: ModelTensors;

  constructor(
    readonly backend: Backend,
    config: ModelConfig,
  ) {
    this.config = validateConfig({ ...config });
    const specs = parameterSpecs(this.config);
    this.params = new ParameterArena(backend, specs);
    this.grads = new ParameterArena(backend, specs);
    this.p = structure(this.params, this.config);
    this.g = structure(this.grads, this.config);
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
      const bound = 1 / Math.sqrt(tensor.name.startsWith('head.') ? directionsOf(this.config) * H : H);
      for (let i = 0; i < data.length; i++) {
        if (scheme === 'randn') data[i] = isBias ? 0 : random.normal() * 0.01;
        else if (tensor.name === 'embed.weight') data[i] = random.normal();
        else data[i] = (random.uniform() * 2 - 1) * bound;
      }
    }
    if (scheme === 'identity' || scheme === 'orthogonal') initRecurrent(scheme, this.params.tensors, H, random);
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
