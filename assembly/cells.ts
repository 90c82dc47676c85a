// The recurrent loops (Backend.cellForward / cellBackward in src/backend/types.ts), PyTorch's equations and
// gate order: LSTM i,f,g,o; GRU r,z,n with b_hn inside the reset product.
// Sizes: T steps, B streams, H hidden, G gates (rnn 1, gru 3, lstm 4), GH = G·H, CW = cache floats per row.
// No scratch memory: the per-step hidden projection W_hh·h_{t-1} is written straight into the output that
// the gate math then overwrites in place (hs[t+1] for rnn, the cache row for lstm/gru, whose 4·H floats hold
// the G·H raw sums), and the backward carries dh/dc in dh0/dc0.
import { gemmStrided } from './gemm';
import { sigmoid } from './math';

// Must match CELL_KINDS in src/backend/types.ts
export const enum CellKind {
  RnnTanh = 0,
  RnnRelu = 1,
  Lstm = 2,
  Gru = 3,
}

@inline function gatesOf(kind: i32): i32 {
  return kind == CellKind.Lstm ? 4 : kind == CellKind.Gru ? 3 : 1;
}

@inline function cacheWidthOf(kind: i32): i32 {
  return kind == CellKind.Lstm || kind == CellKind.Gru ? 4 : 0;
}

@inline function f(p: usize, i: i32): f32 {
  return load<f32>(p + (<usize>i << 2));
}

@inline function put(p: usize, i: i32, v: f32): void {
  store<f32>(p + (<usize>i << 2), v);
}

/**
 * xProj [T,B,GH], wHh [GH,H], bIh [GH], bHh [GH]; hs [T+1,B,H] (slot 0 = h0); cs [T+1,B,H] (lstm only);
 * cache [T,B,CW].
 */
export function cellForward(
  kind: i32, T: i32, B: i32, H: i32,
  xProj: usize, wHh: usize, bIh: usize, bHh: usize, hs: usize, cs: usize, cache: usize,
): void {
  const G = gatesOf(kind);
  const GH = G * H;
  const CW = cacheWidthOf(kind) * H;
  const rowH = <usize>H << 2;
  const rowGH = <usize>GH << 2;
  const rowCW = <usize>CW << 2;
  const stepH = <usize>B * rowH;
  for (let t = 0; t < T; t++) {
    const hPrev = hs + <usize>t * stepH;
    const hNext = hPrev + stepH;
    const cPrev = cs + <usize>t * stepH;
    const cNext = cPrev + stepH;
    const kStep = cache + <usize>t * <usize>B * rowCW;
    // Raw hidden-side sums W_hh·h_{t-1} for all B streams, [B][GH] with row stride rowH or rowCW.
    if (CW == 0) gemmStrided(false, true, B, GH, H, 1, hPrev, rowH, wHh, rowH, 0, hNext, rowH);
    else gemmStrided(false, true, B, GH, H, 1, hPrev, rowH, wHh, rowH, 0, kStep, rowCW);
    for (let b = 0; b < B; b++) {
      const x = xProj + (<usize>t * <usize>B + <usize>b) * rowGH;
      const hp = hPrev + <usize>b * rowH;
      const hn = hNext + <usize>b * rowH;
      if (kind == CellKind.RnnTanh) {
        for (let j = 0; j < H; j++) put(hn, j, Mathf.tanh(f(x, j) + f(bIh, j) + (f(hn, j) + f(bHh, j))));
      } else if (kind == CellKind.RnnRelu) {
        for (let j = 0; j < H; j++) put(hn, j, Mathf.max(f(x, j) + f(bIh, j) + (f(hn, j) + f(bHh, j)), 0));
      } else if (kind == CellKind.Lstm) {
        const k = kStep + <usize>b * rowCW;
        const cp = cPrev + <usize>b * rowH;
        const cn = cNext + <usize>b * rowH;
        for (let j = 0; j < H; j++) {
          const i = sigmoid(f(x, j) + f(bIh, j) + (f(k, j) + f(bHh, j)));
          const fg = sigmoid(f(x, H + j) + f(bIh, H + j) + (f(k, H + j) + f(bHh, H + j)));
          const g = Mathf.tanh(f(x, 2 * H + j) + f(bIh, 2 * H + j) + (f(k, 2 * H + j) + f(bHh, 2 * H + j)));
          const o = sigmoid(f(x, 3 * H + j) + f(bIh, 3 * H + j) + (f(k, 3 * H + j) + f(bHh, 3 * H + j)));
          const c = fg * f(cp, j) + i * g;
          put(cn, j, c);
          put(hn, j, o * Mathf.tanh(c));
          put(k, j, i);
          put(k, H + j, fg);
          put(k, 2 * H + j, g);
          put(k, 3 * H + j, o);
        }
      } else {
        const k = kStep + <usize>b * rowCW;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(f(x, j) + f(bIh, j) + (f(k, j) + f(bHh, j)));
          const z = sigmoid(f(x, H + j) + f(bIh, H + j) + (f(k, H + j) + f(bHh, H + j)));
          const nh = f(k, 2 * H + j) + f(bHh, 2 * H + j);
          const n = Mathf.tanh(f(x, 2 * H + j) + f(bIh, 2 * H + j) + r * nh);
          put(hn, j, (1 - z) * n + z * f(hp, j));
          put(k, j, r);
          put(k, H + j, z);
          put(k, 2 * H + j, n);
          put(k, 3 * H + j, nh);
        }
      }
    }
  }
}

