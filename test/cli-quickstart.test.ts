// The README's quick start through the real executable (bin/rnnkit.js over the built dist/), on the
// built-in Moby Dick corpus: train shows progress and leaves a checkpoint that sample and eval use.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'rnnkit.js');

function rnnkit(...args: string[]) {
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe('rnnkit executable', () => {
  it('is built (npm install runs the build)', () => {
    expect(existsSync(join(root, 'dist', 'cli', 'main.js')), 'dist/ is missing: run npm install or npm run build').toBe(true);
  });

  it('trains on the built-in corpus with visible progress, then samples and evaluates', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rnnkit-quick-')), 'run');
    const trained = rnnkit('train', '--steps', '40', '--log-every', '20', '--out', out);
    expect(trained.err).toBe('');
    expect(trained.code).toBe(0);
    expect(trained.out).toMatch(/training on the built-in moby-dick corpus \(1,213,144 UTF-16 units\)/);
    expect(trained.out).toMatch(/step 20\/40 +loss \d+\.\d+/);
    expect(trained.out).toMatch(/step 40\/40/);
    expect(trained.out).toContain(`checkpoint: ${out}`);
    const sampled = rnnkit('sample', out, '--length', '50', '--seed', '2');
    expect(sampled.code).toBe(0);
    expect([...sampled.out.trimEnd()].length).toBeGreaterThanOrEqual(40);
    const text = join(out, 'eval.txt');
    writeFileSync(text, 'Call me Ishmael. Some years ago');
    const evaluated = rnnkit('eval', out, text, '--json');
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.out)).toMatchObject({ characters: 30 });
  });

  it('info lists every backend and the choice', () => {
    const info = rnnkit('info');
    expect(info.code).toBe(0);
    expect(info.out).toMatch(/^native +(loaded|not loaded)/m);
    expect(info.out).toMatch(/^wasm +loaded/m);
    expect(info.out).toMatch(/^reference +loaded/m);
    expect(info.out).toMatch(/^chosen: /m);
  });

  it('an unknown command exits 2', () => {
    const result = rnnkit('trian');
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/unknown command 'trian'/);
  });
});
