// Hostile input, continued (issue 17): each of these was a raw JavaScript error, a hang or a misleading message.
// Now each is one line naming the problem (exit 2 for a bad option), and bad input leaves nothing behind.
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capThreads, selectBackend } from '../src/backend/index.js';
import { Vocabulary } from '../src/data/vocab.js';
import { claimDefaultRunDir } from '../src/io/rundir.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { train } from '../src/train/handle.js';
import { cli } from './cli-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'rnnkit-messages-'));
const textFile = join(work, 'text.txt');
writeFileSync(
  textFile,
  'Call me Ishmael. Some years ago, never mind how long precisely, having little money. '.repeat(30),
);
const small = ['--backend', 'reference', '--hidden', '8', '--seq', '8', '--batch', '2'];

afterEach(() => {
  vi.restoreAllMocks();
});

/** Rewrites one tensor of DIR/FILE to `length` values (cut short or repeated). */
function resizeTensor(dir: string, file: string, name: string, length: number): void {
  const decoded = decodeSafetensors(readFileSync(join(dir, file)));
  const t = decoded.tensors.find((x) => x.name === name)!;
  t.data = Float32Array.from({ length }, (_, i) => t.data[i % t.data.length]!);
  t.shape = [length];
  writeFileSync(join(dir, file), encodeSafetensors(decoded.tensors, decoded.metadata));
}

describe('tampered trainer files', () => {
  it('a too-long or too-short task.hidden.c_l0 is refused naming the tensor and the expected shape', async () => {
    const dir = join(work, 'lstm');
    expect(
      (await cli('train', textFile, ...small, '--cell', 'lstm', '--steps', '2', '--quiet', '--out', dir)).code,
    ).toBe(0);
    const original = readFileSync(join(dir, 'trainer.safetensors'));
    for (const length of [17, 15, 0]) {
      writeFileSync(join(dir, 'trainer.safetensors'), original);
      resizeTensor(dir, 'trainer.safetensors', 'task.hidden.c_l0', length);
      const result = await cli('train', '--resume', dir, '--steps', '3', '--backend', 'reference', '--quiet');
      expect(result.code).toBe(1);
      expect(result.err.trim()).toBe(
        `rnnkit: trainer.safetensors: tensor task.hidden.c_l0 has ${length} values, expected shape [2, 8] (16 values: batch × hidden)`,
      );
    }
  });

  it('trainer metadata whose config, model, position or data is null is refused naming the field (config null once took the defaults)', async () => {
    const dir = join(work, 'null-fields');
    expect((await cli('train', textFile, ...small, '--steps', '2', '--quiet', '--out', dir)).code).toBe(0);
    const original = readFileSync(join(dir, 'trainer.safetensors'));
    for (const field of ['config', 'model', 'position', 'data']) {
      const decoded = decodeSafetensors(original);
      decoded.metadata['rnnkit_trainer'] = JSON.stringify({
        ...JSON.parse(decoded.metadata['rnnkit_trainer']!),
        [field]: null,
      });
      writeFileSync(join(dir, 'trainer.safetensors'), encodeSafetensors(decoded.tensors, decoded.metadata));
      const result = await cli('train', '--resume', dir, '--steps', '3', '--backend', 'reference', '--quiet');
      expect(result.code).toBe(1);
      expect(result.err).toContain(`trainer.safetensors: field ${field} is missing or invalid`);
    }
  });
});

