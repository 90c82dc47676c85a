// cellForward with xIds (one-hot input: the loop reads rows of a table W_ihᵀ by id) must give exactly
// what the same backend gives for the [T,B,G·H] sequence of those rows, on every backend, every cell
// kind, and for native at both thread splits (by units and by streams).
import { describe, expect, it } from 'vitest';
import { loadNativeBackend } from '../src/backend/native.js';
import { type Backend, CELL_KINDS, type CellKind, cacheWidth, gatesOf } from '../src/backend/types.js';
import { BACKEND_FACTORIES, TESTED_BACKENDS } from './backends.js';
import { guardedSpans, intSpan, makeRandom, randomValues } from './helpers.js';

/** hs, cs and cache after a forward pass whose input projection is given as a sequence or as table + ids. */
function forward(backend: Backend, kind: CellKind, T: number, B: number, H: number, R: number, byIds: boolean): number[][] {
  const random = makeRandom(T * 31 + B * 7 + H + R);
  const GH = gatesOf(kind) * H, lstm = kind === 'lstm';
  const table = randomValues(random, R * GH);
  const ids = Array.from({ length: T * B }, () => Math.floor(random() * R));
  const sequence = ids.flatMap((id) => table.slice(id * GH, (id + 1) * GH));
  const wHh = randomValues(random, GH * H, 1 / Math.sqrt(H)), bIh = randomValues(random, GH, 0.2), bHh = randomValues(random, GH, 0.2);
  const h0 = randomValues(random, B * H), c0 = randomValues(random, B * H);
  const hs = [...h0, ...new Array<number>(T * B * H).fill(0)];
  const cs = lstm ? [...c0, ...new Array<number>(T * B * H).fill(0)] : [];
  const [x, w, bi, bh, h, c, cache] = guardedSpans(backend, byIds ? table : sequence, wHh, bIh, bHh, hs, cs, new Array<number>(T * B * cacheWidth(kind) * H).fill(0));
  backend.cellForward(kind, T, B, H, x!, w!, bi!, bh!, h!, c!, cache!, byIds ? intSpan(backend, ids) : null);
  return [h!, c!, cache!].map((span) => Array.from(span.data));
}

// [T, B, H, table rows]: native splits [4, 33, 64] by streams and [4, 5, 100] by units over 2 threads.
const SHAPES: [number, number, number, number][] = [[1, 1, 3, 2], [3, 2, 17, 5], [4, 5, 100, 7], [4, 33, 64, 89]];

describe('cellForward reads its input projection by id', () => {
  const backends: [string, () => Promise<Backend>][] = [
    ...TESTED_BACKENDS.map((name) => [name, BACKEND_FACTORIES[name]] as [string, () => Promise<Backend>]),
    ...(TESTED_BACKENDS.includes('native') ? [['native, 1 thread', async () => loadNativeBackend({ threads: 1 })] as [string, () => Promise<Backend>]] : []),
  ];
  for (const [name, factory] of backends) {
    it(`${name}: the same bits as the gathered sequence, every kind`, async () => {
      const backend = await factory();
      for (const kind of CELL_KINDS) {
        for (const [T, B, H, R] of SHAPES) {
          expect(forward(backend, kind, T, B, H, R, true), `${name} ${kind} T=${T} B=${B} H=${H}`).toEqual(forward(backend, kind, T, B, H, R, false));
        }
      }
    });
  }
});
