// Hostile input (issue 17): each case here failed once. Runs are never lost or mixed, non-finite numbers
// never reach a checkpoint, sizes and thread counts stay within limits. The concurrency cases run two real
// processes of bin/rnnkit.js.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { MAX_TEXT_BYTES, readText } from '../src/data/corpus.js';
import { Vocabulary } from '../src/data/vocab.js';
import { loadModel } from '../src/io/checkpoint.js';
import { claimDefaultRunDir } from '../src/io/rundir.js';
import { decodeSafetensors, encodeSafetensors } from '../src/io/safetensors.js';
import { runTraining } from '../src/tasks/index.js';
import { createLanguageModelRun } from '../src/tasks/lm.js';
import {
  DEFAULT_TRAIN_CONFIG,
  MAX_CONSECUTIVE_SKIPS,
  Run,
  type TrainConfig,
  type TrainEvent,
  execute,
} from '../src/train/trainer.js';
import { loadTrainerState } from '../src/train/state.js';
import { cli } from './cli-helpers.js';

const root = resolve(import.meta.dirname, '..');
const bin = join(root, 'bin', 'rnnkit.js');
const work = mkdtempSync(join(tmpdir(), 'rnnkit-hostile-'));
const textFile = join(work, 'text.txt');
writeFileSync(textFile, 'Happy families are all alike; every unhappy family is unhappy in its own way. '.repeat(40));
const small = ['--backend', 'reference', '--hidden', '8', '--seq', '8', '--batch', '2'];

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

/** Runs bin/rnnkit.js; resolves with its exit code and output. */
function rnnkit(args: string[], cwd = root): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd });
    let out = '',
      err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('exit', (code) => done({ code, out, err }));
  });
}

/** Starts a run and resolves once it has printed a step, with the child. */
function startRunning(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root });
  return new Promise((resolvePromise, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (/^step +\d+\//m.test(seen)) resolvePromise(child);
    });
    child.on('exit', (code) =>
      reject(new Error(`the run ended (code ${code}) before its first step: ${seen.slice(-300)}`)),
    );
  });
}

const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((done) => child.on('exit', (code) => done(code)));

