// rnnkit/web's translation and transcription under Node: a checkpoint made by the CLI (native when it loads),
// loaded from a Blob on the WebAssembly backend, gives exactly what `rnnkit translate --json` and `rnnkit
// transcribe --json` print with --backend wasm, for each of their decoding options; bad input is refused with
// one line naming it.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import wavefile from 'wavefile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../src/backend/index.js';
import { RnnkitError } from '../src/errors.js';
import { Random } from '../src/util/random.js';
import {
  type WebTranscriber,
  type WebTranslator,
  loadLanguageModel,
  loadTranscriber,
  loadTranslator,
  loadWasmBackend,
} from '../src/web/index.js';
import type { WasmBackend } from '../src/backend/wasm-backend.js';
import { cli } from './cli-helpers.js';
import { TONE_RATE, speak } from './task-data.js';
import { trainRecogniser, trainTranslator } from './predict-checkpoints.js';

const root = mkdtempSync(join(tmpdir(), 'rnnkit-web-predict-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The plain-SIMD build: the one the CLI runs under Node 20, so both sides compute the same bits. */
const webWasm = () =>
  loadWasmBackend({ bytes: new Uint8Array(readFileSync(new URL('../build/wasm/rnnkit.wasm', import.meta.url))) });
const jsonLines = (out: string): unknown[] =>
  out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
/** What the web API returns, as the CLI's JSON would print it. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** The exception `fn` rejects with (or throws). */
async function failure(fn: () => unknown): Promise<Error> {
  try {
    await fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('loadTranslator', async () => {
  const native = (await probeBackend('native')).loaded;
  let run: string, translator: WebTranslator, backend: WasmBackend;
  // Seen in training (abcdef), never seen (z, the space, é), and longer than any training word.
  const inputs = ['abc', 'fed', 'zz a', 'é', 'abcdefabcdef', 'b'];

  beforeAll(async () => {
    run = await trainTranslator(root, native ? 'native' : 'wasm');
    backend = await webWasm();
    translator = await loadTranslator(new Blob([readFileSync(join(run, 'model.safetensors'))]), backend);
  }, 300_000);

  const cases: [string, string[], object][] = [
    ['the defaults (beam 5)', [], {}],
    ['greedy', ['--beam', '1'], { beam: 1 }],
    [
      'beam 3, n-best 3, length penalty, max length 4, attention',
      ['--beam', '3', '--nbest', '3', '--length-penalty', '0.8', '--max-length', '4', '--attention'],
      { beam: 3, nbest: 3, lengthPenalty: 0.8, maxLength: 4, attention: true },
    ],
  ];
  for (const [name, flags, options] of cases) {
    it(`translates as \`rnnkit translate --backend wasm --json\`: ${name}`, async () => {
      const expected = await cli('translate', run, ...inputs, ...flags, '--backend', 'wasm', '--json');
      expect(expected.code, expected.err).toBe(0);
      const rows = jsonLines(expected.out) as { output: string; unknown: string[] }[];
      expect(asJson(translator.translate(inputs, options))).toEqual(rows);
      expect(new Set(rows.map((r) => r.output)).size).toBeGreaterThan(2); // not one constant answer
      expect(rows[2]!.unknown).toEqual(['z', 'z', ' ']);
    });
  }

  // (The backend keeps a decoder workspace that the first call may grow: measured from the second.)
  it('gives its WebAssembly memory back after each call', () => {
    translator.translate(inputs, { beam: 3, nbest: 2, attention: true });
    const before = backend.bytesInUse;
    for (let i = 0; i < 3; i++) translator.translate(inputs, { beam: 3, nbest: 2, attention: true });
    expect(backend.bytesInUse).toBe(before);
  });

  it('refuses an empty input and bad options with one line, as the CLI does', async () => {
    expect((await failure(() => translator.translate(['abc', '']))).message).toBe(
      'input 2 is empty (no chars to translate)',
    );
    const beam = await failure(() => translator.translate(['abc'], { beam: 0 }));
    expect(beam.message).toMatch(/^--beam must be an integer ≥ 1/); // the decoder's own check, as in the CLI
    expect((await failure(() => translator.translate('abc' as never))).message).toBe(
      'translate: expected an array of strings',
    );
  });
});

describe('loadTranscriber', async () => {
  const native = (await probeBackend('native')).loaded;
  let run: string, lm: string, files: string[], transcriber: WebTranscriber, backend: WasmBackend;
  let samples16k: Float32Array, samples48k: Float32Array;

  beforeAll(async () => {
    ({ run, lm, files } = await trainRecogniser(root, native ? 'native' : 'wasm'));
    // The same words at 48 kHz as 32-bit float (resampled by both sides), and one file's samples as numbers.
    const random = new Random(9);
    samples48k = Float32Array.from(Array.from(speak('abba', random)).flatMap((x) => [x, x, x]));
    const wav48k = new wavefile.WaveFile();
    wav48k.fromScratch(1, 48000, '32f', Float64Array.from(samples48k));
    files.push(join(root, 'f48k.wav'));
    writeFileSync(files.at(-1)!, wav48k.toBuffer());
    const codes = new Int16Array(readFileSync(files[0]!).buffer.slice(44));
    samples16k = Float32Array.from(codes, (c) => c / 32768);
    backend = await webWasm();
    transcriber = await loadTranscriber(new Blob([readFileSync(join(run, 'model.safetensors'))]), backend);
  }, 300_000);

  /** The web API's inputs for `files`: Files, bytes, an ArrayBuffer and samples, each named as the CLI names it. */
  const inputs = () => [
    { samples: samples16k, sampleRate: TONE_RATE, name: files[0]! },
    new File([readFileSync(files[1]!)], files[1]!),
    new File([readFileSync(files[2]!)], files[2]!),
    { samples: samples48k, sampleRate: 48000, name: files[3]! },
  ];

  const cases: [string, string[], () => Promise<object>][] = [
    ['greedy', [], async () => ({})],
    ['beam 4', ['--beam', '4'], async () => ({ beam: 4 })],
    [
      'a character LM fused, weight 0.5 (beam 8)',
      ['--lm', 'LM', '--lm-weight', '0.5'],
      async () => ({
        lm: { ...(await loadLanguageModel(readFileSync(join(lm, 'model.safetensors')), await webWasm())), weight: 0.5 },
      }),
    ],
  ];
  for (const [name, flags, options] of cases) {
    it(`transcribes as \`rnnkit transcribe --backend wasm --json\`: ${name}`, async () => {
      const expected = await cli(
        'transcribe',
        run,
        ...files,
        ...flags.map((f) => (f === 'LM' ? lm : f)),
        '--backend',
        'wasm',
        '--json',
      );
      expect(expected.code, expected.err).toBe(0);
      const rows = jsonLines(expected.out) as { text: string; words: unknown[] }[];
      expect(asJson(await transcriber.transcribe(inputs(), await options()))).toEqual(rows);
      expect(rows.some((r) => r.text !== '' && r.words.length > 0)).toBe(true);
    });
  }

  it('gives its WebAssembly memory back after each call', async () => {
    await transcriber.transcribe(inputs(), { beam: 4 });
    const before = backend.bytesInUse;
    for (let i = 0; i < 3; i++) await transcriber.transcribe(inputs(), { beam: 4 });
    expect(backend.bytesInUse).toBe(before);
  });

  it('names an unnamed input by its place, and WAV bytes equal their samples', async () => {
    const bytes = new Uint8Array(readFileSync(files[0]!));
    const [a, b, c] = await transcriber.transcribe([
      bytes,
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      { samples: samples16k, sampleRate: TONE_RATE },
    ]);
    expect([a!.file, b!.file, c!.file]).toEqual(['input 1', 'input 2', 'input 3']);
    expect({ ...b, file: 'input 1' }).toEqual(a);
    expect({ ...c, file: 'input 1' }).toEqual(a);
  });

  it('refuses broken audio with one line naming it, before transcribing anything', async () => {
    const cases: [unknown, string][] = [
      [new Uint8Array(10), 'input 2: not a WAV file (no RIFF header)'],
      [{ samples: new Float32Array(0), sampleRate: 16000 }, 'input 2: no audio (0 samples)'],
      [{ samples: new Float32Array([0, NaN]), sampleRate: 16000 }, 'input 2: sample 1 is NaN, not a finite number'],
      [{ samples: new Float32Array(100), sampleRate: 500 }, 'input 2: sample rate 500 Hz is outside 1000–768000 Hz'],
      [
        'a.wav',
        'input 2: expected WAV bytes (a Uint8Array, an ArrayBuffer or a Blob) or { samples: Float32Array, sampleRate }',
      ],
    ];
    for (const [input, message] of cases) {
      const error = await failure(() =>
        transcriber.transcribe([new File([readFileSync(files[0]!)], 'ok.wav'), input as never]),
      );
      expect(error).toBeInstanceOf(RnnkitError);
      expect(error.message).toBe(message);
    }
    expect((await failure(() => transcriber.transcribe([], { beam: 0 }))).message).toBe(
      'beam must be an integer from 1 to 1024, got 0',
    );
  });

  it('refuses a checkpoint of another task, naming both', async () => {
    const error = await failure(async () =>
      loadTranscriber(readFileSync(join(lm, 'model.safetensors')), await webWasm()),
    );
    expect(error.message).toBe(
      'model.safetensors holds a model of task lm (trained with --task lm); this command needs a model of task ctc',
    );
  });
});
