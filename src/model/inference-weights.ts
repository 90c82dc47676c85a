// The weight matrices that sampling multiplies every character and decoding every step, as
// Backend.inferenceWeights takes them: a native backend in bf16 precision rounds them to bf16 once per
// sample instead of reading fp32 weights (or converting them) for every character; in fp32 it packs the
// dense ones once for its GEMM.
import { type FloatSpan, type InferenceMatrix, gatesOf } from '../backend/types.js';
import { cellKind, directionsOf, outputsOf } from './config.js';
import type { Model } from './model.js';
import { seq2seqTensors } from './seq2seq.js';

/** Each layer's W_hh (grouped by gate), its dense W_ih (above the first layer, or after an embedding; a
 *  one-hot first layer gathers its columns instead) and the head's weight. */
export function inferenceMatrices(model: Model): InferenceMatrix[] {
  const c = model.config;
  const head = {
    weight: model.paramTensors.headWeight,
    groups: 1,
    rows: c.vocabSize,
    cols: directionsOf(c) * c.hidden,
  };
  return [...layerMatrices(model), head];
}

/** A sequence-to-sequence decoder's, which every step multiplies: each layer's W_ih and W_hh (a beam step over
 *  many rows multiplies W_hh with one GEMM: not `recurrent`), `combine` (the decoder's W_c, [H, cols]) and the
 *  head. (The encoder and the attention projection run one product per batch: packing them once per call
 *  would save little.) */
export function seq2seqInferenceMatrices(
  model: Model,
  combine: { weight: FloatSpan; cols: number },
): InferenceMatrix[] {
  const c = model.config,
    H = c.hidden,
    G = gatesOf(cellKind(c));
  const p = seq2seqTensors(model, 'params');
  const dense = (weight: FloatSpan, rows: number, cols: number): InferenceMatrix => ({ weight, groups: 1, rows, cols });
  return [
    ...p.decoder.flatMap((layer, l) => [
      dense(layer.wIh, G * H, l === 0 ? c.embed + H : H),
      { weight: layer.wHh, groups: G, rows: H, cols: H },
    ]),
    dense(combine.weight, H, combine.cols),
    dense(p.headWeight, outputsOf(c), H),
  ];
}

/** The recurrent stack's matrices: each layer's W_hh (recurrent) and dense W_ih. */
function layerMatrices(model: Model): InferenceMatrix[] {
  const c = model.config,
    H = c.hidden,
    D = directionsOf(c),
    G = gatesOf(cellKind(c));
  const matrices: InferenceMatrix[] = [];
  model.paramTensors.layers.forEach((directions, l) => {
    const inputs = l > 0 ? D * H : c.embed;
    for (const w of directions) {
      matrices.push({ weight: w.wHh, groups: G, rows: H, cols: H, recurrent: true });
      if (inputs > 0) matrices.push({ weight: w.wIh, groups: 1, rows: G * H, cols: inputs });
    }
  });
  return matrices;
}
