// A classification data file: JSON Lines (`{"text": "...", "label": "..."}` per line) or TSV
// (`label<TAB>text` per line; the text is everything after the first tab, so it may contain tabs).
// The format comes from the extension (.jsonl/.ndjson/.json → JSON Lines, .tsv/.tab → TSV), otherwise from
// the content: JSON Lines when the first non-blank line starts with `{`, else TSV. Files are UTF-8 (a BOM
// is skipped, CRLF line ends accepted); blank lines are skipped; other fields of a JSON object are ignored.
// Every error names the file and, for a bad line, its number: `FILE:LINE: problem`.
import { extname } from 'node:path';
import { invalidInput } from '../../errors.js';
import { jsonStringFields, splitLines } from '../../io/lines.js';
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

const EXTENSIONS: Record<string, ClassifyFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.tsv': 'tsv',
  '.tab': 'tsv',
};

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

function parseTsvLine(text: string, where: string): { text: string; label: string } {
  const tab = text.indexOf('\t');
  if (tab < 0) throw invalidInput(`${where}: expected label<TAB>text, found no tab`);
  return checked(text.slice(tab + 1), text.slice(0, tab), where);
}

function parseJsonLine(text: string, where: string): { text: string; label: string } {
  const record = jsonStringFields(text, where, ['text', 'label']);
  return checked(record.text, record.label, where);
}

function checked(text: string, label: string, where: string): { text: string; label: string } {
  if (label === '') throw invalidInput(`${where}: the label is empty`);
  if (text === '') throw invalidInput(`${where}: the text is empty`);
  return { text, label };
}
