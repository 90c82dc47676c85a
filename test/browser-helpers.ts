// Shared by the tests that run rnnkit/web in headless Chromium (Debian's chromium package, driven by
// playwright-core: no browser download): the browser, a page's errors, waiting on a page, and the oracle of
// training in a page, the CLI trainer in Node on the same (plain-SIMD) WebAssembly build.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { loadWasmBackend } from '../src/backend/wasm.js';
import { runTraining } from '../src/tasks/index.js';
import type { TrainConfig } from '../src/train/config.js';
import type { TrainEvent } from '../src/train/trainer.js';

export const CHROMIUM = process.env['RNNKIT_CHROMIUM'] ?? '/usr/bin/chromium';
/** Generous: the machine may be loaded (and no test asserts a time). */
export const LONG = 600_000;

/** Headless Chromium, or a clear error saying how to get it. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does, or set RNNKIT_CHROMIUM`,
    );
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
    timeout: 120_000,
  });
}

/** The page's uncaught errors and console errors, as they happen. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  return errors;
}

/** Waits until a JavaScript condition on the page holds. */
export const waitFor = (page: Page, condition: string) =>
  page.waitForFunction(condition, null, { timeout: LONG, polling: 250 });

/** Trains in Node with the CLI trainer (runTraining) on the plain-SIMD WebAssembly build, one thread: the
 *  model.safetensors it writes and the events it emits. */
export async function nodeWasmTraining(
  text: string,
  config: TrainConfig,
): Promise<{ model: Buffer; events: TrainEvent[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'rnnkit-node-wasm-'));
  try {
    const events: TrainEvent[] = [];
    const out = join(dir, 'run');
    await runTraining({
      text,
      config,
      backend: await loadWasmBackend({ build: 'simd' }),
      out,
      onEvent: (event) => events.push(event),
    });
    return { model: readFileSync(join(out, 'model.safetensors')), events };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
