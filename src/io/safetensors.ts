// The safetensors format: 8-byte little-endian header length N, N bytes of JSON header, raw little-endian
// tensor data. The reader trusts nothing: every size, offset, dtype and shape is checked before use.
// No file system here (the browser entry uses it): safetensors-file.ts reads and writes files of any size.
import { badCheckpoint } from '../errors.js';

export interface TensorEntry {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: TensorEntry[];
  metadata: Record<string, string>;
}

/** Larger headers are refused before parsing (the reference implementation's limit is the same). */
export const MAX_HEADER_BYTES = 100_000_000;
export const BYTES_PER_F32 = 4;

/** The header (padded so that the data stays 8-byte aligned) and the data's length in bytes. */
export function encodeHeader(
  tensors: TensorEntry[],
  metadata: Record<string, string>,
): { header: Uint8Array; dataBytes: number } {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.data.length * BYTES_PER_F32;
    if (t.shape.reduce((a, b) => a * b, 1) !== t.data.length)
      throw new Error(`tensor ${t.name}: shape ${JSON.stringify(t.shape)} does not match ${t.data.length} elements`);
    header[t.name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const utf8 = new TextEncoder();
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (utf8.encode(json).length % 8)) % 8); // keep the data 8-byte aligned
  const json8 = utf8.encode(json);
  const out = new Uint8Array(8 + json8.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json8.length), true);
  out.set(json8, 8);
  return { header: out, dataBytes: offset };
}

/** The whole file in memory (for small files and tests; writeSafetensors writes any size in pieces). */
export function encodeSafetensors(tensors: TensorEntry[], metadata: Record<string, string> = {}): Uint8Array {
  const { header, dataBytes } = encodeHeader(tensors, metadata);
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header, 0);
  let at = header.length;
  for (const t of tensors) {
    copyLittleEndian(t.data, 0, t.data.length, out.subarray(at));
    at += t.data.length * BYTES_PER_F32;
  }
  return out;
}

export const LITTLE_ENDIAN_HOST = new Uint8Array(Float32Array.of(1).buffer)[3] === 0x3f;

/** Copies data[from, to) into `into` as little-endian bytes. */
export function copyLittleEndian(data: Float32Array, from: number, to: number, into: Uint8Array): Uint8Array {
  const bytes = into.subarray(0, (to - from) * BYTES_PER_F32);
  if (LITTLE_ENDIAN_HOST) bytes.set(new Uint8Array(data.buffer, data.byteOffset + from * BYTES_PER_F32, bytes.length));
  else {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
    for (let i = from; i < to; i++) view.setFloat32((i - from) * BYTES_PER_F32, data[i]!, true);
  }
  return bytes;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface Entry {
  name: string;
  shape: number[];
  begin: number;
  end: number;
}

/** The header's length from the file's first 8 bytes, checked against the file's size. */
export function headerLengthOf(first8: Uint8Array, fileBytes: number, what: string): number {
  if (fileBytes < 8) throw badCheckpoint(`${what}: ${fileBytes} bytes is too short to hold a header length`);
  const headerLength = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, fileBytes - 8))) {
    throw badCheckpoint(
      `${what}: header length ${headerLength} exceeds the file (${fileBytes} bytes) or the ${MAX_HEADER_BYTES}-byte limit; the file is truncated or not safetensors`,
    );
  }
  return Number(headerLength);
}

/** Parses and validates the JSON header against `dataLength` data bytes. */
export function parseHeader(
  json: Uint8Array,
  dataLength: number,
  what: string,
): { metadata: Record<string, string>; entries: Entry[] } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(json));
  } catch (error) {
    throw badCheckpoint(`${what}: the header is not valid JSON (${(error as Error).message})`);
  }
  if (!isRecord(header)) throw badCheckpoint(`${what}: the header is not a JSON object`);
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, value] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isRecord(value)) throw badCheckpoint(`${what}: __metadata__ is not an object`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw badCheckpoint(`${what}: metadata ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    if (!isRecord(value)) throw badCheckpoint(`${what}: tensor ${name} has no description`);
    const { dtype, shape, data_offsets: offsets } = value;
    if (dtype !== 'F32')
      throw badCheckpoint(`${what}: tensor ${name} has dtype ${JSON.stringify(dtype)}; only F32 is supported`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw badCheckpoint(`${what}: tensor ${name} has an invalid shape ${JSON.stringify(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      throw badCheckpoint(`${what}: tensor ${name} has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const elements = (shape as number[]).reduce((a, b) => a * b, 1);
    if (begin > end || end > dataLength)
      throw badCheckpoint(
        `${what}: tensor ${name} has data_offsets [${begin}, ${end}] outside the ${dataLength} data bytes`,
      );
    if (end - begin !== elements * BYTES_PER_F32) {
      throw badCheckpoint(
        `${what}: tensor ${name} has shape ${JSON.stringify(shape)} (${elements * BYTES_PER_F32} bytes) but data_offsets span ${end - begin} bytes`,
      );
    }
    entries.push({ name, shape: shape as number[], begin, end });
  }
  // Tensors must tile the data exactly: no gaps, no overlaps, nothing left over.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin !== cursor)
      throw badCheckpoint(
        `${what}: tensor ${e.name} starts at byte ${e.begin}, expected ${cursor} (tensors overlap or leave a gap)`,
      );
    cursor = e.end;
  }
  if (cursor !== dataLength) throw badCheckpoint(`${what}: tensors cover ${cursor} of ${dataLength} data bytes`);
  return { metadata, entries };
}

/** Parses and validates a whole file in memory; `what` names the file in error messages. */
export function decodeSafetensors(bytes: Uint8Array, what = 'safetensors file'): SafetensorsFile {
  const dataStart = 8 + headerLengthOf(bytes, bytes.length, what);
  const { metadata, entries } = parseHeader(bytes.subarray(8, dataStart), bytes.length - dataStart, what);
  const tensors = entries.map((e) => {
    const dv = new DataView(bytes.buffer, bytes.byteOffset + dataStart + e.begin, e.end - e.begin);
    const data = new Float32Array((e.end - e.begin) / BYTES_PER_F32);
    for (let i = 0; i < data.length; i++) data[i] = dv.getFloat32(i * BYTES_PER_F32, true);
    return { name: e.name, shape: e.shape, data };
  });
  return { tensors, metadata };
}
