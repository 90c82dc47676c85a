// The spoken-digit generator (src/speech/digits.ts) with eSpeak NG in WebAssembly: WAV files at 16 kHz that the
// reader accepts, transcripts of 3–7 digit words, test voices disjoint from training voices, noise at the
// asked SNR, the same files for the same seed.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav-file.js';
import {
  DIGIT_WORDS,
  TEST_VOICES,
  TRAIN_VOICES,
  addNoise,
  digitText,
  writeSpeechDigits,
} from '../src/speech/digits.js';
import { loadSpeaker } from '../src/speech/espeak.js';
import { Random } from '../src/util/random.js';

const WORDS = new Set([...DIGIT_WORDS, 'oh']);

describe('spoken digit strings', () => {
  it('texts are 3–7 digit words', () => {
    const random = new Random(1);
    const lengths = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const words = digitText(random).split(' ');
      lengths.add(words.length);
      for (const w of words) expect(WORDS.has(w)).toBe(true);
    }
    expect([...lengths].sort()).toEqual([3, 4, 5, 6, 7]);
  });

  it('noise is added at the asked signal-to-noise ratio', () => {
    const signal = Float32Array.from({ length: 48000 }, (_, i) => 0.3 * Math.sin(i / 7));
    const noisy = signal.slice();
    addNoise(noisy, 10, new Random(2));
    let s = 0,
      n = 0;
    for (let i = 0; i < signal.length; i++) [s, n] = [s + signal[i]! ** 2, n + (noisy[i]! - signal[i]!) ** 2];
    expect(10 * Math.log10(s / n)).toBeCloseTo(10, 1);
  });

  it('the voices of the test part never speak in the training part', () => {
    expect(TEST_VOICES.some((v) => TRAIN_VOICES.includes(v))).toBe(false);
  });

  it('the same seed gives the same texts, voices, rates, pitches and SNRs (a stand-in speaker)', () => {
    const speaker = {
      sampleRate: 22050,
      speak: (text: string) => Float32Array.from({ length: 300 * text.length }, (_, i) => 0.1 * Math.sin(i / 5)),
    };
    const runs = [0, 1].map(() =>
      writeSpeechDigits(mkdtempSync(join(tmpdir(), 'rnnkit-digits-')), speaker, {
        count: 30,
        seed: 5,
        testFraction: 0.3,
      }),
    );
    expect(runs[1]).toEqual(runs[0]);
    expect(new Set(runs[0]!.map((u) => u.file.split('/')[0]))).toEqual(new Set(['train', 'test']));
  });

  // eSpeak NG carries state from one call to the next, so the same text and settings can come out a few
  // samples different later in a process: the audio itself is not compared across runs.
  it(
    'eSpeak NG writes readable 16 kHz WAV files, transcripts and a voice-disjoint split',
    { timeout: 900_000 },
    async () => {
      const speaker = await loadSpeaker();
      const dir = mkdtempSync(join(tmpdir(), 'rnnkit-digits-'));
      const run = writeSpeechDigits(dir, speaker, { count: 4, seed: 5, testFraction: 0.5 });
      for (const part of ['train', 'test']) {
        const lines = readFileSync(join(dir, part, 'transcripts.tsv'), 'utf8')
          .trim()
          .split('\n')
          .filter(Boolean);
        const files = readdirSync(join(dir, part)).filter((f) => f.endsWith('.wav'));
        expect(lines.length).toBe(files.length);
        for (const line of lines) {
          const [file, text] = line.split('\t') as [string, string];
          const audio = readWav(join(dir, part, file));
          expect(audio.fileRate).toBe(16000);
          expect(audio.samples.length / 16000).toBeGreaterThan(0.5);
          expect(text.split(' ').every((w) => WORDS.has(w))).toBe(true);
        }
      }
      const voices = (part: string): string[] =>
        run.filter((u) => u.file.startsWith(`${part}/`)).map((u) => u.voice.split('+')[0]!);
      expect(voices('train').every((v) => TRAIN_VOICES.includes(v))).toBe(true);
      expect(voices('test').every((v) => TEST_VOICES.includes(v))).toBe(true);
      expect(voices('train').length + voices('test').length).toBe(4);
    },
  );
});
