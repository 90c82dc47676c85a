// Hostile input, continued (issue 17): what must be held in memory or read from disk has a stated limit that is
// checked before it bites, and a model is only ever sampled with its own vocabulary.
import {
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { MAX_TEXT_BYTES } from '../src/data/corpus.js';
import { MAX_PARAMETERS } from '../src/model/config.js';
import { MAX_INPUT_BYTES } from '../src/io/read-bounded.js';
import { Vocabulary } from '../src/data/vocab.js';
import { MAX_HELD_CHARACTERS, heldSamplePieces, sample, sampleMany } from '../src/generate/sample.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import { loadModel } from '../src/io/checkpoint.js';
import { type TensorEntry, encodeSafetensors } from '../src/io/safetensors.js';
import { readSafetensorsFile, writeSafetensors } from '../src/io/safetensors-file.js';
import type { Model } from '../src/model/model.js';
import { readMetrics } from '../src/report/series.js';
import { cli } from './cli-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'rnnkit-limits-'));
const textFile = join(work, 'text.txt');
writeFileSync(textFile, 'All happy families are alike; each unhappy family is unhappy in its own way. '.repeat(30));
const small = ['--backend', 'reference', '--hidden', '8', '--seq', '8', '--batch', '2'];
const runDir = join(work, 'run');
let model: Model;
let vocab: Vocabulary;

beforeAll(async () => {
  const trained = await cli('train', textFile, ...small, '--steps', '2', '--quiet', '--out', runDir);
  expect(trained.code, trained.err).toBe(0);
  ({ model, vocab } = loadModel(runDir, new ReferenceBackend()));
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe('samples held in memory', () => {
  it(`sample --count 4096 --length 100000000 is refused at once, stating the ${MAX_HELD_CHARACTERS}-character limit (it died of heap exhaustion)`, async () => {
    const result = await cli('sample', runDir, '--count', '4096', '--length', '100000000', '--backend', 'reference');
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err.trim()).toBe(
      `rnnkit: count × length = 4096 × 100000000 characters is more than the ${MAX_HELD_CHARACTERS} that samples held in memory may have; generate fewer or one at a time (one sample is streamed)`,
    );
    expect(() => sampleMany(model, vocab, { count: 2, length: MAX_HELD_CHARACTERS / 2 + 1 })).toThrow(
      /count × length = 2 × 50000001 characters is more than/,
    );
  });

  it('--count N prints the samples sampleMany gives', async () => {
    const options = { count: 3, length: 300, seed: 4, prime: 'All' };
    const expected = sampleMany(model, vocab, options);
    const result = await cli(
      'sample',
      runDir,
      '--count',
      '3',
      '--length',
      '300',
      '--seed',
      '4',
      '--prime',
      'All',
      '--backend',
      'reference',
    );
    expect(result.code).toBe(0);
    expect(result.out).toBe(
      expected.map((text, b) => `${b ? '\n' : ''}--- sample ${b + 1} of 3 ---\n${text}\n`).join(''),
    );
    expect(expected[0]).toHaveLength(3 + 300);
  });

  it('held samples are decoded in pieces of at most 65536 characters, which join to the whole', () => {
    const length = 150_000,
      count = 2;
    const ids = Uint16Array.from({ length: length * count }, (_, i) => (i * 7919) % vocab.size);
    for (let b = 0; b < count; b++) {
      const pieces = [...heldSamplePieces(vocab, { ids, length, count }, b)];
      expect(pieces.map((p) => p.length)).toEqual([65536, 65536, 150_000 - 2 * 65536]);
      expect(pieces.join('')).toBe(vocab.decode(ids.subarray(b * length, (b + 1) * length)));
    }
  });
});

describe('a model is sampled with its own vocabulary only', () => {
  it('a vocabulary of another size is refused before any logits row is read', () => {
    const smaller = new Vocabulary(vocab.chars.slice(0, 5));
    const larger = new Vocabulary([...vocab.chars, 'é', 'ü']);
    for (const wrong of [smaller, larger]) {
      expect(() => sample(model, wrong, { length: 10 })).toThrow(
        `the vocabulary has ${wrong.size} characters but the model was trained with ${vocab.size}; pass the vocabulary loaded with this model`,
      );
    }
    expect(() =>
      sample(model, { chars: vocab.chars, size: vocab.size } as unknown as Vocabulary, { length: 3 }),
    ).toThrow(TypeError);
    expect(() => sample(model, vocab, { length: 3, prime: 7 as unknown as string })).toThrow(
      new TypeError('prime must be a string, got number'),
    );
  });
});

describe('checkpoint files of any admitted size are written and read in pieces', () => {
  const tensors = (): TensorEntry[] => [
    { name: 'a', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, Number.MIN_VALUE, 1e30, -0) },
    { name: 'empty', shape: [0], data: new Float32Array(0) },
    { name: 'b', shape: [7], data: Float32Array.from({ length: 7 }, (_, i) => i / 3) },
  ];

  it('pieces of any size give the bytes of the in-memory encoder, and read back the same tensors', () => {
    const expected = encodeSafetensors(tensors(), { k: 'v' });
    for (const pieceBytes of [4, 12, 1 << 30]) {
      const path = join(work, `pieces-${pieceBytes}.safetensors`);
      writeFileAtomic(path, (fd) => writeSafetensors(fd, tensors(), { k: 'v' }, pieceBytes));
      expect(new Uint8Array(readFileSync(path))).toEqual(expected);
      const read = readSafetensorsFile(path, 1 << 20, path, pieceBytes);
      expect(read.metadata).toEqual({ k: 'v' });
      expect(read.tensors.map((t) => [t.name, t.shape, Array.from(t.data)])).toEqual(
        tensors().map((t) => [t.name, t.shape, Array.from(t.data)]),
      );
    }
    expect(() => readSafetensorsFile(join(work, 'pieces-4.safetensors'), 100)).toThrow(
      /pieces-4\.safetensors: \d+ bytes is larger than the 100-byte limit/,
    );
  });

  it('a file over 2 GiB (an Adam trainer file of ~180 M parameters) is read: it failed, as readFileSync stops at 2 GiB', () => {
    // A sparse file (the big tensor is a hole of zeros: no disk written) with real values at both ends.
    const path = join(work, 'large.safetensors');
    const bigLength = 2 ** 29 + 3;
    const header = Buffer.from(
      JSON.stringify({
        head: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
        big: { dtype: 'F32', shape: [bigLength], data_offsets: [8, 8 + 4 * bigLength] },
      }),
    );
    const fd = openSync(path, 'w');
    try {
      const length8 = Buffer.alloc(8);
      length8.writeBigUInt64LE(BigInt(header.length));
      const dataStart = 8 + header.length;
      writeSync(fd, Buffer.concat([length8, header, Buffer.from(Float32Array.of(3, 4, 1.5).buffer)]), 0, undefined, 0);
      writeSync(fd, Buffer.from(Float32Array.of(-7.25).buffer), 0, 4, dataStart + 8 + 4 * (bigLength - 1));
    } finally {
      closeSync(fd);
    }
    try {
      expect(statSync(path).size).toBeGreaterThan(2 ** 31);
      const read = readSafetensorsFile(path, 2 ** 32);
      const big = read.tensors.find((t) => t.name === 'big')!.data;
      expect(Array.from(read.tensors.find((t) => t.name === 'head')!.data)).toEqual([3, 4]);
      expect(big.length).toBe(bigLength);
      expect([big[0], big[1], big[bigLength - 2], big[bigLength - 1]]).toEqual([1.5, 0, 0, -7.25]);
    } finally {
      rmSync(path, { force: true });
    }
  }, 300_000);
});

describe('the report reads metrics.jsonl as a stream', () => {
  const row = (step: number, extra = ''): string =>
    `{"step":${step},"epoch":0,"loss":2.5,"smooth_loss":2.6,"grad_norm":1,"lr":0.002,"tokens_per_s":1000,"elapsed_s":${step}${extra}}\n`;

  it('a log over 512 MiB (longer than a JavaScript string can be) is read; only the known fields are kept', () => {
    const path = join(work, 'huge-metrics.jsonl');
    const padding = `,"note":"${'x'.repeat((1 << 20) - 200)}"`;
    const fd = openSync(path, 'w');
    try {
      for (let step = 1; step <= 520; step++) writeSync(fd, row(step, padding));
    } finally {
      closeSync(fd);
    }
    try {
      expect(statSync(path).size).toBeGreaterThan(512 * 2 ** 20);
      const rows = readMetrics(path);
      expect(rows).toHaveLength(520);
      expect(rows.at(-1)).toEqual({
        step: 520,
        epoch: 0,
        loss: 2.5,
        smooth_loss: 2.6,
        grad_norm: 1,
        lr: 0.002,
        tokens_per_s: 1000,
        elapsed_s: 520,
      });
    } finally {
      rmSync(path, { force: true });
    }
  }, 120_000);

  it('lines that cross chunk boundaries are whole; a bad line is named by file and line', () => {
    const path = join(work, 'metrics-chunks.jsonl');
    writeFileSync(path, row(1) + row(2) + row(3) + '{"step": 4, "lo\n' + row(5));
    for (const chunkBytes of [1, 7, 64, 1 << 20]) {
      expect(() => readMetrics(path, chunkBytes)).toThrow(`${path}:4: not valid JSON`);
    }
    writeFileSync(path, row(1) + row(2) + row(3).trimEnd()); // no final newline
    for (const chunkBytes of [1, 7, 1 << 20])
      expect(readMetrics(path, chunkBytes).map((r) => r.step)).toEqual([1, 2, 3]);
  });
});

describe('the README states the limits the code enforces', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  const limits = readme.slice(readme.indexOf('## Limits'), readme.indexOf('## Library'));
  const row = (what: string): string => limits.split('\n').find((line) => line.startsWith(`| ${what}`)) ?? '';
  const n = (value: number): string => value.toLocaleString('en-US');

  it.each([
    ['language-model text', MAX_TEXT_BYTES],
    ['classifier input file', MAX_INPUT_BYTES],
    ['model parameters', MAX_PARAMETERS],
    ['`sample`', MAX_HELD_CHARACTERS],
  ])('%s: %d', (what, value) => {
    expect(row(what)).toContain(n(value));
  });

  it('the checkpoint file limits are the ones a larger file is refused with', async () => {
    const dir = join(work, 'too-large');
    await cli('train', textFile, ...small, '--steps', '1', '--quiet', '--out', dir);
    for (const [file, what] of [
      ['model.safetensors', '`model.safetensors`'],
      ['trainer.safetensors', '`trainer.safetensors`'],
    ] as const) {
      const limit = Number(/\| ([\d,]+) bytes/.exec(row(what))![1]!.replace(/,/g, ''));
      truncateSync(join(dir, file), limit + 1); // sparse: nothing is written
      const result = await cli(
        file === 'model.safetensors' ? 'sample' : 'train',
        ...(file === 'model.safetensors' ? [dir] : ['--resume', dir]),
        '--backend',
        'reference',
      );
      expect(result.err).toContain(`${file}: ${limit + 1} bytes is larger than the ${limit}-byte limit`);
      truncateSync(join(dir, file), 0);
    }
  });
});
