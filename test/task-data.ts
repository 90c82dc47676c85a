// Small data for the seq2seq and ctc tasks, shared by their CLI tests and the web API's tests: reversals
// (characters in, space-separated tokens out) and a toy spoken language of two tones.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeWav16 } from '../src/audio/wav.js';
import { Random } from '../src/util/random.js';
import { makeRandom } from './helpers.js';

/** Reversal: "abc" → "c b a" (characters in, space-separated tokens out). */
export function reversals(n: number, seed: number): [string, string][] {
  const random = makeRandom(seed);
  return Array.from({ length: n }, () => {
    const word = Array.from({ length: 1 + Math.floor(random() * 5) }, () => 'abcdef'[Math.floor(random() * 6)]).join(
      '',
    );
    return [word, [...word].reverse().join(' ')];
  });
}

export const TONE_RATE = 16000;

/** 'a' = 0.15 s at 400 Hz, 'b' = 0.15 s at 2 kHz, 0.05–0.1 s of quiet noise around each. */
export function speak(text: string, random: Random): Float32Array {
  const pieces: number[] = [];
  const quiet = (): void => {
    const n = Math.floor(TONE_RATE * (0.05 + 0.05 * random.uniform()));
    for (let i = 0; i < n; i++) pieces.push(0.003 * random.normal());
  };
  quiet();
  for (const ch of text) {
    const hz = ch === 'a' ? 400 : 2000;
    for (let i = 0; i < 0.15 * TONE_RATE; i++)
      pieces.push(0.4 * Math.sin((2 * Math.PI * hz * i) / TONE_RATE) + 0.003 * random.normal());
    quiet();
  }
  return Float32Array.from(pieces);
}

/** A speech directory root/name of `count` utterances of 1–4 tones (16-bit WAV files and transcripts.tsv). */
export function toyDir(root: string, name: string, count: number, seed: number): string {
  const dir = join(root, name);
  mkdirSync(dir);
  const random = new Random(seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const length = 1 + Math.floor(random.uniform() * 4);
    const text = Array.from({ length }, () => (random.uniform() < 0.5 ? 'a' : 'b')).join('');
    writeFileSync(join(dir, `${i}.wav`), encodeWav16(speak(text, random), TONE_RATE));
    lines.push(`${i}.wav\t${text}\n`);
  }
  writeFileSync(join(dir, 'transcripts.tsv'), lines.join(''));
  return dir;
}
