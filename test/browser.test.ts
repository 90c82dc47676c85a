// The demo page in a real headless Chromium (Debian's chromium package, driven by playwright-core: no browser
// download). It trains on the WebAssembly backend in a Web Worker; its weights equal the CLI trainer's in Node
// bit for bit; a native CLI checkpoint uploaded to it samples what `rnnkit sample --backend wasm` prints; Stop
// aborts; a classifier checkpoint of the CLI classifies in the page as `rnnkit predict --backend wasm` does, a
// translator translates as `rnnkit translate --backend wasm` and a recogniser transcribes WAV files as `rnnkit
// transcribe --backend wasm`; a page that is not cross-origin isolated still trains, on one thread. Needs `npm run build` (dist/web,
// build/wasm). Generous timeouts and no timing assertions: the machine may be loaded.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeBackend } from '../src/backend/index.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../src/train/config.js';
import { cli } from './cli-helpers.js';
import { LONG, launchChromium, nodeWasmTraining, pageErrors, waitFor } from './browser-helpers.js';
import { makeRandom } from './helpers.js';
import { trainRecogniser, trainTranslator } from './predict-checkpoints.js';
import type { Translation } from '../src/tasks/seq2seq/translate.js';
// @ts-expect-error: a plain ES module without type declarations
import { startDemoServer } from '../scripts/demo-server.mjs';

const ROOT = new URL('..', import.meta.url);
const TEXT = readFileSync(new URL('demo/moby-dick.txt', ROOT), 'utf8');

type Demo = { server: Server; url: string };
let browser: Browser;
let isolated: Demo, open: Demo;
const dirs: string[] = [];

