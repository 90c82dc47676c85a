// rnnkit/web from a bundle: a tiny app that imports 'rnnkit/web' (installed as a package: node_modules/rnnkit
// links to this checkout) is built with Vite, the built page is served on its own (only the bundle's files,
// not the package) and runs in headless Chromium, where it samples from a model. The page finds the .wasm that
// Vite emitted beside the bundle (the `new URL(…, import.meta.url)` of src/web/wasm.ts), and samples the text
// that the same model gives in Node on the same wasm build. Needs `npm run build` and Debian's chromium.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, expect, it } from 'vitest';
import { loadWasmBackend } from '../src/backend/wasm.js';
import { Vocabulary } from '../src/data/vocab.js';
import { sample } from '../src/generate/sample.js';
import { Model } from '../src/model/model.js';
import type { ModelConfig } from '../src/model/config.js';

const CHROMIUM = process.env['RNNKIT_CHROMIUM'] ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LONG = 600_000;
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
let server: PreviewServer | undefined;
afterAll(async () => {
  await server?.close();
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

it(
  'a Vite build of an app importing rnnkit/web runs in Chromium: the .wasm is found beside the bundle and it samples',
  async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (as .ci/run does)`);
    if (!existsSync(join(ROOT, 'dist/web/index.js')))
      throw new Error('dist/web/index.js is missing: run npm run build');
    const app = mkdtempSync(join(tmpdir(), 'rnnkit-vite-'));
    dirs.push(app);
    mkdirSync(join(app, 'node_modules'));
    symlinkSync(ROOT, join(app, 'node_modules', 'rnnkit'), 'dir');
    writeFileSync(join(app, 'package.json'), '{ "name": "rnnkit-vite-app", "private": true, "type": "module" }\n');
    writeFileSync(join(app, 'index.html'), INDEX);
    writeFileSync(join(app, 'main.js'), MAIN);

    const outDir = join(app, 'dist');
    await build({ root: app, logLevel: 'silent', configFile: false, build: { outDir, emptyOutDir: true } });
    const assets = readdirSync(join(outDir, 'assets'));
    expect(assets.filter((name) => name.endsWith('.wasm')).length).toBeGreaterThanOrEqual(1); // emitted by Vite

    server = await preview({
      root: app,
      logLevel: 'silent',
      configFile: false,
      build: { outDir },
      preview: { port: 0, host: '127.0.0.1', strictPort: false },
    });
    const url = server.resolvedUrls!.local[0]!;

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [],
        wasmRequests: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
      page.on(
        'request',
        (request) => request.url().endsWith('.wasm') && wasmRequests.push(new URL(request.url()).pathname),
      );
      await page.goto(url, { timeout: LONG });
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
