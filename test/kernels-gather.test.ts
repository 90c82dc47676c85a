// gatherRows/scatterAddRows (embedding lookup and its gradient) and gatherColumns/scatterAddColumns (the
// one-hot input projection W·onehot(id) and its gradient) on every backend configuration against the float64
// reference (test/kernel-suite.ts), with repeated ids (the scatters must add every repeat). Shapes: few table
// rows so that ids repeat; the column kernels go through a transposed table when n >= columns ([5, 40, 9]:
// native in place; [257, 513, 89]: wasm's 4 MiB scratch) and lane by lane otherwise ([1100, 1100, 1000]);
// [300, 517, 89] splits the width over two native threads (not a multiple of 16).
import { describe, it } from 'vitest';
import { makeRandom, randomValues } from './helpers.js';
import { type BadArgument, badArgumentSuite, compareWithReference, expectNativeLoads } from './kernel-suite.js';

expectNativeLoads();

const SHAPES: [n: number, width: number, count: number][] = [
  [1, 1, 1],
  [3, 17, 2],
  [3, 17, 5],
  [17, 3, 4],
  [17, 3, 5],
  [33, 100, 7],
  [100, 33, 7],
  [100, 257, 3],
  [33, 257, 3],
  [0, 4, 2],
  [0, 5, 2],
  [5, 40, 9],
  [257, 513, 89],
  [300, 517, 89],
  [1100, 1100, 1000],
];

const nans = (n: number): number[] => new Array<number>(n).fill(NaN);
const randomIds = (random: () => number, n: number, limit: number): number[] => {
  const ids = Array.from({ length: n }, () => Math.floor(random() * limit));
  if (n >= 3) ids[1] = ids[0]!; // at least one repeat
  return ids;
};

describe('gather and scatter match the float64 reference', () => {
  for (const [n, width, count] of SHAPES) {
    const big = n * width > 1e6; // only the column kernels have a path for it (wasm's scratch is too small)
    if (!big)
      it(`rows: n=${n} D=${width} table rows=${count}`, async () => {
        const random = makeRandom(n * 97 + width * 5 + count);
        const ids = randomIds(random, n, count);
        const table = randomValues(random, count * width),
          dTable = randomValues(random, count * width),
          dOut = randomValues(random, n * width);
        await compareWithReference(
          ({ backend, floats, ints }) => {
            const [id] = ints(ids);
            const [t, out, d, dt] = floats(table, nans(n * width), dOut, dTable);
            backend.gatherRows(n, width, id!, t!, out!);
            backend.scatterAddRows(n, width, id!, d!, dt!);
            return { 'gatherRows out': out!, 'scatterAddRows dTable': dt!, ids: id! };
          },
          [1e-5, 1e-4],
          { per: { 'gatherRows out': [0, 0], ids: [0, 0] } },
        );
      });

    it(
      `columns: n=${n} R=${width} W columns=${count}`,
      async () => {
        const random = makeRandom(n * 89 + width * 3 + count);
        const ids = randomIds(random, n, count);
        const W = randomValues(random, width * count),
          dW = randomValues(random, width * count),
          dOut = randomValues(random, n * width);
        await compareWithReference(
          ({ backend, floats, ints }) => {
            const [id] = ints(ids);
            const [w, out, d, dw] = floats(W, nans(n * width), dOut, dW);
            backend.gatherColumns(n, width, id!, w!, out!);
            backend.scatterAddColumns(n, width, id!, d!, dw!);
            return { 'gatherColumns out': out!, 'scatterAddColumns dW': dw!, ids: id! };
          },
          [1e-5, 1e-4],
          { per: { 'gatherColumns out': [0, 0], ids: [0, 0] } },
        );
      },
      big ? 600_000 : undefined,
    );
  }
});

const BAD_ARGUMENTS: BadArgument[] = [
  [
    'gatherRows: ids too short',
    ({ backend, floats, ints }) => {
      const [ids] = ints([0]);
      const [table, out] = floats(nans(6), nans(6));
      return () => backend.gatherRows(2, 3, ids!, table!, out!);
    },
    RangeError,
    'gatherRows: ids has 1 elements, expected 2',
  ],
  [
    'gatherRows: an id past the table',
    ({ backend, floats, ints }) => {
      const [ids] = ints([0, 1, 9]);
      const [table, out] = floats(nans(8), nans(6));
      return () => backend.gatherRows(3, 2, ids!, table!, out!);
    },
    RangeError,
    'gatherRows: id 9 at position 2 is outside [0, 4)',
  ],
  [
    'gatherRows: a negative id',
    ({ backend, floats, ints }) => {
      const [ids] = ints([-1, 1, 2]);
      const [table, out] = floats(nans(8), nans(6));
      return () => backend.gatherRows(3, 2, ids!, table!, out!);
    },
    RangeError,
    'gatherRows: id -1 at position 0 is outside [0, 4)',
  ],
  [
    'gatherRows: a table of part of a row',
    ({ backend, floats, ints }) => {
      const [ids] = ints([0]);
      const [table, out] = floats(nans(8), nans(3));
      return () => backend.gatherRows(1, 3, ids!, table!, out!);
    },
    RangeError,
    'gatherRows: table of 8 elements is not a whole number of 3-element rows',
  ],
  [
    'scatterAddRows: a table of part of a row',
    ({ backend, floats, ints }) => {
      const [ids] = ints([0]);
      const [dOut, dTable] = floats(nans(3), nans(8));
      return () => backend.scatterAddRows(1, 3, ids!, dOut!, dTable!);
    },
    RangeError,
    'scatterAddRows: table of 8 elements is not a whole number of 3-element rows',
  ],
  [
    'scatterAddRows: the last id out of range (nothing added)',
    ({ backend, floats, ints }) => {
      const [ids] = ints([0, 1, 4]);
      const [dOut, dTable] = floats([2, 2, 2], [1, 1, 1, 1]);
      return () => backend.scatterAddRows(3, 1, ids!, dOut!, dTable!);
    },
    RangeError,
    'scatterAddRows: id 4 at position 2 is outside [0, 4)',
  ],
  [
    'gatherColumns: an id past the columns',
    ({ backend, floats, ints }) => {
      const [ids] = ints([2, 3]);
      const [W, out] = floats(nans(6), nans(4));
      return () => backend.gatherColumns(2, 2, ids!, W!, out!);
    },
    RangeError,
    'gatherColumns: id 3 at position 1 is outside [0, 3)',
  ],
  [
    'gatherColumns: a negative id',
    ({ backend, floats, ints }) => {
      const [ids] = ints([0, -1]);
      const [W, out] = floats(nans(6), nans(4));
      return () => backend.gatherColumns(2, 2, ids!, W!, out!);
    },
    RangeError,
    'gatherColumns: id -1 at position 1 is outside [0, 3)',
  ],
  [
    'gatherColumns: R 0',
    ({ backend, floats, ints }) => {
      const [ids] = ints([0]);
      const [W, out] = floats(nans(2), []);
      return () => backend.gatherColumns(1, 0, ids!, W!, out!);
    },
    RangeError,
    'gatherColumns: expected an integer >= 1 for R but received 0',
  ],
  [
    'scatterAddColumns: an empty table',
    ({ backend, floats, ints }) => {
      const [ids] = ints([0]);
      const [dOut, dW] = floats(nans(2), []);
      return () => backend.scatterAddColumns(1, 2, ids!, dOut!, dW!);
    },
    RangeError,
    'scatterAddColumns: table of 0 elements is not a whole number of 2-element columns',
  ],
];

badArgumentSuite('gather and scatter', BAD_ARGUMENTS);
