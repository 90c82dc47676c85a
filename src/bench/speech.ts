// The speech rows of the benchmark: A1, log-mel feature extraction (plain TypeScript, any
// backend), and A2, transcription (features, the recogniser's forward pass and greedy decoding) of the
// README's spoken-digit model shape with random weights. Both in seconds of audio per second (× real time).
import { LogMel } from '../audio/features.js';
import type { Backend } from '../backend/types.js';
import { cellKind, validateConfig } from '../model/config.js';
import { gatesOf } from '../backend/types.js';
import { Model } from '../model/model.js';
import { Alphabet } from '../speech/alphabet.js';
import { DIGIT_WORDS } from '../speech/digits.js';
import { transcribe } from '../tasks/ctc/recognise.js';
import { TASK_DEFAULTS } from '../tasks/index.js';
import { Random } from '../util/random.js';

export const SPEECH_BENCH = {
  A1: 'log-mel features (80 mels, 25/10 ms, 512-point FFT, 3 stacked) of 10 s of audio, × real time',
  A2: 'transcription of 8 utterances of 2.5 s in one call (features, bidirectional GRU 2×128 over 240 inputs, greedy), × real time',
};

const SECONDS = { A1: 10, A2: 2.5 };
const UTTERANCES = 8;
const RATE = 16000;

/** Tones in noise: the features' cost does not depend on the signal. */
function signal(seconds: number): Float32Array {
  const random = new Random(3);
  return Float32Array.from(
    { length: seconds * RATE },
    (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / RATE) + 0.01 * random.normal(),
  );
}

/** A1: one call extracts the features of 10 s; returns the seconds processed. */
export function featureStep(): () => number {
  const extractor = new LogMel();
  const samples = signal(SECONDS.A1);
  return () => {
    extractor.features(samples);
    return SECONDS.A1;
  };
}

/** The recogniser of `rnnkit train --task ctc` (its defaults) over the digits' alphabet, random weights. */
function benchRecogniser(backend: Backend) {
  const d = TASK_DEFAULTS.ctc;
  const alphabet = Alphabet.of(DIGIT_WORDS.concat('oh').map((w) => `${w} `));
  const extractor = new LogMel();
  const config = validateConfig({
    cell: d.cell!,
    nonlinearity: 'tanh',
    hidden: d.hidden!,
    layers: d.layers!,
    embed: 0,
    bidirectional: true,
    vocabSize: alphabet.size,
    outputs: alphabet.size,
    frameWidth: extractor.width,
  });
  const model = new Model(backend, config);
  model.initialize(1);
  return { model, alphabet, features: extractor.settings };
}

/** A2: one call transcribes 8 utterances of 2.5 s from their samples; returns the seconds processed. */
export function transcriptionStep(backend: Backend): { step: () => number; flopsPerSecond: number } {
  const recogniser = benchRecogniser(backend);
  const extractor = new LogMel(recogniser.features);
  const samples = signal(SECONDS.A2);
  const step = (): number => {
    const utterances = Array.from({ length: UTTERANCES }, () => {
      const { frames, data } = extractor.features(samples);
      return { file: '', text: '', features: data, frames, seconds: SECONDS.A2 };
    });
    transcribe(recogniser, utterances);
    return UTTERANCES * SECONDS.A2;
  };
  const c = recogniser.model.config;
  const GH = gatesOf(cellKind(c)) * c.hidden;
  let perFrame = 2 * 2 * c.hidden * recogniser.alphabet.size; // head
  for (let l = 0; l < c.layers; l++) perFrame += 2 * 2 * GH * (c.hidden + (l === 0 ? extractor.width : 2 * c.hidden));
  const framesPerSecond = 1000 / (recogniser.features.hopMs * recogniser.features.stack);
  return { step, flopsPerSecond: perFrame * framesPerSecond };
}
