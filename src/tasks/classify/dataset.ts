// A classification data file: JSON Lines (`{"text": "...", "label": "..."}` per line) or TSV
// (`label<TAB>text` per line; the text is everything after the first tab, so it may contain tabs).
// The format comes from the extension (.jsonl/.ndjson/.json → JSON Lines, .tsv/.tab → TSV), otherwise from
// the content: JSON Lines when the first non-blank line starts with `{`, else TSV. Files are UTF-8 (a BOM
// is skipped, CRLF line ends accepted); blank lines are skipped; other fields of a JSON object are ignored.
// Every error names the file and, for a bad line, its number: `FILE:LINE: problem`.
import { extname } from 'node:path';
import { invalidInput } from '../../errors.js';
import { MAX_INPUT_BYTES, readBounded } from '../../io/read-bounded.js';

export type ClassifyFormat = 'jsonl' | 'tsv';

export interface Example {
  text: string;
  label: string;
  /** 1-based line of the file (for the built-in corpus: 1-based position in it), for error messages. */
  line: number;
}

export interface ClassifyDataset {
  /** The file path (or the built-in corpus' name) that error messages name. */
  source: string;
  format: ClassifyFormat;
  examples: Example[];
}

export interface ReadOptions {
  /** Overrides the detection. */
  format?: ClassifyFormat;
  /** Size cap in bytes (default MAX_INPUT_BYTES, 1 GiB). */
  maxBytes?: number;
}

const EXTENSIONS: Record<string, ClassifyFormat> = { '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.json': 'jsonl', '.tsv': 'tsv', '.tab': 'tsv' };

export function readClassifyFile(path: string, options: ReadOptions = {}): ClassifyDataset {
  const bytes = readBounded(path, 'a JSON Lines or TSV file', options.maxBytes ?? MAX_INPUT_BYTES);
  if (bytes.length === 0) throw invalidInput(`${path}: the file is empty`);
  let format = options.format ?? EXTENSIONS[extname(path).toLowerCase()];
  const examples: Example[] = [];
  for (const { text, line } of splitLines(bytes, path)) {
    if (text.trim() === '') continue;
    format ??= text.trimStart().startsWith('{') ? 'jsonl' : 'tsv';
    const where = `${path}:${line}`;
    examples.push({ ...(format === 'jsonl' ? parseJsonLine(text, where) : parseTsvLine(text, where)), line });
  }
  if (examples.length === 0 || format === undefined) throw invalidInput(`${path}: no examples, every line is blank`);
  return { source: path, format, examples };
}

/** Decodes line by line (the file as a whole may exceed the longest string V8 allows), so that invalid
 *  UTF-8 is reported with its line. */
function* splitLines(bytes: Buffer, path: string): Generator<{ text: string; line: number }> {
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

function parseTsvLine(text: string, where: string): { text: string; label: string } {
  const tab = text.indexOf('\t');
  if (tab < 0) throw invalidInput(`${where}: expected label<TAB>text, found no tab`);
  return checked(text.slice(tab + 1), text.slice(0, tab), where);
}

function parseJsonLine(text: string, where: string): { text: string; label: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // The parser's own message quotes the line, which may be megabytes long.
    throw invalidInput(`${where}: not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(`${where}: expected a JSON object {"text": ..., "label": ...}, found ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const field of ['text', 'label']) {
    if (!(field in record)) throw invalidInput(`${where}: no "${field}" field`);
    if (typeof record[field] !== 'string') throw invalidInput(`${where}: "${field}" must be a string, found ${describe(record[field])}`);
  }
  return checked(record['text'] as string, record['label'] as string, where);
}

function checked(text: string, label: string, where: string): { text: string; label: string } {
  if (label === '') throw invalidInput(`${where}: the label is empty`);
  if (text === '') throw invalidInput(`${where}: the text is empty`);
  return { text, label };
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
