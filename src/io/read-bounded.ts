// Reads a whole input file into memory with a hard size cap, also for files whose size is not known in
// advance (a FIFO, /dev/stdin, /dev/zero): those are read in chunks and refused as soon as they pass the cap.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { RnnkitError, invalidInput } from '../errors.js';

/** Input files larger than this are refused (their examples are held in memory). */
export const MAX_INPUT_BYTES = 1 << 30;

const CHUNK_BYTES = 1 << 20;

/** readBounded's name for standard input (file descriptor 0, which is never closed here). */
export const STANDARD_INPUT = 'standard input';

export function readBounded(path: string, what: string, maxBytes = MAX_INPUT_BYTES): Buffer {
  try {
    return readCapped(path, what, maxBytes);
  } catch (error) {
    if (error instanceof RnnkitError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw invalidInput(`${path}: cannot read (${code ?? String(error)})`); // an unreadable file, not a bad one
  }
}

function readCapped(path: string, what: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = path === STANDARD_INPUT ? 0 : openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw invalidInput(`${path}: no such file`);
    throw invalidInput(`${path}: cannot open (${code ?? String(error)})`);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) throw invalidInput(`${path}: is a directory, expected ${what}`);
    if (stat.isFile()) {
      if (stat.size > maxBytes)
        throw invalidInput(`${path}: ${stat.size} bytes is more than the ${maxBytes}-byte limit`);
      return readFileSync(fd);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      // One byte more than the cap tells "exactly at the cap" from "over it".
      const chunk = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (total > maxBytes)
        throw invalidInput(
          `${path}: more than the ${maxBytes}-byte limit (read until the limit; the input's size is not known in advance)`,
        );
    }
    return Buffer.concat(chunks, total);
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}
