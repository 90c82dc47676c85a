import { describe, expect, it } from 'vitest';
import { RnnkitError } from '../src/errors.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { makeRandom } from './helpers.js';

const sample = () =>
  encodeSafetensors(
    [
      { name: 'a', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { name: 'b', shape: [1], data: Float32Array.from([-0.5]) },
    ],
    { note: 'hi' },
  );

/** A file with the given header object and `dataBytes` zero bytes of data. */
function withHeader(header: unknown, dataBytes: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

describe('safetensors', () => {
  it('round-trips tensors and metadata with an 8-byte aligned header', () => {
    const bytes = sample();
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLength % 8).toBe(0);
    const file = decodeSafetensors(bytes);
    expect(file.metadata).toEqual({ note: 'hi' });
    expect(file.tensors.map((t) => [t.name, t.shape, Array.from(t.data)])).toEqual([
      ['a', [2, 3], [1, 2, 3, 4, 5, 6]],
      ['b', [1], [-0.5]],
    ]);
  });

  it.each([
    ['a file shorter than 8 bytes', new Uint8Array(3), /too short/],
    [
      'a header length past the end',
      (() => {
        const b = sample();
        new DataView(b.buffer).setBigUint64(0, 10n ** 12n, true);
        return b;
      })(),
      /exceeds the file/,
    ],
    ['a header that is not JSON', withHeader('x', 0).map((v, i) => (i === 8 ? 0x7b : v)), /not valid JSON/],
    ['a JSON array header', withHeader([1], 0), /not a JSON object/],
    [
      'an unsupported dtype',
      withHeader({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] } }, 2),
      /dtype "F16"; only F32/,
    ],
    ['a negative shape', withHeader({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /invalid shape/],
    [
      'offsets past the data',
      withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4),
      /outside the 4 data bytes/,
    ],
    [
      'a shape that disagrees with the offsets',
      withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4),
      /data_offsets span 4 bytes/,
    ],
    [
      'overlapping tensors',
      withHeader(
        {
          a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
          b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
        },
        8,
      ),
      /overlap or leave a gap/,
    ],
    [
      'bytes no tensor covers',
      withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 8),
      /cover 4 of 8 data bytes/,
    ],
    ['non-string metadata', withHeader({ __metadata__: { a: 1 } }, 0), /metadata a is not a string/],
  ])('refuses %s', (_what, bytes, message) => {
    expect(() => decodeSafetensors(bytes as Uint8Array)).toThrow(message);
  });

  it('fuzz: random truncations and bit flips give a clean error or a valid file, never a crash', () => {
    const random = makeRandom(3);
    const original = sample();
    for (let i = 0; i < 2000; i++) {
      let bytes = original.slice();
      if (i % 2 === 0) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips && bytes.length; f++)
        bytes[Math.floor(random() * bytes.length)]! ^= 1 << Math.floor(random() * 8);
      try {
        const file = decodeSafetensors(bytes);
        const total = file.tensors.reduce((sum, t) => sum + t.data.length * 4, 0);
        expect(total).toBeLessThanOrEqual(bytes.length);
      } catch (error) {
        expect(error).toBeInstanceOf(RnnkitError);
      }
    }
  });
});
