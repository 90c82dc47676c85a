// eSpeak NG compiled to WebAssembly (the npm package @echogarden/espeak-ng-emscripten, GPL-3.0, a development
// dependency, not installed with rnnkit: loaded only by the data generator, which names the install if missing): text in, 16-bit samples at its own rate (22 050 Hz) out.
import { RnnkitError } from '../errors.js';

const PACKAGE = '@echogarden/espeak-ng-emscripten';

interface Worker {
  set_voice(name: string, language: string, gender: number, age: number, variant: number): number;
  set_rate(wordsPerMinute: number): void;
  set_pitch(pitch: number): void;
  get_samplerate(): number;
  synthesize(text: string, callback: (audio: Int16Array, events: unknown[]) => boolean): void;
}

export interface Speaker {
  readonly sampleRate: number;
  /** Samples in [-1, 1] of `text` spoken with `voice` (an eSpeak voice name, optionally "+variant"). */
  speak(text: string, voice: string, rate: number, pitch: number): Float32Array;
}

export async function loadSpeaker(): Promise<Speaker> {
  let create: (options?: object) => Promise<{ eSpeakNGWorker: new () => Worker }>;
  try {
    create = ((await import(PACKAGE)) as { default: typeof create }).default;
  } catch (error) {
    throw new RnnkitError(
      'ERR_INVALID_INPUT',
      `speech synthesis needs the package ${PACKAGE} (GPL-3.0, not installed with rnnkit: npm install ${PACKAGE}): ${(error as Error).message}`,
    );
  }
  const worker = new (await create()).eSpeakNGWorker();
  const sampleRate = worker.get_samplerate();
  return {
    sampleRate,
    speak(text, voice, rate, pitch) {
      worker.set_voice(voice, '', 0, 0, 0);
      worker.set_rate(rate);
      worker.set_pitch(pitch);
      const chunks: Int16Array[] = [];
      worker.synthesize(text, (audio) => {
        chunks.push(audio);
        return false; // false: go on
      });
      const out = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const chunk of chunks) for (let i = 0; i < chunk.length; i++) out[at++] = chunk[i]! / 32768;
      return out;
    },
  };
}