describe('a run directory holds one run', () => {
  it('train --out DIR into a run is refused (exit 2, naming --resume DIR and --force); the run is untouched', async () => {
    const dir = join(work, 'taken');
    expect((await cli('train', textFile, ...small, '--steps', '4', '--eval-every', '2', '--out', dir)).code).toBe(0);
    const model = readFileSync(join(dir, 'model.safetensors'));
    const again = await cli('train', textFile, ...small, '--cell', 'lstm', '--steps', '2', '--out', dir);
    expect(again.code).toBe(2);
    expect(again.err).toContain(`--resume ${dir}`);
    expect(again.err).toContain('--force');
    expect(readFileSync(join(dir, 'model.safetensors')).equals(model)).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).cell).toBe('rnn');
  });

  it('--force replaces every file of the old run: model, trainer, metrics, run.json, best/, report.*', async () => {
    const dir = join(work, 'forced');
    expect(
      (await cli('train', textFile, ...small, '--steps', '4', '--eval-every', '2', '--val-frac', '0.1', '--out', dir))
        .code,
    ).toBe(0);
    expect(existsSync(join(dir, 'best', 'model.safetensors'))).toBe(true);
    writeFileSync(join(dir, 'report.html'), 'old');
    writeFileSync(join(dir, 'report.svg'), 'old');
    const forced = await cli(
      'train',
      textFile,
      ...small,
      '--cell',
      'gru',
      '--steps',
      '2',
      '--val-frac',
      '0',
      '--log-every',
      '1',
      '--out',
      dir,
      '--force',
    );
    expect(forced.err).toBe('');
    expect(forced.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['metrics.jsonl', 'model.safetensors', 'run.json', 'trainer.safetensors']);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).cell).toBe('gru');
    expect(
      readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).step),
    ).toEqual([1, 2]);
  });

  it("a directory holding a user's files is refused even with --force, and nothing in it is deleted", async () => {
    const dir = join(work, 'mine');
    mkdirSync(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    writeFileSync(join(dir, 'model.safetensors'), 'not a model');
    for (const extra of [[], ['--force']]) {
      const result = await cli('train', textFile, ...small, '--steps', '1', '--out', dir, ...extra);
      expect(result.code).toBe(2);
      expect(result.err).toMatch(/holds files rnnkit did not write \(notes\.txt\)/);
    }
    expect(readdirSync(dir).sort()).toEqual(['model.safetensors', 'notes.txt']);
    const fileNamedBest = join(work, 'best-file');
    mkdirSync(fileNamedBest);
    writeFileSync(join(fileNamedBest, 'best'), 'mine');
    const result = await cli('train', textFile, ...small, '--steps', '1', '--out', fileNamedBest, '--force');
    expect(result.err).toMatch(/holds files rnnkit did not write \(best\)/);
    expect(readFileSync(join(fileNamedBest, 'best'), 'utf8')).toBe('mine');
  });

  it("cleaning temporary files removes rnnkit's own names only, never a user's .notes.tmp", async () => {
    const dir = join(work, 'temporaries');
    expect((await cli('train', textFile, ...small, '--steps', '2', '--out', dir)).code).toBe(0);
    writeFileSync(join(dir, '.notes.tmp'), 'mine');
    writeFileSync(join(dir, '.model.safetensors.999999.tmp'), 'left by a crash');
    const resumed = await cli('train', '--resume', dir, '--steps', '3', '--backend', 'reference');
    expect(resumed.code).toBe(0);
    expect(readFileSync(join(dir, '.notes.tmp'), 'utf8')).toBe('mine');
    expect(existsSync(join(dir, '.model.safetensors.999999.tmp'))).toBe(false);
  });

  it('--out naming a file is one clear line (exit 2)', async () => {
    const result = await cli('train', textFile, ...small, '--steps', '1', '--out', textFile);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/cannot create the run directory \(a file of that name is in the way\)/);
    const empty = await cli('train', textFile, ...small, '--steps', '1', '--out', '');
    expect(empty.code).toBe(2);
    expect(empty.err).toMatch(/--out: the run directory is an empty string/);
  });
});

describe('a run holds its directory for its life (two real processes)', () => {
  it('a second run into a running directory exits 1 naming the pid; after a SIGKILL the lock is taken over', async () => {
    const dir = join(work, 'locked');
    const first = await startRunning([
      'train',
      textFile,
      ...small,
      '--steps',
      '1000000',
      '--save-every',
      '5',
      '--log-every',
      '5',
      '--quiet',
      '--out',
      dir,
    ]);
    try {
      const resumed = await rnnkit(['train', '--resume', dir, '--backend', 'reference']);
      expect(resumed.code).toBe(1);
      expect(resumed.err).toContain(`in use by another run (pid ${first.pid})`);
      const forced = await rnnkit(['train', textFile, ...small, '--steps', '2', '--out', dir, '--force']);
      expect(forced.code).toBe(1);
      expect(forced.err).toContain(`pid ${first.pid}`);
      expect(first.exitCode).toBe(null); // the refused runs touched none of its files (a deleted temporary killed it once)
    } finally {
      first.kill('SIGKILL');
    }
    await exited(first);
    expect(existsSync(join(dir, '.rnnkit.lock'))).toBe(true); // a SIGKILL cannot remove it ...
    const step = loadTrainerState(dir).position.step;
    const resumed = await rnnkit(['train', '--resume', dir, '--steps', String(step + 2), '--backend', 'reference']);
    expect(resumed.err).toBe(''); // ... and it does not stand in the way
    expect(resumed.code).toBe(0);
    expect(loadTrainerState(dir).position.step).toBe(step + 2);
    expect(existsSync(join(dir, '.rnnkit.lock'))).toBe(false);
  });

  it('two runs started together into one directory: one trains, the other is refused', async () => {
    const dir = join(work, 'together');
    const args = ['train', textFile, ...small, '--steps', '3000', '--log-every', '10', '--quiet', '--out', dir];
    const results = await Promise.all([rnnkit(args), rnnkit(args)]);
    // The later one finds the lock (exit 1) or, if the first has already finished, its run (exit 2).
    const refused = results.find((r) => r.code !== 0)!;
    expect(results.filter((r) => r.code === 0)).toHaveLength(1);
    expect(refused.err).toMatch(/in use by another run \(pid \d+\)|already holds a run/);
    const steps = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).step as number);
    expect(steps).toEqual([...steps].sort((a, b) => a - b)); // one run's log, not two interleaved
    expect(new Set(steps).size).toBe(steps.length);
  });

  it('default directories: two runs started together get two directories, and runs/latest names the newest', async () => {
    const cwd = mkdtempSync(join(work, 'cwd-'));
    const results = await Promise.all(
      [1, 2].map(() => rnnkit(['train', textFile, ...small, '--steps', '2', '--quiet'], cwd)),
    );
    for (const r of results) expect(r.code).toBe(0);
    const dirs = readdirSync(join(cwd, 'runs')).filter((name) => name !== 'latest');
    expect(dirs).toHaveLength(2);
    for (const name of dirs) expect(readdirSync(join(cwd, 'runs', name))).toContain('model.safetensors');
    expect(dirs).toContain(readlinkSync(join(cwd, 'runs', 'latest')));
    const claimed = [1, 2, 3].map(() => claimDefaultRunDir(join(cwd, 'more')));
    expect(new Set(claimed).size).toBe(3);
    expect(readlinkSync(join(cwd, 'more', 'latest'))).toBe(claimed[2]!.split('/').at(-1));
  });
});

