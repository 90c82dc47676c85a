// Reads a text file line by line in fixed-size chunks, so that a log of any size (beyond V8's ~512 MiB string
// limit) is never held whole. A line is handed over as bytes without its '\n'; the last line may lack one.
import { closeSync, openSync, readSync } from 'node:fs';

const CHUNK_BYTES = 1 << 20;

/** Calls `each(line, lineNumber)` for every line of `path` (numbered from 1). */
export function forEachLine(path: string, each: (line: Buffer, lineNumber: number) => void, chunkBytes = CHUNK_BYTES): void {
  const fd = openSync(path, 'r');
  try {
    const chunk = Buffer.alloc(chunkBytes);
    let pending: Buffer[] = [], lineNumber = 0;
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) {
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
