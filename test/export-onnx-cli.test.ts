// `rnnkit export DIR --onnx FILE` on checkpoints of both tasks: the file runs in ONNX Runtime with the
// documented names, carries the vocabulary as metadata, and classifies texts as rnnkit does; bad input
// (a task without an ONNX export, an unwritable path, an existing file, a wrong flag set) is one line.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Vocabulary } from '../src/data/vocab.js';
import { ModelProto } from '../src/export/onnx/schema.js';
import { saveModel, saveModelFile } from '../src/io/checkpoint.js';
import { Model } from '../src/model/model.js';
import { LabelSet } from '../src/tasks/classify/labels.js';
import { loadClassifier, saveClassifier } from '../src/tasks/classify/model-file.js';
import { classProbabilities } from '../src/tasks/classify/predict.js';
import { CharVocabulary } from '../src/tasks/classify/vocab.js';
import { cli } from './cli-helpers.js';
import { expectClose } from './helpers.js';

const root = mkdtempSync(join(tmpdir(), 'rnnkit-export-'));

function metadataOf(file: string): Record<string, string> {
  const decoded = ModelProto.toObject(ModelProto.decode(readFileSync(file))) as {
    metadataProps: { key: string; value: string }[];
  };
  return Object.fromEntries(decoded.metadataProps.map((p) => [p.key, p.value]));
}

function languageModelDir(): string {
  const dir = join(root, 'lm'),
    vocab = new Vocabulary(['\n', ' ', 'a', 'b', 'c']);
  const model = new Model(new ReferenceBackend(), {
    cell: 'gru',
    nonlinearity: 'tanh',
    hidden: 8,
    layers: 2,
    embed: 0,
    vocabSize: vocab.size,
  });
  model.initialize(4);
  saveModel(dir, model, vocab);
  return dir;
}

function classifierDir(): string {
  const dir = join(root, 'classify'),
    vocab = CharVocabulary.fromTexts(['abc de']),
    labels = new LabelSet(['ham', 'spam']);
  const model = new Model(new ReferenceBackend(), {
    cell: 'lstm',
    nonlinearity: 'tanh',
    hidden: 5,
    layers: 1,
    embed: 3,
    vocabSize: vocab.size,
    bidirectional: true,
    outputs: labels.size,
  });
  model.initialize(6);
  saveClassifier(dir, { model, vocab, labels, pool: 'max', maxLen: 0 });
  return dir;
}

describe('rnnkit export --onnx', () => {
  it('writes a language model with ids, lengths, h0 → logits, hn and the vocabulary as metadata', async () => {
    const file = join(root, 'lm.onnx');
    const { code, out, err } = await cli('export', languageModelDir(), '--onnx', file);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain(`wrote ${file}`);
    const session = await ort.InferenceSession.create(file);
    expect(session.inputNames).toEqual(['ids', 'lengths', 'h0']);
    expect(session.outputNames).toEqual(['logits', 'hn']);
    const meta = metadataOf(file);
    expect(JSON.parse(meta['vocab']!)).toEqual(['\n', ' ', 'a', 'b', 'c']);
    expect(meta['task']).toBe('lm');
    expect(meta['cell']).toBe('gru');
    const out1 = await session.run({
      ids: new ort.Tensor('int32', Int32Array.of(2, 3, 4), [3, 1]),
      lengths: new ort.Tensor('int32', Int32Array.of(3), [1]),
      h0: new ort.Tensor('float32', new Float32Array(2 * 8), [2, 1, 8]),
    });
    expect(out1['logits']!.dims).toEqual([3, 1, 5]);
    expect(out1['hn']!.dims).toEqual([2, 1, 8]);
  });

  it("writes a classifier whose probabilities for texts equal rnnkit predict's", async () => {
    const dir = classifierDir(),
      file = join(root, 'classify.onnx');
    expect((await cli('export', dir, '--onnx', file)).code).toBe(0);
    const c = loadClassifier(dir, new ReferenceBackend());
    const texts = ['abcab', 'ed', 'zz a'];
    const expected = classProbabilities(c, texts);
    const meta = metadataOf(file);
    expect(JSON.parse(meta['labels']!)).toEqual(['ham', 'spam']);
    const vocab = CharVocabulary.fromJSON(JSON.parse(meta['vocab']!));
    expect(meta['pool']).toBe('max');
    // Encode as the README says: id = 1 + index in vocab.chars, 0 for an unknown character; time-major, padded.
    const T = Math.max(...texts.map((t) => [...t].length)),
      B = texts.length,
      ids = new Int32Array(T * B);
    texts.forEach((text, b) => [...text].forEach((ch, t) => (ids[t * B + b] = vocab.id(ch.codePointAt(0)!))));
    const session = await ort.InferenceSession.create(file);
    const result = await session.run({
      ids: new ort.Tensor('int32', ids, [T, B]),
      lengths: new ort.Tensor(
        'int32',
        Int32Array.from(texts, (t) => [...t].length),
        [B],
      ),
      h0: new ort.Tensor('float32', new Float32Array(2 * B * 5), [2, B, 5]),
      c0: new ort.Tensor('float32', new Float32Array(2 * B * 5), [2, B, 5]),
    });
    expectClose(
      result['probabilities']!.data as Float32Array,
      Float32Array.from(expected.flatMap((p) => [...p])),
      1e-5,
      1e-5,
      'probabilities',
    );
  });

  it('refuses, in one line each: a task without an ONNX export, an unwritable path, an existing file, a missing directory, a flag mix-up', async () => {
    const other = join(root, 'other');
    const model = new Model(new ReferenceBackend(), {
      cell: 'rnn',
      nonlinearity: 'tanh',
      hidden: 3,
      layers: 1,
      embed: 0,
      vocabSize: 4,
    });
    saveModelFile(other, model, { task: 'translate' });
    const lm = languageModelDir(),
      existing = join(root, 'existing.onnx');
    writeFileSync(existing, 'keep me');
    const cases: [string[], RegExp][] = [
      [
        ['export', other, '--onnx', join(root, 'x.onnx')],
        /task translate, which has no ONNX export yet \(tasks with one: lm, classify\)/,
      ],
      [['export', lm, '--onnx', '/sys/model.onnx'], /cannot write \/sys\/model\.onnx: permission denied/],
      [['export', lm, '--onnx', join(root, 'no-such-dir', 'm.onnx')], /the directory .*no-such-dir does not exist/],
      [['export', lm, '--onnx', existing], /already exists \(add --force to replace it\)/],
      [['export', lm, '--onnx', root], /is a directory/],
      [['export', lm], /export needs exactly one of --onnx FILE or --pytorch DIR/],
      [
        ['export', lm, '--onnx', join(root, 'z.onnx'), '--pytorch', join(root, 'pt')],
        /export needs exactly one of --onnx FILE or --pytorch DIR/,
      ],
      [['export', join(root, 'missing'), '--onnx', join(root, 'y.onnx')], /not a checkpoint directory/],
    ];
    for (const [args, message] of cases) {
      const { code, err } = await cli(...args);
      expect(code, args.join(' ')).not.toBe(0);
      expect(err, args.join(' ')).toMatch(message);
      expect(err.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
    expect(existsSync(join(root, 'x.onnx'))).toBe(false);
    expect((await cli('export', lm, '--onnx', existing, '--force')).code).toBe(0);
    expect(readFileSync(existing).length).toBeGreaterThan(100);
  });
});