describe('non-finite numbers never reach a checkpoint', () => {
  const TEXT = 'It was the best of times, it was the worst of times, it was the age of wisdom. '.repeat(30);
  const settings = (overrides: Partial<TrainConfig>): TrainConfig => ({
    ...DEFAULT_TRAIN_CONFIG,
    hidden: 12,
    seq: 8,
    batch: 3,
    logEvery: 1,
    ...overrides,
  });
  /** A run whose parameters turn NaN once step `at` has been logged (as an overflowing update would). */
  async function poisoned(out: string, config: TrainConfig, at: number, interrupt = false): Promise<unknown> {
    mkdirSync(out, { recursive: true });
    const { run: task } = createLanguageModelRun({ text: TEXT, config, backend: new ReferenceBackend() });
    const run = new Run(task, config, out);
    const abort = new AbortController();
    const onEvent = (e: TrainEvent): void => {
      if (e.type !== 'step' || e.metrics.step !== at) return;
      run.model.params.all.data[5] = Number.NaN;
      if (interrupt) abort.abort();
    };
    return execute(run, { onEvent, signal: abort.signal }, false).catch((error: unknown) => error);
  }

  it('a periodic save after parameters turned NaN is refused; the kept checkpoint is the last finite one', async () => {
    const out = join(work, 'nan-periodic');
    const error = await poisoned(out, settings({ steps: 10, saveEvery: 2 }), 3);
    expect(String(error)).toMatch(
      /the model became non-finite by step 4 \(tensor rnn\.weight_ih_l0 holds NaN \(at index 5\)\); training stopped and the last checkpoint in .* \(step 2\) was kept/,
    );
    expect(loadTrainerState(out).position.step).toBe(2);
    expect(() => loadModel(out, new ReferenceBackend())).not.toThrow();
  });

  it('the final and the interrupted save, and best/, are refused too', async () => {
    const final = join(work, 'nan-final');
    expect(String(await poisoned(final, settings({ steps: 3, saveEvery: 0 }), 3))).toMatch(
      /non-finite by step 3 .* \(step 0\) was kept/,
    );
    expect(loadTrainerState(final).position.step).toBe(0);
    const interrupted = join(work, 'nan-interrupted');
    expect(String(await poisoned(interrupted, settings({ steps: 10, saveEvery: 0 }), 2, true))).toMatch(
      /non-finite by step 2 .* \(step 0\) was kept/,
    );
    expect(loadTrainerState(interrupted).position.step).toBe(0);
    // The first validation (step 2) of NaN parameters is a NaN loss: it must not become best/.
    const best = join(work, 'nan-best');
    const error = await poisoned(
      best,
      settings({ steps: 6, saveEvery: 0, valFrac: 0.2, evalEvery: 2, skipNonfinite: true }),
      1,
    );
    expect(String(error)).toMatch(/non-finite by step 2/);
    expect(existsSync(join(best, 'best'))).toBe(false);
  });

  it(`--skip-nonfinite stops after ${MAX_CONSECUTIVE_SKIPS} consecutive skipped steps (exit 1), keeping the finite checkpoint`, async () => {
    const out = join(work, 'skip-forever');
    const exploding = settings({
      nonlinearity: 'relu',
      hidden: 16,
      optimizer: 'sgd',
      lr: 1e6,
      clipValue: 0,
      seq: 10,
      batch: 1,
      steps: 1000,
      saveEvery: 50,
      skipNonfinite: true,
    });
    const error = await runTraining({ text: TEXT, backend: new ReferenceBackend(), out, config: exploding }).catch(
      (e: unknown) => e,
    );
    expect(String(error)).toMatch(
      /100 consecutive steps \(to step 101\) had a non-finite loss or gradient, 100 skipped in all; training stopped and the last checkpoint in .* \(step 100\) was kept/,
    );
    const state = loadTrainerState(out);
    expect(state.position.skippedSteps).toBe(99);
    expect(state.params.every(Number.isFinite)).toBe(true);
    const cli1 = await cli(
      'train',
      textFile,
      '--backend',
      'reference',
      '--nonlinearity',
      'relu',
      '--optimizer',
      'sgd',
      '--lr',
      '1000000',
      '--clip-value',
      '0',
      '--steps',
      '500',
      '--skip-nonfinite',
      '--quiet',
      '--out',
      join(work, 'skip-cli'),
    );
    expect(cli1.code).toBe(1);
    expect(cli1.err).toMatch(/100 consecutive steps/);
  });

  it('a checkpoint holding NaN or Inf is refused on load, naming the tensor (model and trainer files)', async () => {
    const dir = join(work, 'tampered');
    expect((await cli('train', textFile, ...small, '--steps', '2', '--optimizer', 'adam', '--out', dir)).code).toBe(0);
    const tamper = (file: string, tensor: string, value: number): void => {
      const decoded = decodeSafetensors(readFileSync(join(dir, file)));
      for (const t of decoded.tensors) if (t.name === tensor) t.data[1] = value;
      writeFileSync(join(dir, file), encodeSafetensors(decoded.tensors, decoded.metadata));
    };
    tamper('model.safetensors', 'rnn.weight_hh_l0', Number.POSITIVE_INFINITY);
    const sampled = await cli('sample', dir, '--backend', 'reference', '--length', '5');
    expect(sampled.code).toBe(1);
    expect(sampled.err).toMatch(/model\.safetensors: tensor rnn\.weight_hh_l0 holds Infinity \(at index 1\)/);
    tamper('trainer.safetensors', 'optimizer.exp_avg_sq', Number.NaN);
    const resumed = await cli('train', '--resume', dir, '--steps', '3', '--backend', 'reference');
    expect(resumed.code).toBe(1);
    expect(resumed.err).toMatch(/trainer\.safetensors: tensor optimizer\.exp_avg_sq holds NaN \(at index 1\)/);
  });
});