/**
 * The reverse loop. Reads wHh, hs, cs, cache (as cellForward wrote them), dhs [T,B,H], dhN [B,H], dcN [B,H]
 * (lstm only); writes dGx, dGh [T,B,GH], dh0 [B,H], dc0 [B,H] (lstm only). dh0/dc0 carry dh_t/dc_t meanwhile.
 */
export function cellBackward(
  kind: i32, T: i32, B: i32, H: i32,
  wHh: usize, hs: usize, cs: usize, cache: usize, dhs: usize, dhN: usize, dcN: usize,
  dGx: usize, dGh: usize, dh0: usize, dc0: usize,
): void {
  const G = gatesOf(kind);
  const GH = G * H;
  const CW = cacheWidthOf(kind) * H;
  const rowH = <usize>H << 2;
  const rowGH = <usize>GH << 2;
  const rowCW = <usize>CW << 2;
  const stepH = <usize>B * rowH;
  memory.copy(dh0, dhN, stepH);
  if (kind == CellKind.Lstm) memory.copy(dc0, dcN, stepH);
  for (let t = T - 1; t >= 0; t--) {
    const gStep = <usize>t * <usize>B * rowGH;
    for (let b = 0; b < B; b++) {
      const row = <usize>t * <usize>B + <usize>b;
      const dy = dhs + row * rowH;
      const dhb = dh0 + <usize>b * rowH;
      const hp = hs + row * rowH;
      const hc = hp + stepH;
      const gx = dGx + row * rowGH;
      const gh = dGh + row * rowGH;
      if (kind == CellKind.RnnTanh || kind == CellKind.RnnRelu) {
        const tanh = kind == CellKind.RnnTanh;
        for (let j = 0; j < H; j++) {
          const dh = f(dy, j) + f(dhb, j);
          const y = f(hc, j);
          const da = tanh ? dh * (1 - y * y) : y > 0 ? dh : 0;
          put(gx, j, da);
          put(gh, j, da);
        }
      } else if (kind == CellKind.Lstm) {
        const k = cache + row * rowCW;
        const cp = cs + row * rowH;
        const cc = cp + stepH;
        const dcb = dc0 + <usize>b * rowH;
        for (let j = 0; j < H; j++) {
          const dh = f(dy, j) + f(dhb, j);
          const i = f(k, j);
          const fg = f(k, H + j);
          const g = f(k, 2 * H + j);
          const o = f(k, 3 * H + j);
          const tc = Mathf.tanh(f(cc, j));
          const dc = f(dcb, j) + dh * o * (1 - tc * tc);
          const di = dc * g * i * (1 - i);
          const df = dc * f(cp, j) * fg * (1 - fg);
          const dg = dc * i * (1 - g * g);
          const dO = dh * tc * o * (1 - o);
          put(gx, j, di);
          put(gh, j, di);
          put(gx, H + j, df);
          put(gh, H + j, df);
          put(gx, 2 * H + j, dg);
          put(gh, 2 * H + j, dg);
          put(gx, 3 * H + j, dO);
          put(gh, 3 * H + j, dO);
          put(dcb, j, dc * fg);
        }
      } else {
        const k = cache + row * rowCW;
        for (let j = 0; j < H; j++) {
          const dh = f(dy, j) + f(dhb, j);
          const r = f(k, j);
          const z = f(k, H + j);
          const n = f(k, 2 * H + j);
          const nh = f(k, 3 * H + j);
          const dn = dh * (1 - z) * (1 - n * n);
          const dz = dh * (f(hp, j) - n) * z * (1 - z);
          const dr = dn * nh * r * (1 - r);
          put(gx, j, dr);
          put(gh, j, dr);
          put(gx, H + j, dz);
          put(gh, H + j, dz);
          put(gx, 2 * H + j, dn);
          put(gh, 2 * H + j, dn * r);
          put(dhb, j, dh * z); // the direct path z⊙dh; the GEMM below adds W_hhᵀ·dGh
        }
      }
    }
    // dh_{t-1}[B,H] = dGh_t[B,GH]·W_hh[GH,H] (+ the GRU's direct path already in dh0).
    gemmStrided(false, false, B, H, GH, 1, dGh + gStep, rowGH, wHh, rowH, kind == CellKind.Gru ? 1 : 0, dh0, rowH);
  }
}
