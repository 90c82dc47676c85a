// Running a backend's decoder loop backward pass and turning its outputs into the gradient of every
// input, with the weight gradients done as the model's GEMMs will do them (shared by the decoder tests).
import type {
  Backend,
  DecoderGrads,
  DecoderLayer,
  DecoderLayerGrads,
  DecoderMemory,
  DecoderRecord,
  DecoderShape,
  FloatSpan,
} from '../src/backend/types.js';
import { Span, gatesOf } from '../src/backend/types.js';

export interface DecoderCase {
  shape: DecoderShape;
  layers: DecoderLayer[];
  mem: DecoderMemory;
  wCombine: FloatSpan;
  rec: DecoderRecord;
}

export interface DecoderGradients {
  wIh: Float64Array[];
  wHh: Float64Array[];
  bIh: Float64Array[];
  bHh: Float64Array[];
  h0: Float64Array[];
  c0: Float64Array[];
  wCombine: Float64Array;
  embedded: Float64Array;
  keys: Float64Array;
  memory: Float64Array;
  feed0: Float64Array;
}

/** After decoderForward on `c`: the gradients of Σ R⊙h~ + Σ_l S_l⊙h^l_T (+ Σ Sc_l⊙c^l_T). */
export function decoderGradients(
  backend: Backend,
  c: DecoderCase,
  R: FloatSpan,
  S: FloatSpan[],
  Sc: FloatSpan[],
): DecoderGradients {
  const { kind, T, B, S: Ssrc, E, H, M } = c.shape,
    GH = gatesOf(kind) * H;
  const floats = (n: number): FloatSpan => Span.of(backend.allocFloat(n));
  const grads: DecoderLayerGrads[] = c.layers.map(() => ({
    dGx: floats(T * B * GH),
    dGh: floats(T * B * GH),
    dh0: floats(B * H),
    dc0: floats(kind === 'lstm' ? B * H : 0),
    dbIh: floats(GH),
    dbHh: floats(GH),
  }));
  const out: DecoderGrads = {
    dEmbedded: floats(T * B * E),
    dKeys: floats(Ssrc * B * H),
    dMemory: floats(Ssrc * B * M),
    dCombine: floats(T * B * H),
    dFeed0: floats(B * H),
  };
  backend.decoderBackward(c.shape, c.layers, c.mem, c.wCombine, c.rec, R, S, Sc, grads, out);
  const weightGrad = (n: number, k: number, dG: FloatSpan, X: FloatSpan): Float64Array => {
    const dW = floats(n * k);
    backend.gemm(true, false, n, k, T * B, 1, dG, X, 0, dW);
    return Float64Array.from(dW.data);
  };
  const copy = (f: FloatSpan): Float64Array => Float64Array.from(f.data);
  return {
    wIh: c.layers.map((_, l) =>
      weightGrad(
        GH,
        l === 0 ? E + H : H,
        grads[l]!.dGx,
        l === 0 ? c.rec.input0 : c.layers[l - 1]!.hs.sub(B * H, T * B * H),
      ),
    ),
    wHh: c.layers.map((layer, l) => weightGrad(GH, H, grads[l]!.dGh, layer.hs.sub(0, T * B * H))),
    bIh: grads.map((g) => copy(g.dbIh)),
    bHh: grads.map((g) => copy(g.dbHh)),
    h0: grads.map((g) => copy(g.dh0)),
    c0: grads.map((g) => copy(g.dc0)),
    wCombine: weightGrad(H, M + H, out.dCombine, c.rec.combined),
    embedded: copy(out.dEmbedded),
    keys: copy(out.dKeys),
    memory: copy(out.dMemory),
    feed0: copy(out.dFeed0),
  };
}
