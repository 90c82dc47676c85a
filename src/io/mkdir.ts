// `mkdir -p` without Node's recursive mkdirSync, which never returns for a path under /proc (it retries the
// ENOENT that /proc answers forever). Each missing parent is created once; a second ENOENT is an error.
import { mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export function makeDirectories(dir: string): void {
  try {
    mkdirSync(dir);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && statSync(dir).isDirectory()) return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
  }
  makeDirectories(dirname(dir));
  mkdirSync(dir); // fails (ENOENT again, EEXIST, …) where the parent cannot hold it
}