describe('threads', () => {
  it(`--threads above the core count is capped at ${availableParallelism()} with one line saying so`, async () => {
    const result = await cli(
      'train',
      textFile,
      '--backend',
      'native',
      '--hidden',
      '8',
      '--steps',
      '1',
      '--json',
      '--threads',
      '1024',
      '--out',
      join(work, 'threads'),
    );
    expect(result.code).toBe(0);
    expect(result.out).toContain(
      `--threads 1024 is more than the ${availableParallelism()} cores of this machine; using ${availableParallelism()}`,
    );
    const start = result.out
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'start');
    expect(start.backend.threads).toBe(availableParallelism());
  });

  it('RNNKIT_THREADS=abc is one line naming the variable (exit 2)', async () => {
    process.env['RNNKIT_THREADS'] = 'abc';
    try {
      for (const args of [
        ['info'],
        ['train', textFile, ...small, '--steps', '1', '--out', join(work, 'threads-abc')],
      ]) {
        const result = await cli(...args);
        expect(result.code).toBe(2);
        expect(result.err.trim()).toBe('rnnkit: RNNKIT_THREADS must be an integer from 1 to 1024, got "abc"');
      }
    } finally {
      delete process.env['RNNKIT_THREADS'];
    }
  });
});

describe("the language model's text: a hard cap whatever the file kind, and distinct messages", () => {
  it('/dev/zero and a FIFO are read up to the cap and refused past it; a FIFO within it is read', async () => {
    expect(() => readText('/dev/zero', 1 << 20)).toThrow(/\/dev\/zero: more than the 1048576-byte limit/);
    const fifo = join(work, 'fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const writer = spawn(process.execPath, [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(fifo)}, 'abcdefgh'.repeat(1 << 18))`,
    ]);
    expect(() => readText(fifo, 1 << 20)).toThrow(/fifo: more than the 1048576-byte limit/);
    writer.kill();
    await exited(writer);
    const small = spawn(process.execPath, [
      '-e',
      `require('fs').writeFileSync(${JSON.stringify(fifo)}, 'hello, fifo')`,
    ]);
    expect(readText(fifo)).toBe('hello, fifo');
    await exited(small);
  });

  it('not UTF-8, unreadable and too large are three different messages', async () => {
    const latin1 = join(work, 'latin1.txt');
    writeFileSync(latin1, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0x63, 0x61, 0x66, 0xe9]));
    const sparse = join(work, 'sparse.txt');
    writeFileSync(sparse, '');
    truncateSync(sparse, MAX_TEXT_BYTES + 1); // a sparse file: no disk used, never read
    for (const [path, message] of [
      [latin1, /latin1\.txt: is not valid UTF-8 text/],
      ['/proc/self/mem', /\/proc\/self\/mem: cannot read \(EIO\)/],
      [join(textFile, 'inside'), /cannot open \(ENOTDIR\)/],
      [sparse, new RegExp(`sparse\\.txt: ${MAX_TEXT_BYTES + 1} bytes is more than the ${MAX_TEXT_BYTES}-byte limit`)],
    ] as const) {
      const result = await cli('train', path, ...small, '--steps', '1', '--out', join(work, 'never'));
      expect(result.err).toMatch(message);
      expect(result.code).toBe(1);
    }
  });

  it('encoding into a typed array keeps code points outside the BMP one id each', () => {
    const vocab = Vocabulary.fromText('ab😀');
    expect([...vocab.encode('b😀a')]).toEqual([1, 2, 0]);
  });
});

