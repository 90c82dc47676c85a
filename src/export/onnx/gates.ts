// PyTorch (and rnnkit) stack a cell's gate blocks of H rows as LSTM i,f,g,o and GRU r,z,n; ONNX's LSTM wants
// i,o,f,c and its GRU z,r,h. An ONNX block k is PyTorch block ONNX_ORDER[cell][k]; a plain RNN has one block.
import type { Cell } from '../../model/config.js';

export const ONNX_GATE_ORDER: Record<Cell, readonly number[]> = {
  rnn: [0],
  lstm: [0, 3, 1, 2],
  gru: [1, 0, 2],
};

/** The rows of `weights` ([G·H, cols] or [G·H] for cols 1) with its gate blocks in ONNX's order. */
export function reorderGates(cell: Cell, weights: Float32Array, H: number, cols: number): Float32Array {
  const order = ONNX_GATE_ORDER[cell],
    block = H * cols;
  if (weights.length !== order.length * block)
    throw new RangeError(`reorderGates: ${weights.length} values are not ${order.length} gate blocks of ${H}×${cols}`);
  const out = new Float32Array(weights.length);
  order.forEach((source, k) => out.set(weights.subarray(source * block, (source + 1) * block), k * block));
  return out;
}
