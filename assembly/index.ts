// rnnkit's WebAssembly engine: the Backend kernels of src/backend/types.ts over raw pointers into the memory
// the host gives it (imported as env.memory, declared shared so that worker threads can run the same module on
// it; the host patches the declaration to unshared where SharedArrayBuffer is unavailable). The *Part kernels
// are one thread's share of a kernel (see "the split over threads" in gemm.ts and cells.ts).
// The host (src/backend/wasm-backend.ts) owns allocation: a bump allocator above heapBase() that grows the
// memory itself, and hands each instance's GEMM its packing scratch once (setGemmScratch).
// Built with --runtime stub; no kernel allocates.

/** First free byte after the static data; the host allocates from here (rounded up to 16). */
export function heapBase(): usize {
  return __heap_base;
}

export { gemm, gemmScratchBytes, setGemmScratch, gemmPart, gemmParts } from './gemm';
export {
  cellForward, cellBackward, cellParts, cellForwardPart, cellBackwardPart, cellBiasGradParts, cellBiasGradPart,
} from './cells';
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