describe('the run directory', () => {
  it('--out under /proc is one line (exit 2); it once hung for good in mkdir', async () => {
    const result = await cli('train', textFile, ...small, '--steps', '1', '--out', '/proc/rnnkit-run/x');
    expect(result.code).toBe(2);
    expect(result.err.trim()).toBe(
      'rnnkit: --out /proc/rnnkit-run/x: cannot create the run directory (its parent cannot hold a directory)',
    );
  }, 20_000);

  it('classifier input that is refused leaves no default run directory behind', async () => {
    const cwd = mkdtempSync(join(work, 'cwd-'));
    const bad = join(cwd, 'bad.tsv');
    writeFileSync(bad, 'label\ttext\n');
    const here = process.cwd();
    process.chdir(cwd);
    try {
      const result = await cli('train', bad, '--task', 'classify', '--backend', 'reference', '--steps', '1');
      expect(result.code).not.toBe(0);
      expect(result.err.trim().split('\n')).toHaveLength(1); // the data's problem, in one line
    } finally {
      process.chdir(here);
    }
    expect(existsSync(join(cwd, 'runs'))).toBe(false);
    expect(readdirSync(cwd)).toEqual(['bad.tsv']);
  });

  it('train --steps 0 --report is refused before anything is written (it saved, then failed "no steps logged yet")', async () => {
    const dir = join(work, 'steps0');
    const result = await cli('train', textFile, ...small, '--steps', '0', '--report', '--out', dir);
    expect(result.code).toBe(2);
    expect(result.err.trim()).toBe(
      'rnnkit: --report with --steps 0: no step would be logged, so there would be nothing to plot',
    );
    expect(existsSync(dir)).toBe(false);
  });

  it('--out naming an existing file in a parent is one line (exit 2)', async () => {
    const result = await cli('train', textFile, ...small, '--steps', '1', '--out', join(textFile, 'run'));
    expect(result.code).toBe(2);
    expect(result.err.trim()).toBe(
      `rnnkit: --out ${join(textFile, 'run')}: cannot create the run directory (a file of that name is in the way)`,
    );
    const runs = join(work, 'runs-is-a-file');
    writeFileSync(runs, '');
    expect(() => claimDefaultRunDir(runs)).toThrow(
      `${runs}: cannot create the directory of default run directories (a file of that name is in the way)`,
    );
  });
});

describe('library type mistakes are TypeErrors naming the option', () => {
  it.each([
    [{ text: 5, out: 'x' }, 'train(): text must be a string, got number'],
    [{ text: 'abc', out: 7 }, 'train(): out must be a string, got number'],
    [{ text: 'abc', out: 'x', config: 'lstm' }, 'train(): config must be an object, got string'],
    [{ text: 'abc', out: 'x', steps: '10' }, 'train(): steps must be a number, got string'],
    [{ text: 'abc', out: 'x', signal: {} }, 'train(): signal must be an AbortSignal'],
    [{ text: 'abc', out: 'x', force: 'yes' }, 'train(): force must be a boolean, got string'],
  ])('train(%j)', async (options, message) => {
    const handle = train(options as never);
    await expect(handle.result).rejects.toThrow(new TypeError(message));
  });

  it('Vocabulary: chars not an array, a non-string entry, text not a string', () => {
    expect(() => new Vocabulary('abc' as never)).toThrow(
      new TypeError('Vocabulary: chars must be an array of one-character strings, got string'),
    );
    expect(() => new Vocabulary(['a', 5] as never)).toThrow(
      new TypeError('Vocabulary: chars[1] must be a string, got number'),
    );
    expect(() => Vocabulary.fromText(['a', 'b'] as never)).toThrow(
      new TypeError('Vocabulary.fromText: text must be a string, got object'),
    );
    expect(() => Vocabulary.fromText('ab').encode(12 as never, 'the prime text')).toThrow(
      new TypeError('the prime text must be a string, got number'),
    );
  });
});

describe('threads are capped at the cores everywhere', () => {
  const cores = availableParallelism();

  it(`selectBackend({ threads: 1024 }) uses ${cores} and says so`, async () => {
    const { backend, threadsNote } = await selectBackend({ backend: 'native', threads: 1024 });
    expect(backend.info().threads).toBe(cores);
    expect(threadsNote).toBe(`threads 1024 is more than the ${cores} cores of this machine; using ${cores}`);
    expect(capThreads(cores)).toEqual({ threads: cores });
    expect(() => capThreads(0)).toThrow('threads must be an integer from 1 to 1024, got 0');
  });

  it('rnnkit bench --threads 1024 runs on the cores and notes it', async () => {
    const result = await cli(
      'bench',
      '--quick',
      '--backend',
      'native',
      '--config',
      'C1',
      '--threads',
      '1024',
      '--json',
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as { rows: { threads: number }[]; notes: string[] };
    expect(report.rows.every((r) => r.threads === cores)).toBe(true);
    expect(report.notes).toContain(`threads 1024 is more than the ${cores} cores of this machine; using ${cores}.`);
  }, 120_000);
});
