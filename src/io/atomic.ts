// Crash-safe file replacement: write a temporary file in the same directory, fsync it, rename it over the
// target, fsync the directory. A crash leaves either the old file or the new one, never a torn one.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Node writes at most 2 GiB − 1 bytes per call. */
const MAX_WRITE = 1 << 30;

/** `data`: the bytes, or a function that writes them to the file descriptor it is given (large files). */
export function writeFileAtomic(path: string, data: Uint8Array | string | ((fd: number) => void)): void {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(temporary, 'w');
  try {
    if (typeof data === 'function') data(fd);
    else {
      const bytes = typeof data === 'string' ? Buffer.from(data) : data;
      let written = 0;
      while (written < bytes.length)
        written += writeSync(fd, bytes, written, Math.min(MAX_WRITE, bytes.length - written));
    }
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
