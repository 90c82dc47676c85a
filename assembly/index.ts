// rnnkit's WebAssembly engine: the Backend kernels of src/backend/types.ts over raw pointers into this
// module's exported memory. The host (src/backend/wasm.ts) owns allocation: a bump allocator above
// heapBase() that grows the memory itself, and hands the GEMM its packing scratch once (setGemmScratch).
// Built with --runtime stub; no kernel allocates.

/** First free byte after the static data; the host allocates from here (rounded up to 16). */
export function heapBase(): usize {
  return __heap_base;
}

export { gemm, gemmScratchBytes, setGemmScratch } from './gemm';
export { cellForward, cellBackward } from './cells';
export { poolForward, poolBackward } from './pool';
export { ctcLoss } from './ctc';
export { decoderForward, decoderBackward, decoderWorkFloats } from './decoder';
export { topK, logSoftmax } from './search';
export {
  addBias, sumRows, gatherRows, scatterAddRows, gatherColumns, scatterAddColumns,
  softmaxCrossEntropy, clipValue, sumSquares, scale, dropout, multiply,
} from './ops';
export { adagradUpdate, sgdUpdate, momentumUpdate, rmspropUpdate, adamUpdate } from './optim';
export { activations, simdLevel } from './math';
