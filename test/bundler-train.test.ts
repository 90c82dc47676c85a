// train() of rnnkit/web from a Vite bundle, in headless Chromium: the app in test/fixtures/vite-train imports
// 'rnnkit/web' as a package; Vite builds it (the training worker and the WebAssembly thread worker become
// bundles of their own, the .wasm an asset), and only the build is served, by the demo's static server, with
// and without the cross-origin-isolation headers. The page trains in the bundled worker; its events and its
// model.safetensors must equal those of the CLI trainer in Node on the same wasm build, bit for bit, on 2
// threads (isolated) and on 1 (not isolated); an AbortSignal stops it. Needs `npm run build` and chromium.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../src/train/config.js';
import type { TrainEvent } from '../src/train/trainer.js';
import { LONG, launchChromium, nodeWasmTraining, pageErrors, waitFor } from './browser-helpers.js';
import { buildViteApp } from './vite-app.js';
// @ts-expect-error: a plain ES module without type declarations
import { startStaticServer } from '../scripts/static-server.mjs';

const FIXTURE = new URL('fixtures/vite-train/', import.meta.url);
const TEXT = readFileSync(new URL('../demo/moby-dick.txt', import.meta.url), 'utf8').slice(0, 12_000);
/** Small enough to train in seconds, with validation, log lines and samples to stream. */
const CONFIG: Partial<TrainConfig> = {
  cell: 'gru',
  hidden: 32,
  seq: 24,
  batch: 4,
  steps: 60,
  optimizer: 'adam',
  lr: 0.01,
  seed: 5,
  valFrac: 0.1,
  evalEvery: 20,
  logEvery: 10,
  sampleEvery: 30,
  sampleLength: 40,
};

interface AppRun {
  events: TrainEvent[];
  result: { steps: number; interrupted: boolean };
  model: number[];
}
type Served = { server: Server; url: string };

let app: string, assets: string[], browser: Browser, isolated: Served, open: Served;
let node: { model: Buffer; events: TrainEvent[] };

beforeAll(async () => {
  const files = Object.fromEntries(
    ['index.html', 'main.js'].map((name) => [name, readFileSync(new URL(name, FIXTURE), 'utf8')]),
  );
  let outDir: string;
  ({ app, outDir } = await buildViteApp(files));
  assets = readdirSync(join(outDir, 'assets'));
  isolated = await startStaticServer({ root: outDir, isolated: true });
  open = await startStaticServer({ root: outDir, isolated: false });
  browser = await launchChromium();
  node = await nodeWasmTraining(TEXT, { ...DEFAULT_TRAIN_CONFIG, ...CONFIG } as TrainConfig);
}, LONG);

afterAll(async () => {
  await browser?.close();
  isolated?.server.close();
  open?.server.close();
  if (app) rmSync(app, { recursive: true, force: true });
});

/** The app's page, ready, with its errors and the path of every worker it starts (nested ones included). */
async function openApp(served: Served): Promise<{ page: Page; errors: string[]; workers: string[] }> {
  const page = await browser.newPage();
  const errors = pageErrors(page);
  const workers: string[] = [];
  page.on('worker', (worker) => workers.push(new URL(worker.url()).pathname));
  await page.goto(served.url, { timeout: LONG });
  await waitFor(page, 'window.trainApp');
  return { page, errors, workers };
}

/** Trains in the page (window.trainApp.run of the fixture) with CONFIG, `steps` over it when given. */
const runIn = (page: Page, options: { threads: number; steps?: number; abortAtStep?: number }): Promise<AppRun> => {
  const { steps, ...rest } = options;
  const config = steps === undefined ? CONFIG : { ...CONFIG, steps };
  return page.evaluate<AppRun>(`window.trainApp.run(${JSON.stringify({ text: TEXT, config, ...rest })})`);
};

/** What must not depend on where training ran: the events but the progress ticks (timed) and the Node run's
 *  checkpoints (files), without the run directory, the backend, times and speeds. */
function comparable(events: TrainEvent[]): unknown[] {
  return events.flatMap((event): unknown[] => {
    switch (event.type) {
      case 'progress':
      case 'checkpoint':
        return [];
      case 'start': {
        const { dir: _dir, backend: _backend, ...rest } = event;
        return [rest];
      }
      case 'step': {
        const { tokens_per_s: _speed, elapsed_s: _elapsed, sample: _sample, ...metrics } = event.metrics;
        return [{ type: 'step', metrics }];
      }
      default:
        return [event];
    }
  });
}

