// Settings that do what they say: RNNKIT_BACKEND through the CLI, option checks before any output.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rnnkit-settings-'));
const text = join(dir, 'text.txt');
writeFileSync(text, 'hello world, hello rnn. '.repeat(20));

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('RNNKIT_BACKEND', () => {
  it('chooses the backend of rnnkit train when --backend is not given', async () => {
    vi.stubEnv('RNNKIT_BACKEND', 'wasm');
    const { code, out } = await cli('train', text, '--hidden', '8', '--steps', '1', '--quiet', '--out', join(dir, 'env-wasm'));
    expect(code).toBe(0);
    expect(out).toMatch(/rnnkit: wasm \(/);
  });

  it('loses to an explicit --backend', async () => {
    vi.stubEnv('RNNKIT_BACKEND', 'wasm');
    const { code, out } = await cli('train', text, '--hidden', '8', '--steps', '1', '--quiet', '--backend', 'reference', '--out', join(dir, 'env-explicit'));
    expect(code).toBe(0);
    expect(out).toMatch(/rnnkit: reference \(/);
  });

  it('chooses the backend of rnnkit info', async () => {
    vi.stubEnv('RNNKIT_BACKEND', 'reference');
    const { code, out } = await cli('info');
    expect(code).toBe(0);
    expect(out).toMatch(/^chosen: reference \(/m);
  });

  it.each([['train', text, '--steps', '1', '--out', join(dir, 'env-gpu')], ['info']])('an unknown name is a one-line usage error: %s', async (...args) => {
    vi.stubEnv('RNNKIT_BACKEND', 'gpu');
    const { code, err, out } = await cli(...args);
    expect(err).toBe('rnnkit: backend must be auto, native, wasm, reference; got "gpu" from RNNKIT_BACKEND\n');
    expect(out).toBe('');
    expect(code).toBe(2);
  });
});
