// The backends every end-to-end test runs on. A backend that cannot load fails the tests that need it
// (set RNNKIT_EXPECT_NO_NATIVE=1 on a machine without a compiler to leave the native one out).
import { type NativeAddon, type SimdLevel, loadNativeAddon, loadNativeBackend } from '../src/backend/native.js';
import { ReferenceBackend } from '../src/backend/reference.js';
import type { Backend, BackendName } from '../src/backend/types.js';
import { loadWasmBackend } from '../src/backend/wasm.js';

export const BACKEND_FACTORIES: Record<BackendName, () => Promise<Backend>> = {
  reference: async () => new ReferenceBackend(),
  wasm: () => loadWasmBackend(),
  native: async () => loadNativeBackend(),
};

export const TESTED_BACKENDS: BackendName[] =
  process.env['RNNKIT_EXPECT_NO_NATIVE'] === '1' ? ['reference', 'wasm'] : ['reference', 'wasm', 'native'];

/** The raw native addon and its SIMD levels, or the error that kept it from loading (a test that needs the
 *  addon throws that error, unless RNNKIT_EXPECT_NO_NATIVE=1). */
export function tryLoadNativeAddon(): { addon: NativeAddon | undefined; loadError: unknown; levels: SimdLevel[] } {
  try {
    const addon = loadNativeAddon();
    return { addon, loadError: undefined, levels: addon.simdLevels() as SimdLevel[] };
  } catch (error) {
    return { addon: undefined, loadError: error, levels: [] };
  }
}