const backendOf = (run: AppRun) => (run.events[0] as Extract<TrainEvent, { type: 'start' }>).backend;

it('Vite emits the training worker and the WebAssembly thread worker as bundles, and the .wasm as an asset', () => {
  expect(assets.filter((name) => /^worker-[\w-]+\.js$/.test(name))).toHaveLength(1);
  expect(assets.filter((name) => /^wasm-thread-[\w-]+\.js$/.test(name))).toHaveLength(1);
  expect(assets.some((name) => /^rnnkit-[\w-]+\.wasm$/.test(name))).toBe(true);
});

describe('a cross-origin isolated page', () => {
  let page: Page, errors: string[], workers: string[], run: AppRun;

  beforeAll(async () => {
    ({ page, errors, workers } = await openApp(isolated));
    run = await runIn(page, { threads: 2 });
  }, LONG);

  it('trains in the bundled worker on 2 threads (its own WebAssembly thread worker), and the loss falls', async () => {
    expect(await page.evaluate('window.trainApp.crossOriginIsolated')).toBe(true);
    expect(backendOf(run)).toMatchObject({ name: 'wasm', threads: 2 });
    expect(run.result).toMatchObject({ steps: 60, interrupted: false });
    expect(workers).toHaveLength(2);
    expect(workers[0]).toMatch(/^\/assets\/worker-[\w-]+\.js$/);
    expect(workers[1]).toMatch(/^\/assets\/wasm-thread-[\w-]+\.js$/);
    const validation = run.events.filter((e) => e.type === 'validation');
    expect(validation.map((e) => e.step)).toEqual([20, 40, 60]);
    expect(validation.at(-1)!.loss).toBeLessThan(validation[0]!.loss - 0.3);
    expect(errors).toEqual([]);
  });

  it('streams the events of the Node trainer, in its order: start, steps, validation, samples', () => {
    expect(run.events[0]!.type).toBe('start');
    expect(comparable(run.events)).toEqual(comparable(node.events));
    expect(run.events.filter((e) => e.type === 'sample').map((e) => e.text.length)).toEqual([40, 40]);
    const steps = run.events
      .slice(1)
      .map((e) => ('step' in e ? e.step : (e as { metrics: { step: number } }).metrics.step));
    expect(steps).toEqual([...steps].sort((a, b) => a - b)); // progress ticks too, in step order
  });

  it('ends with the model.safetensors of the Node trainer (one thread), bit for bit', () => {
    expect(Buffer.from(run.model).equals(node.model)).toBe(true);
  });

  it(
    'stops on an AbortSignal: the stream ends, the result says so, the weights reached come back, the workers end',
    async () => {
      const before = workers.length;
      const aborted = await runIn(page, { threads: 2, steps: 1_000_000, abortAtStep: 20 });
      expect(aborted.result.interrupted).toBe(true);
      expect(aborted.result.steps).toBeGreaterThanOrEqual(20);
      expect(aborted.result.steps).toBeLessThan(1_000_000);
      const lastStep = aborted.events.filter((e) => e.type === 'step').at(-1)!;
      expect(lastStep.metrics.step).toBeLessThanOrEqual(aborted.result.steps);
      const { tensors } = decodeSafetensors(Uint8Array.from(aborted.model));
      expect(tensors.find((t) => t.name === 'rnn.weight_hh_l0')?.shape).toEqual([96, 32]);
      expect(workers.length).toBe(before + 2);
      await expect.poll(() => page.workers().length, { timeout: LONG }).toBe(0);
      expect(errors).toEqual([]);
    },
    LONG,
  );
});

describe('a page that is not cross-origin isolated', () => {
  it(
    'trains in the bundled worker on one thread, to the same model.safetensors, bit for bit',
    async () => {
      const { page, errors, workers } = await openApp(open);
      expect(await page.evaluate('window.trainApp.crossOriginIsolated')).toBe(false);
      expect(await page.evaluate('window.trainApp.threads')).toMatchObject({ threads: 1 });
      const run = await runIn(page, { threads: 2 });
      expect(backendOf(run)).toMatchObject({ name: 'wasm', threads: 1 });
      expect(workers).toHaveLength(1); // the training worker only
      expect(comparable(run.events)).toEqual(comparable(node.events));
      expect(Buffer.from(run.model).equals(node.model)).toBe(true);
      expect(errors).toEqual([]);
      await page.close();
    },
    LONG,
  );
});
