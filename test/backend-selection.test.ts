// Backend selection: the fastest backend that loads, a clear reason for each one passed over, and an error
// (not a silent fallback) when a backend that cannot load is asked for.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend/index.js';
import { RnnkitError } from '../src/errors.js';
import { TESTED_BACKENDS } from './backends.js';

const MISSING_ADDON = '/nonexistent/rnnkit.node';
const savedEnv = process.env['RNNKIT_BACKEND'];

afterEach(() => {
  if (savedEnv === undefined) delete process.env['RNNKIT_BACKEND'];
  else process.env['RNNKIT_BACKEND'] = savedEnv;
});

describe('selectBackend', () => {
  it('chooses native when it loads', async () => {
    delete process.env['RNNKIT_BACKEND'];
    const { backend, skipped } = await selectBackend();
    expect(backend.name).toBe(TESTED_BACKENDS.includes('native') ? 'native' : 'wasm');
    if (TESTED_BACKENDS.includes('native')) expect(skipped).toEqual([]);
  });

  it('falls back to wasm when the addon cannot load, saying why', async () => {
    delete process.env['RNNKIT_BACKEND'];
    const { backend, skipped } = await selectBackend({ nativeAddonPath: MISSING_ADDON });
    expect(backend.name).toBe('wasm');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.name).toBe('native');
    expect(skipped[0]!.reason).toMatch(/not built.*npm run build:native/);
  });

  it('refuses a forced backend that cannot load, naming the reason', async () => {
    const attempt = selectBackend({ backend: 'native', nativeAddonPath: MISSING_ADDON });
    await expect(attempt).rejects.toThrow(RnnkitError);
    await expect(attempt).rejects.toThrow(/the native backend cannot be used: .*not built/);
  });

  it('honours RNNKIT_BACKEND, and refuses an unknown name from it', async () => {
    process.env['RNNKIT_BACKEND'] = 'reference';
    expect((await selectBackend()).backend.name).toBe('reference');
    process.env['RNNKIT_BACKEND'] = 'cuda';
    await expect(selectBackend()).rejects.toThrow(
      /backend must be auto, native, wasm, reference; got "cuda" from RNNKIT_BACKEND/,
    );
  });

  it('the option wins over the environment', async () => {
    process.env['RNNKIT_BACKEND'] = 'reference';
    expect((await selectBackend({ backend: 'wasm' })).backend.name).toBe('wasm');
  });

  it('refuses a bad thread count', async () => {
    await expect(selectBackend({ threads: 0 })).rejects.toThrow(/threads must be an integer from 1 to 1024, got 0/);
  });
});

describe('the install-time native build', () => {
  it('without a working compiler still exits 0 and says the WebAssembly backend will be used', () => {
    // A scratch copy, so that the failed build cannot touch this checkout's addon.
    const root = resolve(import.meta.dirname, '..');
    const copy = mkdtempSync(join(tmpdir(), 'rnnkit-build-'));
    for (const entry of ['binding.gyp', 'native', 'scripts', 'package.json'])
      cpSync(join(root, entry), join(copy, entry), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
    const result = spawnSync(process.execPath, [join(copy, 'scripts', 'build-native.mjs')], {
      cwd: copy,
      encoding: 'utf8',
      env: { ...process.env, CXX: '/nonexistent/g++', CC: '/nonexistent/gcc' },
      timeout: 120_000,
    });
    expect(result.status).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines.at(-1)).toMatch(/^rnnkit: native addon not built \(.+\); the WebAssembly backend will be used\.$/);
  });
});
