// The attention decoder loop of a backend (Backend.decoderForward/decoderBackward, issue #11). Until every
// engine has its own loop, a backend without one runs the reference loop (src/backend/reference-decoder.ts)
// on its spans: the same arithmetic, in JavaScript.
import * as reference from '../backend/reference-decoder.js';
import type { Backend } from '../backend/types.js';

export type {
  DecoderGrads,
  DecoderLayer,
  DecoderLayerGrads,
  DecoderMemory,
  DecoderRecord,
  DecoderShape,
} from '../backend/reference-decoder.js';

type DecoderKernels = Pick<typeof reference, 'decoderForward' | 'decoderBackward'>;

/** The backend's decoder loop, or the reference loop when it has none. */
export function decoderKernels(backend: Backend): DecoderKernels {
  const own = backend as Backend & Partial<DecoderKernels>;
  if (typeof own.decoderForward === 'function' && typeof own.decoderBackward === 'function')
    return {
      decoderForward: own.decoderForward.bind(backend),
      decoderBackward: own.decoderBackward.bind(backend),
    };
  return reference;
}
