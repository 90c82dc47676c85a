// The weight matrices that sampling multiplies every character, as Backend.inferenceWeights takes them:
// a native backend in bf16 precision rounds them to bf16 once per sample instead of reading fp32 weights
// (or converting them) for every character; in fp32 it packs the dense ones once for its 1-row GEMM.
import { type InferenceMatrix, gatesOf } from '../backend/types.js';
import { cellKind, directionsOf } from './config.js';
import type { Model } from './model.js';

/** Each layer's W_hh (grouped by gate), its dense W_ih (above the first layer, or after an embedding; a
 *  one-hot first layer gathers its columns instead) and the head's weight. */
export function inferenceMatrices(model: Model): InferenceMatrix[] {
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
  matrices.push({ weight: model.paramTensors.headWeight, groups: 1, rows: c.vocabSize, cols: D * H });
  return matrices;
}