describe('the metrics log never stops a resume', () => {
  it('lines that are not metrics rows are dropped with one line naming the file and the first bad line; the rest continues exactly', async () => {
    const dir = join(work, 'metrics-damaged');
    expect(
      (
        await cli(
          'train',
          textFile,
          ...small,
          '--steps',
          '6',
          '--log-every',
          '1',
          '--save-every',
          '3',
          '--quiet',
          '--out',
          dir,
        )
      ).code,
    ).toBe(0);
    const path = join(dir, 'metrics.jsonl');
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    // The checkpoint is at step 6. A crash left a half-written line, something wrote a stray one, and a row
    // past the checkpoint (step 7) must give way to the one the resumed run writes.
    const trainer = decodeSafetensors(readFileSync(join(dir, 'trainer.safetensors')));
    expect(JSON.parse(trainer.metadata['rnnkit_trainer']!).position.step).toBe(6);
    writeFileSync(
      path,
      [lines[0], '{"step": 2, "lo', 'not json at all', ...lines.slice(1), '{"step":7,"loss":123}'].join('\n') + '\n',
    );
    const resumed = await cli('train', '--resume', dir, '--steps', '8', '--quiet');
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toContain(`rnnkit: ${path}: dropped 2 lines that are not a metrics row (the first at line 2)`);
    const rows = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number; loss: number });
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(rows.map((r) => r.loss)).not.toContain(123);
  });
});
