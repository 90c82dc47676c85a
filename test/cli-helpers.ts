// Running the CLI in-process for tests: exit code and everything written to stdout and stderr.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vi } from 'vitest';
import { main } from '../src/cli/main.js';

/** Runs the CLI in-process; returns the exit code and everything written to stderr and stdout. `stdin`
 *  replaces standard input for commands that read it. */
export async function cli(...args: string[]): Promise<{ code: number; err: string; out: string }> {
  let err = '',
    out = '';
  const capture = (sink: 'err' | 'out') => (chunk: unknown) => {
    if (sink === 'err') err += String(chunk);
    else out += String(chunk);
    return true;
  };
  vi.spyOn(process.stderr, 'write').mockImplementation(capture('err'));
  vi.spyOn(process.stdout, 'write').mockImplementation(capture('out'));
  vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => capture('err')(a.join(' ') + '\n'));
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => capture('out')(a.join(' ') + '\n'));
  const code = await main(['node', 'rnnkit', ...args]);
  vi.restoreAllMocks();
  process.exitCode = undefined;
  return { code, err, out };
}

/** A fresh temporary directory, and `file(name, content)` that writes a file in it and returns its path. */
export function scratchDir(prefix: string): { dir: string; file: (name: string, content: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const file = (name: string, content: string): string => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  return { dir, file };
}

/** Rows as TSV: one line per row, its fields separated by tabs. */
export const tsv = (rows: readonly (readonly string[])[]): string => rows.map((row) => row.join('\t') + '\n').join('');

/** Objects as JSON Lines. */
export const jsonLines = (objects: readonly object[]): string =>
  objects.map((object) => JSON.stringify(object) + '\n').join('');