beforeAll(async () => {
  for (const file of ['dist/web/index.js', 'dist/web/worker.js', 'build/wasm/rnnkit.wasm']) {
    if (!existsSync(new URL(file, ROOT))) throw new Error(`${file} is missing: run npm run build`);
  }
  browser = await launchChromium();
  isolated = await startDemoServer({ port: 0, isolated: true });
  open = await startDemoServer({ port: 0, isolated: false });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  isolated?.server.close();
  open?.server.close();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

/** The demo page, ready, with the plain-SIMD wasm build (the one Node 20 runs, so that bits can be compared),
 *  training on 2 WebAssembly threads where the page is cross-origin isolated. */
async function openDemo(demo: Demo): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors = pageErrors(page);
  await page.goto(`${demo.url}?build=simd&threads=2`, { timeout: LONG });
  await page.evaluate('window.rnnkitDemo.ready');
  return { page, errors };
}

interface DemoState {
  running: boolean;
  finished: boolean;
  error: string | null;
  losses: { step: number; loss: number; smooth: number }[];
  samples: { step: number; text: string }[];
  model: Uint8Array | null;
  result: { steps: number; interrupted: boolean } | null;
  threads: { threads: number; reason: string };
  trainedOn: { name: string; threads: number } | null;
  crossOriginIsolated: boolean;
}

/** The page's state (window.rnnkitDemo.state) without the model objects. */
const demoState = (page: Page): Promise<DemoState> =>
  page.evaluate('({ ...window.rnnkitDemo.state, model: null, loaded: null })');

const modelBytes = async (page: Page): Promise<Buffer> =>
  Buffer.from(await page.evaluate<number[]>('Array.from(window.rnnkitDemo.state.model)'));

/** Fills the form, clicks Train and waits for the run to end. */
async function trainInPage(page: Page, form: Record<string, string>): Promise<DemoState> {
  await page.click('summary'); // "More settings": sequence, batch, learning rate, seed
  for (const [id, value] of Object.entries(form)) {
    if (['cell', 'hidden', 'layers'].includes(id)) await page.selectOption(`#${id}`, value);
    else await page.fill(`#${id}`, value);
  }
  await page.click('#train');
  await waitFor(page, 'window.rnnkitDemo.state.finished');
  return demoState(page);
}

/** The page's settings() for a form, as a TrainConfig for the Node trainer. */
const FORM = { cell: 'gru', hidden: '64', layers: '1', steps: '200', seq: '32', batch: '8', lr: '0.003', seed: '3' };
const nodeConfig = (form: typeof FORM): TrainConfig => ({
  ...DEFAULT_TRAIN_CONFIG,
  cell: 'gru',
  hidden: 64,
  layers: 1,
  steps: Number(form.steps),
  seq: 32,
  batch: 8,
  lr: 0.003,
  seed: 3,
  optimizer: 'adam',
  logEvery: 10,
  sampleEvery: Math.max(25, Math.round(Number(form.steps) / 10)),
  sampleLength: 200,
});

describe('the demo page in Chromium (cross-origin isolated)', () => {
  let page: Page, errors: string[], state: DemoState;

  beforeAll(async () => {
    ({ page, errors } = await openDemo(isolated));
    state = await trainInPage(page, FORM);
  }, LONG);

  it('trains 200 steps on the WebAssembly backend in a Web Worker, on 2 threads, and the loss falls', () => {
    expect(state.error).toBeNull();
    expect(state.crossOriginIsolated).toBe(true);
    // The training worker and a Web Worker of its own, sharing the module's memory.
    expect(state.trainedOn).toMatchObject({ name: 'wasm', threads: 2 });
    expect(state.result).toMatchObject({ steps: 200, interrupted: false });
    expect(state.losses.map((l) => l.step)).toEqual(Array.from({ length: 20 }, (_, i) => 10 * (i + 1)));
    const first = state.losses[0]!,
      last = state.losses.at(-1)!;
    expect(last.smooth).toBeLessThan(first.smooth - 0.5); // from ~4 nats (uniform over ~70 characters) down
    expect(errors).toEqual([]);
  });

  it('shows samples of 200 characters while it trains', async () => {
    expect(state.samples.map((s) => s.step)).toEqual([25, 50, 75, 100, 125, 150, 175, 200]);
    expect(state.samples.every((s) => s.text.length === 200)).toBe(true);
    expect(await page.locator('#samples li').count()).toBe(8);
  });

  it(
    'ends with the weights of the CLI trainer in Node on the WebAssembly backend (one thread), bit for bit',
    async () => {
      const node = (await nodeWasmTraining(TEXT, nodeConfig(FORM))).model;
      const browserFile = await modelBytes(page);
      expect(browserFile.length).toBe(node.length);
      expect(browserFile.equals(node)).toBe(true);
    },
    LONG,
  );

  it(
    'stops cleanly when Stop is clicked, keeping the weights reached',
    async () => {
      await page.fill('#steps', '1000000');
      await page.click('#train');
      await waitFor(page, 'window.rnnkitDemo.state.losses.length >= 2');
      await page.click('#stop');
      await waitFor(page, 'window.rnnkitDemo.state.finished');
      const stopped = await demoState(page);
      expect(stopped.error).toBeNull();
      expect(stopped.result!.interrupted).toBe(true);
      expect(stopped.result!.steps).toBeGreaterThanOrEqual(20);
      expect(stopped.result!.steps).toBeLessThan(1_000_000);
      expect(await page.textContent('#status')).toMatch(/^Stopped at step \d+\./);
    },
    LONG,
  );
});

describe('a checkpoint of the native CLI in the page', async () => {
  const native = (await probeBackend('native')).loaded;

  it.skipIf(!native)(
    'loads from an upload and samples what `rnnkit sample --backend wasm` prints for the same seed',
    async () => {
      const out = join(mkdtempSync(join(tmpdir(), 'rnnkit-browser-')), 'run');
      dirs.push(out);
      const trained = await cli(
        'train',
        '--backend',
        'native',
        '--cell',
        'lstm',
        '--hidden',
        '48',
        '--layers',
        '2',
        '--steps',
        '60',
        '--seed',
        '4',
        '--out',
        out,
        '--quiet',
      );
      expect(trained.code, trained.err).toBe(0);
      const expected = await cli(
        'sample',
        out,
        '--backend',
        'wasm',
        '--seed',
        '7',
        '--length',
        '300',
        '--temperature',
        '0.9',
        '--prime',
        'The ',
      );
      expect(expected.code, expected.err).toBe(0);
      const { page, errors } = await openDemo(isolated);
      await page.setInputFiles('#model-file', join(out, 'model.safetensors'));
      await waitFor(page, "!document.getElementById('sample').disabled");
      expect(await page.textContent('#model-info')).toMatch(/^model\.safetensors: LSTM 48×2, \d+ characters$/);
      await page.fill('#sample-length', '300');
      await page.fill('#temperature', '0.9');
      await page.fill('#sample-seed', '7');
      await page.fill('#prime', 'The ');
      await page.click('#sample');
      const text = await page.textContent('#sample-out');
      expect(text).toHaveLength(304);
      expect(`${text}\n`).toBe(expected.out); // the CLI ends its output with a newline
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );
});

describe('a classifier checkpoint of the CLI in the page', async () => {
  const native = (await probeBackend('native')).loaded;

  it(
    'classifies as `rnnkit predict --backend wasm` does: the same labels and probabilities, bit for bit',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'rnnkit-browser-')),
        out = join(dir, 'run');
      dirs.push(dir);
      // "has-x" when the text holds an x (a task a small model learns in a few hundred steps).
      const random = makeRandom(5);
      const lines = Array.from({ length: 200 }, () => {
        const text = Array.from({ length: 1 + Math.floor(random() * 25) }, () => 'abcdefx'[Math.floor(random() * 7)]);
        return `${text.includes('x') ? 'has-x' : 'no-x'}\t${text.join('')}\n`;
      });
      writeFileSync(join(dir, 'train.tsv'), lines.join(''));
      const trained = await cli(
        'train',
        '--task',
        'classify',
        join(dir, 'train.tsv'),
        '--backend',
        native ? 'native' : 'wasm',
        '--hidden',
        '16',
        '--embed',
        '6',
        '--steps',
        '200',
        '--lr',
        '0.01',
        '--max-len',
        '20',
        '--seed',
        '2',
        '--out',
        out,
        '--quiet',
      );
      expect(trained.code, trained.err).toBe(0);
      // Characters the model never saw, and texts past --max-len (the classifier keeps the first 20).
      const texts = ['abcx', 'ddddd', 'zzz é 🙂 x', 'abcdefabcdefabcdefab' + 'xxxx', 'x', 'caffe'];
      const expected = await cli('predict', out, '--backend', 'wasm', '--json', ...texts);
      expect(expected.code, expected.err).toBe(0);
      const cliRows = expected.out
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { label: string; probs: Record<string, number> });

      const { page, errors } = await openDemo(isolated);
      const bytes = [...readFileSync(join(out, 'model.safetensors'))];
      const pageRows = await page.evaluate<{ label: string; probs: Record<string, number> }[]>(`(async () => {
        const web = await import('/dist/web/index.js');
        const backend = await web.loadWasmBackend({ build: 'simd' });
        const classifier = await web.loadClassifier(new Blob([new Uint8Array(${JSON.stringify(bytes)})]), backend);
        return web.classProbabilities(classifier, ${JSON.stringify(texts)}).map((probs) => ({
          label: web.labelOf(classifier, probs),
          probs: Object.fromEntries(classifier.labels.labels.map((name, i) => [name, probs[i]])),
        }));
      })()`);
      expect(pageRows).toEqual(cliRows);
      expect(new Set(cliRows.map((row) => row.label))).toEqual(new Set(['has-x', 'no-x'])); // not one constant answer
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );
});

