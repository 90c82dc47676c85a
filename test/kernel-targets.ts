// The backends a kernel test compares with the float64 reference: wasm (both builds where the runtime has
// relaxed SIMD) and native at every SIMD level of this CPU × 1, 2 and 3 threads (created once per file).
import { expect, it } from 'vitest';
import { loadNativeBackend } from '../src/backend/native.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend } from '../src/backend/types.js';
import { loadWasmBackend, wasmRelaxedSimdSupported } from '../src/backend/wasm.js';
import { tryLoadNativeAddon } from './backends.js';

export const expectNoNative = process.env['RNNKIT_EXPECT_NO_NATIVE'] === '1';
export const { addon, loadError, levels } = tryLoadNativeAddon();
const THREADS = [1, 2, 3];

export interface Target {
  name: string;
  /** Native results of one level are compared bit for bit across thread counts. */
  level: string;
  backend: Backend;
}

/** Registers the test that fails when the addon cannot be loaded (unless RNNKIT_EXPECT_NO_NATIVE=1). */
export function itLoadsTheAddon(): void {
  it.skipIf(expectNoNative && !addon)('the native addon loads (its engines are under test here)', () => {
    if (!addon) throw loadError;
    expect(levels[0]).toBe('scalar');
  });
}

let targetsPromise: Promise<Target[]> | undefined;
export function kernelTargets(): Promise<Target[]> {
  targetsPromise ??= (async () => {
    const list: Target[] = [{ name: 'wasm', level: 'wasm', backend: await loadWasmBackend({ build: 'simd' }) }];
    if (wasmRelaxedSimdSupported())
      list.push({ name: 'wasm relaxed', level: 'wasm relaxed', backend: await loadWasmBackend({ build: 'relaxed' }) });
    for (const simd of levels) {
      for (const threads of THREADS)
        list.push({ name: `native ${simd}/${threads}`, level: simd, backend: loadNativeBackend({ simd, threads }) });
    }
    return list;
  })();
  return targetsPromise;
}

/** One backend of each kind (float32 reference, wasm, native with 2 threads where the addon loads) by name:
 *  for the tests that every backend rejects bad arguments with the same error. */
export function eachBackend(): [string, () => Promise<Backend>][] {
  return [
    ['reference', async () => new ReferenceBackend()],
    ['wasm', () => loadWasmBackend()],
    ...(addon || !expectNoNative
      ? [['native', async () => loadNativeBackend({ threads: 2 })] as [string, () => Promise<Backend>]]
      : []),
  ];
}
