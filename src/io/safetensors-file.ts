// Safetensors files of any size on disk: Node's reads and writes take at most 2 GiB − 1 bytes at a time, so
// files are written and read in pieces, straight from and into the tensors (no copy of the whole file).
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { badCheckpoint } from '../errors.js';
import {
  BYTES_PER_F32,
  LITTLE_ENDIAN_HOST,
  type SafetensorsFile,
  type TensorEntry,
  copyLittleEndian,
  encodeHeader,
  headerLengthOf,
  parseHeader,
} from './safetensors.js';

/** The longest single read or write. */
export const PIECE_BYTES = 1 << 30;

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let written = 0; written < bytes.length;) written += writeSync(fd, bytes, written, bytes.length - written);
}

/** Writes a safetensors file of any size to `fd`, each write at most `pieceBytes` long. */
export function writeSafetensors(
  fd: number,
  tensors: TensorEntry[],
  metadata: Record<string, string> = {},
  pieceBytes = PIECE_BYTES,
): void {
  const { header } = encodeHeader(tensors, metadata);
  writeAll(fd, header);
  const perPiece = Math.max(1, Math.floor(pieceBytes / BYTES_PER_F32));
  const scratch = LITTLE_ENDIAN_HOST ? null : new Uint8Array(perPiece * BYTES_PER_F32);
  for (const t of tensors) {
    for (let from = 0; from < t.data.length; from += perPiece) {
      const to = Math.min(t.data.length, from + perPiece);
      // A little-endian host writes the floats' own bytes; another converts them first.
      writeAll(
        fd,
        scratch
          ? copyLittleEndian(t.data, from, to, scratch)
          : new Uint8Array(t.data.buffer, t.data.byteOffset + from * BYTES_PER_F32, (to - from) * BYTES_PER_F32),
      );
    }
  }
}

/** Reads exactly bytes.length bytes at `position`, each read at most `pieceBytes` long. */
function readAll(fd: number, bytes: Uint8Array, position: number, what: string, pieceBytes: number): void {
  for (let done = 0; done < bytes.length;) {
    const n = readSync(fd, bytes, done, Math.min(pieceBytes, bytes.length - done), position + done);
    if (n === 0) throw badCheckpoint(`${what}: the file ended early (it changed while being read?)`);
    done += n;
  }
}

/**
 * Reads and validates a safetensors file of any size (up to `maxBytes`) straight into its tensors: no copy
 * of the whole file is held, and each read is at most `pieceBytes` long.
 */
export function readSafetensorsFile(
  path: string,
  maxBytes: number,
  what = path,
  pieceBytes = PIECE_BYTES,
): SafetensorsFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > maxBytes) throw badCheckpoint(`${what}: ${size} bytes is larger than the ${maxBytes}-byte limit`);
    const first8 = new Uint8Array(Math.min(8, size));
    readAll(fd, first8, 0, what, pieceBytes);
    const headerLength = headerLengthOf(first8, size, what);
    const json = new Uint8Array(headerLength);
    readAll(fd, json, 8, what, pieceBytes);
    const dataStart = 8 + headerLength;
    const { metadata, entries } = parseHeader(json, size - dataStart, what);
    const tensors = entries.map((e) => {
      const data = new Float32Array((e.end - e.begin) / BYTES_PER_F32);
      readAll(fd, new Uint8Array(data.buffer), dataStart + e.begin, what, pieceBytes);
      if (!LITTLE_ENDIAN_HOST) {
        const view = new DataView(data.buffer);
        for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(i * BYTES_PER_F32, true);
      }
      return { name: e.name, shape: e.shape, data };
    });
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}
