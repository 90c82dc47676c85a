// The wasm backend trusts nothing it is handed (issue 17): spans and buffers are readonly at run time, not only
// in the type system, and every kernel takes its addresses from the allocator's own record of a buffer. Each
// misuse below once made gemm overwrite the model's parameters or write past a buffer; now each is refused
// before any kernel writes, and memory around the target is left as it was.
import { beforeAll, describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { type Backend, type FloatSpan, Span } from '../src/backend/types.js';
import { loadWasmBackend } from '../src/backend/wasm.js';
import { floatSpan } from './helpers.js';

let wasm: Backend;
let other: Backend;

beforeAll(async () => {
  wasm = await loadWasmBackend();
  other = await loadWasmBackend();
});

/** C = A·B for 2×2 matrices, where `C` is what the caller hands in. The "parameters" buffer is allocated just
 *  before C, so a C shifted backwards (or an address taken from a forged field) would land in them. */
interface Setup {
  params: FloatSpan;
  /** Allocated just after C: a C that grew would spill into it. */
  after: FloatSpan;
  A: FloatSpan;
  B: FloatSpan;
  C: FloatSpan;
}

function setup(): Setup {
  const params = floatSpan(wasm, [7, 7, 7, 7, 7, 7, 7, 7]);
  const C = Span.of(wasm.allocFloat(4));
  const after = floatSpan(wasm, [9, 9, 9, 9]);
  return { params, after, A: floatSpan(wasm, [1, 2, 3, 4]), B: floatSpan(wasm, [5, 6, 7, 8]), C };
}

const gemm = (s: Setup, C: FloatSpan = s.C): void => wasm.gemm(false, false, 2, 2, 2, 1, s.A, s.B, 0, C);
const mutable = (value: object): Record<string, unknown> => value as Record<string, unknown>;

interface Misuse {
  name: string;
  /** Attempts the misuse; must throw. */
  attempt: (s: Setup) => void;
  error: RegExp;
}

const MISUSES: Misuse[] = [
  {
    name: "a span's offset changed after it was made",
    attempt: (s) => {
      mutable(s.C)['offset'] = -8;
      gemm(s);
    },
    error: /Cannot assign to read only property 'offset'/,
  },
  {
    name: "a span's length changed after it was made",
    attempt: (s) => {
      mutable(s.C)['length'] = 1 << 20;
      gemm(s);
    },
    error: /Cannot assign to read only property 'length'/,
  },
  {
    name: "a span's buffer swapped after it was made",
    attempt: (s) => {
      mutable(s.C)['buf'] = s.params.buf;
      gemm(s);
    },
    error: /Cannot assign to read only property 'buf'/,
  },
  {
    name: "a span's offset redefined with Object.defineProperty",
    attempt: (s) => {
      Object.defineProperty(s.C, 'offset', { value: -8 });
      gemm(s);
    },
    error: /Cannot redefine property: offset/,
  },
  {
    name: "a buffer's length changed (so that a new span reaches past it)",
    attempt: (s) => {
      mutable(s.C.buf)['length'] = 1 << 20;
      gemm(s, new Span(s.C.buf, 0, 4));
    },
    error: /Cannot (set property length|assign to read only property 'length')/,
  },
  {
    name: "a buffer's address changed",
    attempt: (s) => {
      mutable(s.C.buf)['ptr'] = (s.params.buf as unknown as { ptr: number }).ptr;
      gemm(s);
    },
    error: /Cannot (set property ptr|assign to read only property 'ptr')/,
  },
  {
    name: "a buffer's length shadowed with Object.defineProperty",
    attempt: (s) => {
      Object.defineProperty(s.C.buf, 'length', { value: 1 << 20 });
      gemm(s, new Span(s.C.buf, 0, 4));
    },
    error: /Cannot define property length, object is not extensible/,
  },
  {
    name: 'an object shaped like a span, with an offset into the parameters',
    attempt: (s) => gemm(s, { buf: s.params.buf, offset: 2, length: 4, data: s.C.data } as unknown as FloatSpan),
    error: /^gemm: C is not a Span \(make spans with Span\.of, new Span or sub\)$/,
  },
  {
    name: 'an object made from Span.prototype without its constructor',
    attempt: (s) => {
      const forged = Object.create(Span.prototype) as FloatSpan;
      Object.defineProperties(forged, { buf: { value: s.C.buf }, offset: { value: -8 }, length: { value: 4 } });
      gemm(s, forged);
    },
    error: /^gemm: C is not a Span/,
  },
  {
    name: "a real span over a forged buffer (the buffer class's prototype, a parameter's address)",
    attempt: (s) => {
      const real = s.C.buf as unknown as { ptr: number };
      const forged = Object.create(Object.getPrototypeOf(real) as object) as object;
      Object.defineProperties(forged, {
        owner: { value: wasm },
        ptr: { value: (s.params.buf as unknown as { ptr: number }).ptr },
        length: { value: 4 },
        data: { value: s.C.data },
      });
      gemm(s, new Span(forged as FloatSpan['buf'], 0, 4));
    },
    error: /^gemm: C is not a float buffer of this wasm backend \(allocate it with this backend's allocFloat\)$/,
  },
  {
    name: 'a span of another wasm backend instance (whose address would be valid here too)',
    attempt: (s) => gemm(s, Span.of(other.allocFloat(4))),
    error: /^gemm: C is not a float buffer of this wasm backend/,
  },
  {
    name: 'a span of the reference backend',
    attempt: (s) => gemm(s, floatSpan(new ReferenceBackend(), [0, 0, 0, 0])),
    error: /^gemm: C is not a float buffer of this wasm backend/,
  },
  {
    name: 'an int buffer where a float one belongs',
    attempt: (s) => gemm(s, Span.of(wasm.allocInt(4)) as unknown as FloatSpan),
    error: /^gemm: C is not a float buffer of this wasm backend/,
  },
];

describe('misuse of spans and buffers is refused before any kernel writes', () => {
  it.each(MISUSES)('$name', ({ attempt, error }) => {
    const s = setup();
    expect(() => attempt(s)).toThrow(error);
    expect(Array.from(s.params.data)).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
    expect(Array.from(s.after.data)).toEqual([9, 9, 9, 9]);
    // The real C is untouched too (the call never ran), and it still works.
    expect(Array.from(s.C.data)).toEqual([0, 0, 0, 0]);
    gemm(s);
    expect(Array.from(s.C.data)).toEqual([19, 22, 43, 50]);
    expect(Array.from(s.params.data)).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
  });

  it('every kernel takes its addresses through the same check (an int argument, an optional one, an update)', () => {
    const s = setup();
    const forgedIds = { buf: wasm.allocInt(2), offset: 0, length: 2 } as unknown as Span<Int32Array>;
    expect(() => wasm.gatherRows(2, 2, forgedIds, s.A, s.C)).toThrow(/^gatherRows: ids is not a Span/);
    const logits = floatSpan(wasm, [1, 2, 3, 4]);
    const targets = Span.of(wasm.allocInt(2));
    expect(() => wasm.softmaxCrossEntropy(2, 2, logits, targets, 1, Span.of(other.allocFloat(4)))).toThrow(
      /^softmaxCrossEntropy: dLogits is not a float buffer of this wasm backend/,
    );
    expect(() =>
      wasm.adamUpdate(
        s.params.sub(0, 4),
        s.A,
        s.B,
        { buf: s.params.buf, offset: 4, length: 4 } as unknown as FloatSpan,
        0.1,
        0.9,
        0.999,
        1e-8,
        0,
        false,
        1,
      ),
    ).toThrow(/^adamUpdate: v is not a Span/);
    expect(Array.from(s.params.data)).toEqual([7, 7, 7, 7, 7, 7, 7, 7]);
    expect(Array.from(logits.data)).toEqual([1, 2, 3, 4]);
  });
});
