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
    expect(existsSync(join(root, 'dist', 'cli', 'main.js')), 'dist/ is missing: run npm install or npm run build').toBe(
      true,
    );
  });

  it('trains on the built-in corpus with visible progress, then samples and evaluates', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rnnkit-quick-')), 'run');
    const trained = rnnkit('train', '--steps', '40', '--log-every', '20', '--out', out);
    expect(trained.err).toBe('');
    expect(trained.code).toBe(0);
    expect(trained.out).toMatch(/training on the built-in moby-dick corpus; writing /);
    expect(trained.out).toMatch(
      /\| 28,089 parameters \| 25 tokens\/step \| 1,213,144 training characters \| vocabulary 89/,
    );
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

  it('--json prints one JSON object per event; --quiet with --json is refused', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rnnkit-json-')), 'run');
    const trained = rnnkit(
      'train',
      '--steps',
      '20',
      '--log-every',
      '10',
      '--sample-every',
      '10',
      '--sample-length',
      '20',
      '--json',
      '--out',
      out,
    );
    expect(trained.code).toBe(0);
    const events = trained.out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(events.filter((e) => e.type !== 'message').map((e) => e.type)).toEqual([
      'start',
      'step',
      'sample',
      'step',
      'sample',
      'checkpoint',
      'done',
    ]);
    const refused = rnnkit('train', '--quiet', '--json');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--quiet and --json exclude each other/);
  });

  it('sample --count prints that many samples; --argmax with a temperature is refused', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rnnkit-count-')), 'run');
    expect(rnnkit('train', '--steps', '5', '--out', out).code).toBe(0);
    const many = rnnkit('sample', out, '--count', '3', '--length', '30', '--top-k', '5', '--top-p', '0.9');
    expect(many.code).toBe(0);
    expect(many.out.match(/^--- sample \d of 3 ---$/gm)).toHaveLength(3);
    const refused = rnnkit('sample', out, '--argmax', '--temperature', '0.7');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--argmax conflicts with --temperature/);
  });

  it('train --report writes the report at the end', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'rnnkit-report-')), 'run');
    const trained = rnnkit('train', '--steps', '30', '--log-every', '10', '--report', '--out', out);
    expect(trained.code).toBe(0);
    expect(trained.out).toContain(`report: ${join(out, 'report.html')} and ${join(out, 'report.svg')}`);
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(existsSync(join(out, 'report.svg'))).toBe(true);
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
