// A sequence-to-sequence data file: TSV (`source<TAB>target` per line; the target is everything after the
// first tab) or JSON Lines (`{"source": "...", "target": "..."}` per line). The format comes from the
// extension (.jsonl/.ndjson/.json → JSON Lines, .tsv/.tab → TSV), otherwise from the content: JSON Lines
// when the first non-blank line starts with `{`. UTF-8, BOM skipped, CRLF accepted, blank lines skipped.
// A source may appear on several lines with different targets (alternative answers): the split keeps them
// together and scoring accepts any of them.
import { extname } from 'node:path';
import { invalidInput } from '../../errors.js';
import { jsonStringFields, splitLines } from '../../io/lines.js';
import { MAX_INPUT_BYTES, readBounded } from '../../io/read-bounded.js';

export type PairsFormat = 'jsonl' | 'tsv';

export interface Pair {
  source: string;
  target: string;
  /** 1-based line of the file (for a built-in corpus: position in it), for error messages. */
  line: number;
}

export interface PairsDataset {
  /** The file path (or the built-in corpus' name) that error messages name. */
  source: string;
  pairs: Pair[];
}

const EXTENSIONS: Record<string, PairsFormat> = {
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
  '.json': 'jsonl',
  '.tsv': 'tsv',
  '.tab': 'tsv',
};

export function readPairsFile(path: string, options: { format?: PairsFormat; maxBytes?: number } = {}): PairsDataset {
  const bytes = readBounded(path, 'a TSV or JSON Lines file of pairs', options.maxBytes ?? MAX_INPUT_BYTES);
  if (bytes.length === 0) throw invalidInput(`${path}: the file is empty`);
  let format = options.format ?? EXTENSIONS[extname(path).toLowerCase()];
  const pairs: Pair[] = [];
  for (const { text, line } of splitLines(bytes, path)) {
    if (text.trim() === '') continue;
    format ??= text.trimStart().startsWith('{') ? 'jsonl' : 'tsv';
    const where = `${path}:${line}`;
    const pair = format === 'jsonl' ? jsonStringFields(text, where, ['source', 'target']) : tsvPair(text, where);
    if (pair.source.trim() === '') throw invalidInput(`${where}: the source is empty`);
    if (pair.target.trim() === '') throw invalidInput(`${where}: the target is empty`);
    pairs.push({ source: pair.source, target: pair.target, line });
  }
  if (pairs.length === 0) throw invalidInput(`${path}: no pairs, every line is blank`);
  return { source: path, pairs };
}

function tsvPair(text: string, where: string): { source: string; target: string } {
  const tab = text.indexOf('\t');
  if (tab < 0) throw invalidInput(`${where}: expected source<TAB>target, found no tab`);
  return { source: text.slice(0, tab), target: text.slice(tab + 1) };
}

/** The targets of each distinct source, in first-seen order. */
export function groupBySource(pairs: readonly Pair[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const { source, target } of pairs) {
    const targets = groups.get(source);
    if (targets === undefined) groups.set(source, [target]);
    else if (!targets.includes(target)) targets.push(target);
  }
  return groups;
}
