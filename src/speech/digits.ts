// Spoken digit strings for training and testing a recogniser: 3–7 digits as words ("zero" … "nine", and
// "oh" for some zeros), spoken by eSpeak NG with a random voice variant, rate and pitch, padded with a
// little silence, mixed with white noise at a random SNR and resampled to 16 kHz. The test part uses voices
// that never occur in the training part.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resample } from '../audio/resample.js';
import { encodeWav16 } from '../audio/wav.js';
import { Random } from '../util/random.js';
import type { Speaker } from './espeak.js';

export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
/** eSpeak NG's English voices: the first six speak the training part, the last two the test part. */
export const TRAIN_VOICES = ['en-us', 'en', 'en-gb-x-rp', 'en-029', 'en-gb-scotland', 'en-gb-x-gbclan'];
export const TEST_VOICES = ['en-us-nyc', 'en-gb-x-gbcwmd'];
/** eSpeak NG voice variants ('' = the voice's own). */
export const VARIANTS = ['', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5'];
/** Signal-to-noise ratios in dB (Infinity: no noise). */
export const SNRS = [Infinity, 30, 20, 15, 10];

export interface Utterance {
  file: string;
  text: string;
  voice: string;
  rate: number;
  pitch: number;
  snr: number;
}

export interface DigitSettings {
  count: number;
  seed: number;
  /** Fraction of the utterances in the test part (held-out voices). */
  testFraction: number;
}

/** One random digit string as words. */
export function digitText(random: Random): string {
  const length = 3 + Math.floor(random.uniform() * 5);
  return Array.from({ length }, () => {
    const digit = Math.floor(random.uniform() * 10);
    return digit === 0 && random.uniform() < 0.4 ? 'oh' : DIGIT_WORDS[digit]!;
  }).join(' ');
}

const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random.uniform() * list.length)]!;

/** Adds white noise at `snr` dB relative to the signal's mean power (in place). */
export function addNoise(samples: Float32Array, snr: number, random: Random): void {
  if (snr === Infinity) return;
  let power = 0;
  for (const v of samples) power += v * v;
  const sigma = Math.sqrt(power / samples.length / 10 ** (snr / 10));
  for (let i = 0; i < samples.length; i++) samples[i] = samples[i]! + sigma * random.normal();
}

/** Writes DIR/{train,test}/NNNNN.wav, DIR/{train,test}/transcripts.tsv and DIR/utterances.tsv (every setting). */
export function writeSpeechDigits(
  dir: string,
  speaker: Speaker,
  settings: DigitSettings,
  onUtterance?: (done: number) => void,
): Utterance[] {
  const random = new Random(settings.seed);
  const parts = { train: [] as Utterance[], test: [] as Utterance[] };
  for (const part of Object.keys(parts)) mkdirSync(join(dir, part), { recursive: true });
  const all: Utterance[] = [];
  for (let i = 0; i < settings.count; i++) {
    const part = random.uniform() < settings.testFraction ? 'test' : 'train';
    const variant = pick(random, VARIANTS);
    const voice = pick(random, part === 'test' ? TEST_VOICES : TRAIN_VOICES) + (variant ? `+${variant}` : '');
    const text = digitText(random);
    const rate = 120 + Math.floor(random.uniform() * 100),
      pitch = 25 + Math.floor(random.uniform() * 50);
    const snr = pick(random, SNRS);
    const spoken = resample(speaker.speak(text, voice, rate, pitch), speaker.sampleRate, 16000);
    const lead = Math.floor(random.uniform() * 3200),
      tail = Math.floor(random.uniform() * 3200);
    const samples = new Float32Array(lead + spoken.length + tail);
    samples.set(spoken, lead);
    addNoise(samples, snr, new Random(random.nextUint32())); // its own stream: the settings do not depend on audio lengths
    const file = `${String(i).padStart(5, '0')}.wav`;
    writeFileSync(join(dir, part, file), encodeWav16(samples, 16000));
    const utterance = { file: `${part}/${file}`, text, voice, rate, pitch, snr };
    parts[part as 'train' | 'test'].push(utterance);
    all.push(utterance);
    onUtterance?.(i + 1);
  }
  for (const [part, list] of Object.entries(parts)) {
    writeFileSync(
      join(dir, part, 'transcripts.tsv'),
      list.map((u) => `${u.file.slice(part.length + 1)}\t${u.text}\n`).join(''),
    );
  }
  const header = 'file\ttext\tvoice\trate\tpitch\tsnr_db\n';
  writeFileSync(
    join(dir, 'utterances.tsv'),
    header + all.map((u) => `${u.file}\t${u.text}\t${u.voice}\t${u.rate}\t${u.pitch}\t${u.snr}\n`).join(''),
  );
  return all;
}
