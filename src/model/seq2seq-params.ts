// The parameters of the sequence-to-sequence model (issue #11) in the names, shapes and order of the state
// dict of test/fixtures/seq2seq_model.py's Seq2Seq, which an rnnkit checkpoint loads into with strict=True.
// Sizes: Vs = vocabSize (source), Vt = outputs (target), E embed, H hidden, L layers, D encoder directions.
import { invalidOption } from '../errors.js';
import { type ModelConfig, type ParamSpec, directionsOf, outputsOf, recurrentSpecs } from './config.js';

export const isSeq2Seq = (config: Pick<ModelConfig, 'architecture'>): boolean => config.architecture === 'seq2seq';

export function checkSeq2Seq(config: ModelConfig): void {
  if (config.embed < 1) throw invalidOption('a sequence-to-sequence model needs embeddings (embed ≥ 1)');
  if (config.frameWidth !== undefined) throw invalidOption('a sequence-to-sequence model reads ids, not frames');
  if (config.outputs === undefined || config.outputs < 5)
    throw invalidOption('a sequence-to-sequence model needs a target vocabulary (outputs) of at least 5 entries');
}

export function seq2seqParameterSpecs(config: ModelConfig): ParamSpec[] {
  const { hidden: H, embed: E } = config;
  const D = directionsOf(config),
    M = D * H,
    Vt = outputsOf(config);
  return [
    { name: 'source_embed.weight', shape: [config.vocabSize, E] },
    ...recurrentSpecs('encoder', config, E, D),
    { name: 'bridge.weight', shape: [H, M] },
    { name: 'bridge.bias', shape: [H] },
    { name: 'target_embed.weight', shape: [Vt, E] },
    ...recurrentSpecs('decoder', config, E + H, 1),
    { name: 'attention.weight', shape: [H, M] },
    { name: 'combine.weight', shape: [H, M + H] },
    { name: 'head.weight', shape: [Vt, H] },
    { name: 'head.bias', shape: [Vt] },
  ];
}

/** PyTorch's default initialisation bound of a tensor (uniform ±bound), or null for N(0, 1) embeddings:
 *  recurrent weights 1/√H, an nn.Linear's weight and bias 1/√(its inputs). */
export function seq2seqInitBound(name: string, config: ModelConfig): number | null {
  const H = config.hidden,
    M = directionsOf(config) * H;
  if (name.endsWith('_embed.weight')) return null;
  if (name.startsWith('encoder.') || name.startsWith('decoder.')) return 1 / Math.sqrt(H);
  if (name.startsWith('combine.')) return 1 / Math.sqrt(M + H);
  if (name.startsWith('head.')) return 1 / Math.sqrt(H);
  return 1 / Math.sqrt(M); // bridge, attention
}
