// Line-oriented reading: a text file read line by line in fixed-size chunks, so that a log of any size
// (beyond V8's ~512 MiB string limit) is never held whole; the lines of a file held as bytes; and the fields
// of a JSON Lines record. Errors name the file and line: `FILE:LINE: problem`.
import { closeSync, openSync, readSync } from 'node:fs';
import { invalidInput } from '../errors.js';

const CHUNK_BYTES = 1 << 20;

/** Calls `each(line, lineNumber)` for every line of `path` (numbered from 1). */
export function forEachLine(
  path: string,
  each: (line: Buffer, lineNumber: number) => void,
  chunkBytes = CHUNK_BYTES,
): void {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(chunkBytes);
    let pending: Buffer[] = [],
      lineNumber = 0;
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
      let start = 0;
      for (let newline; (newline = chunk.indexOf(0x0a, start)) >= 0 && newline < n; start = newline + 1) {
        const piece = chunk.subarray(start, newline);
        each(pending.length ? Buffer.concat([...pending, piece]) : piece, ++lineNumber);
        pending = [];
      }
      if (start < n) pending.push(Buffer.from(chunk.subarray(start, n))); // a copy: the chunk is reused
    }
    if (pending.length) each(Buffer.concat(pending), ++lineNumber);
  } finally {
    closeSync(fd);
  }
}

/** Decodes line by line (the file as a whole may exceed the longest string V8 allows), so that invalid
 *  UTF-8 is reported with its line. */
export function* splitLines(bytes: Buffer, path: string): Generator<{ text: string; line: number }> {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let start = 0;
  for (let line = 1; start < bytes.length; line++) {
    const newline = bytes.indexOf(0x0a, start);
    const end = newline < 0 ? bytes.length : newline;
    let text: string;
    try {
      // Each call starts a new stream, so the decoder drops a BOM at the start of the file (and of a line).
      text = decoder.decode(bytes.subarray(start, end));
    } catch {
      throw invalidInput(`${path}:${line}: is not valid UTF-8`);
    }
    yield { text: text.endsWith('\r') ? text.slice(0, -1) : text, line };
    start = end + 1;
  }
}

/** The named string fields of one JSON Lines record (other fields are ignored). */
export function jsonStringFields<K extends string>(
  text: string,
  where: string,
  fields: readonly K[],
): Record<K, string> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's own message quotes the line, which may be megabytes long.
    throw invalidInput(`${where}: not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const shape = fields.map((f) => `"${f}": ...`).join(', ');
    throw invalidInput(`${where}: expected a JSON object {${shape}}, found ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const field of fields) {
    if (!(field in record)) throw invalidInput(`${where}: no "${field}" field`);
    if (typeof record[field] !== 'string')
      throw invalidInput(`${where}: "${field}" must be a string, found ${describe(record[field])}`);
  }
  return record as Record<K, string>;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