/** A file's bytes as a base64 string, for a page to rebuild with fromBase64 (below). */
const base64 = (path: string): string => readFileSync(path).toString('base64');
const FROM_BASE64 = 'const fromBase64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));';
const jsonLines = (out: string): unknown[] =>
  out
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));

describe('translation and transcription with CLI checkpoints in the page', async () => {
  const native = (await probeBackend('native')).loaded;
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'rnnkit-browser-'));
    dirs.push(root);
  });

  it.each([1, 2])(
    'a translator of %i layers translates as `rnnkit translate --backend wasm --json`: outputs, n-best scores, attention, unknown tokens',
    async (layers) => {
      const run = await trainTranslator(root, native ? 'native' : 'wasm', layers);
      const inputs = ['abc', 'fed', 'zz a', 'abcdefabcdef', 'b'];
      const flags = [
        ['--beam', '3', '--nbest', '3', '--attention'],
        ['--beam', '3', '--nbest', '3', '--length-penalty', '0.8'],
      ];
      const expected = [];
      for (const f of flags) expected.push(await cli('translate', run, ...inputs, ...f, '--backend', 'wasm', '--json'));
      expected.forEach((e) => expect(e.code, e.err).toBe(0));
      const { page, errors } = await openDemo(isolated);
      const [plain, penalised] = await page.evaluate<Translation[][]>(`(async () => {
        ${FROM_BASE64}
        const web = await import('/dist/web/index.js');
        const backend = await web.loadWasmBackend({ build: 'simd' });
        const file = new File([fromBase64(${JSON.stringify(base64(join(run, 'model.safetensors')))})], 'model.safetensors');
        const translator = await web.loadTranslator(file, backend);
        return [
          translator.translate(${JSON.stringify(inputs)}, { beam: 3, nbest: 3, attention: true }),
          translator.translate(${JSON.stringify(inputs)}, { beam: 3, nbest: 3, lengthPenalty: 0.8 }),
        ];
      })()`);
      const [cliPlain, cliPenalised] = expected.map((e) => jsonLines(e.out) as Translation[]);
      expect(plain).toEqual(cliPlain);
      expect(new Set(cliPlain!.map((r) => r.output)).size).toBeGreaterThan(2); // not one constant answer
      // The length penalty ((5 + |Y|)/6)^α is JavaScript's **, whose last bit differs between V8 versions
      // (Chromium's and Node 20's): the same outputs, scores within a few ulps.
      const rounded = (rows: Translation[]) =>
        rows.map((r) => ({
          ...r,
          score: r.score.toPrecision(13),
          nbest: r.nbest!.map((c) => ({ ...c, score: c.score.toPrecision(13) })),
        }));
      expect(rounded(penalised!)).toEqual(rounded(cliPenalised!));
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );

  it(
    'a recogniser transcribes uploaded WAV files as `rnnkit transcribe --backend wasm --json`, greedy and with --beam 4',
    async () => {
      const { run, files } = await trainRecogniser(root, native ? 'native' : 'wasm');
      const expected = [];
      for (const flags of [[], ['--beam', '4']])
        expected.push(await cli('transcribe', run, ...files, ...flags, '--backend', 'wasm', '--json'));
      expected.forEach((e) => expect(e.code, e.err).toBe(0));
      const { page, errors } = await openDemo(isolated);
      const results = await page.evaluate(`(async () => {
        ${FROM_BASE64}
        const web = await import('/dist/web/index.js');
        const backend = await web.loadWasmBackend({ build: 'simd' });
        const transcriber = await web.loadTranscriber(new Blob([fromBase64(${JSON.stringify(base64(join(run, 'model.safetensors')))})]), backend);
        const wavs = ${JSON.stringify(files.map((f) => [f, base64(f)]))}.map(([name, data]) => new File([fromBase64(data)], name));
        return [await transcriber.transcribe(wavs), await transcriber.transcribe(wavs, { beam: 4 })];
      })()`);
      const cliRows = expected.map((e) => jsonLines(e.out) as { text: string; words: unknown[] }[]);
      expect(results).toEqual(cliRows);
      expect(cliRows[0]!.some((r) => r.text !== '' && r.words.length > 0)).toBe(true); // words, with timings
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );
});

