// rnnkit/web from a bundle: a tiny app that imports 'rnnkit/web' (installed as a package: node_modules/rnnkit
// links to this checkout) is built with Vite, the built page is served on its own (only the bundle's files,
// not the package, by the demo's static server) and runs in headless Chromium, where it samples from a model. The page finds the .wasm that
// Vite emitted beside the bundle (the `new URL(…, import.meta.url)` of src/web/wasm.ts), and samples the text
// that the same model gives in Node on the same wasm build. Needs `npm run build` and Debian's chromium.
import { readdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadWasmBackend } from '../src/backend/wasm.js';
import { Vocabulary } from '../src/data/vocab.js';
import { sample } from '../src/generate/sample.js';
import { Model } from '../src/model/model.js';
import type { ModelConfig } from '../src/model/config.js';
import { LONG, launchChromium, pageErrors } from './browser-helpers.js';
import { buildViteApp } from './vite-app.js';
// @ts-expect-error: a plain ES module without type declarations
import { startStaticServer } from '../scripts/static-server.mjs';

const CHARS = 'abc de';
const CONFIG = { cell: 'gru', nonlinearity: 'tanh', hidden: 16, layers: 1, embed: 0 } as const;
const SAMPLE = { length: 60, seed: 1 };

const MAIN = `import { Model, Vocabulary, loadWasmBackend, sample } from 'rnnkit/web';

try {
  const backend = await loadWasmBackend({ build: 'simd' });
  const vocab = new Vocabulary([...${JSON.stringify(CHARS)}]);
  const model = new Model(backend, { ...${JSON.stringify(CONFIG)}, vocabSize: vocab.size });
  model.initialize(3);
  window.bundleResult = { text: sample(model, vocab, ${JSON.stringify(SAMPLE)}) };
  document.getElementById('out').textContent = window.bundleResult.text;
} catch (error) {
  window.bundleResult = { error: String(error.message) }; // e.g. the .wasm not found: fail at once
}
`;
const INDEX = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>rnnkit in a bundle</title></head>
<body><pre id="out"></pre><script type="module" src="./main.js"></script></body></html>
`;

const dirs: string[] = [];
let server: Server | undefined;
afterAll(() => {
  server?.close();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

it(
  'a Vite build of an app importing rnnkit/web runs in Chromium: the .wasm is found beside the bundle and it samples',
  async () => {
    const { app, outDir } = await buildViteApp({ 'index.html': INDEX, 'main.js': MAIN });
    dirs.push(app);
    const assets = readdirSync(join(outDir, 'assets'));
    expect(assets.filter((name) => name.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1); // emitted by Vite

    const served = await startStaticServer({ root: outDir });
    server = served.server;

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const errors = pageErrors(page),
        wasmRequests: string[] = [];
      page.on(
        'request',
        (request) => request.url().endsWith('.wasm') && wasmRequests.push(new URL(request.url()).pathname),
      );
      await page.goto(served.url, { timeout: LONG });
      await page.waitForFunction('window.bundleResult', null, { timeout: LONG, polling: 250 });
      const { text, error } = await page.evaluate<{ text: string; error?: string }>('window.bundleResult');
      expect(error).toBeUndefined();

      // The same model and sampling in Node, on the same (plain-SIMD) wasm build.
      const vocab = new Vocabulary([...CHARS]);
      const model = new Model(await loadWasmBackend({ build: 'simd' }), {
        ...CONFIG,
        vocabSize: vocab.size,
      } as ModelConfig);
      model.initialize(3);
      expect(text).toBe(sample(model, vocab, SAMPLE));
      expect(text).toHaveLength(60);
      expect(wasmRequests).toHaveLength(1);
      expect(wasmRequests[0]).toMatch(/^\/assets\/rnnkit-[\w-]+\.wasm$/); // the bundle's file, not the package's
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  },
  LONG,
);