describe('train() in a page', () => {
  it(
    'rejects `result` with a clear error, instead of hanging, when its worker cannot start',
    async () => {
      const { page } = await openDemo(isolated);
      const message = await page.evaluate(`(async () => {
      const { train } = await import('/dist/web/index.js');
      try {
        await train({ text: 'abc abc', workerUrl: '/dist/web/no-such-worker.js' }).result;
        return 'resolved';
      } catch (error) {
        return error.message;
      }
    })()`);
      expect(message).toMatch(/^the training worker failed to run: /);
      await page.close();
    },
    LONG,
  );

  it(
    'rejects a bad setting before starting a worker',
    async () => {
      const { page } = await openDemo(isolated);
      const message = await page.evaluate(`(async () => {
      const { train } = await import('/dist/web/index.js');
      return train({ text: 'abc', config: { hidden: -1 } }).result.then(() => 'resolved', (error) => error.message);
    })()`);
      expect(message).toMatch(/hidden/);
      await page.close();
    },
    LONG,
  );
});

describe('a page that is not cross-origin isolated', () => {
  it(
    'says so, and trains on one thread',
    async () => {
      const { page, errors } = await openDemo(open);
      const state = await trainInPage(page, { ...FORM, steps: '30', hidden: '32' });
      expect(state.crossOriginIsolated).toBe(false);
      expect(state.threads.threads).toBe(1);
      expect(state.threads.reason).toMatch(/SharedArrayBuffer is unavailable/);
      expect(state.trainedOn).toMatchObject({ name: 'wasm', threads: 1 });
      expect(await page.textContent('#env')).toContain('not cross-origin isolated');
      expect(state.error).toBeNull();
      expect(state.result).toMatchObject({ steps: 30, interrupted: false });
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );
});

describe('wasm worker threads that misbehave in a page (cross-origin isolated, in a module Web Worker)', () => {
  interface Outcome {
    threads: number;
    error: { name: string; code: string; message: string } | null;
    after?: string | null;
    c?: number;
  }
  /** test/fixtures/web-thread-death-caller.mjs's report: a 300×300 GEMM of ones on 3 threads, thread 2 misbehaving. */
  const outcome = async (dies: string): Promise<Outcome> => {
    const page = await browser.newPage();
    await page.goto(isolated.url, { timeout: LONG });
    const result = await page.evaluate<Outcome>(`new Promise((resolve, reject) => {
      const worker = new Worker('/test/fixtures/web-thread-death-caller.mjs?dies=${dies}', { type: 'module' });
      worker.onmessage = ({ data }) => resolve(data);
      worker.onerror = (event) => reject(new Error(event.message ?? 'the worker failed'));
    })`);
    await page.close();
    return result;
  };

  it(
    'one whose GEMM part throws: the call throws the one-line RnnkitError (no hang), and so does the next',
    async () => {
      const { threads, error, after } = await outcome('throws');
      expect(threads).toBe(3);
      expect(error).toMatchObject({ name: 'RnnkitError', code: 'ERR_BACKEND_UNAVAILABLE' });
      expect(error!.message).toMatch(
        /^wasm backend: worker thread 2 died during gemm \(it threw: Error: a kernel part failed\); this backend cannot compute any more/,
      );
      expect(after).toBe(error!.message);
    },
    LONG,
  );

  it(
    'a slow one (1 s per part, several liveness intervals) is waited for: the right product',
    async () => {
      expect(await outcome('is slow')).toEqual({ threads: 3, error: null, c: 300 });
    },
    LONG,
  );
});
