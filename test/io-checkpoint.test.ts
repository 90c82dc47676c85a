// Checkpoints: a round trip keeps config, vocabulary and weights; a file that disagrees with itself is
// refused with a message naming the field or tensor.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Vocabulary } from '../src/data/vocab.js';
import { loadModel, saveModel } from '../src/io/checkpoint.js';
import { type TensorEntry, encodeSafetensors } from '../src/io/safetensors.js';
import { Model } from '../src/model/model.js';
import { LabelSet } from '../src/tasks/classify/labels.js';
import { loadClassifier, saveClassifier } from '../src/tasks/classify/model-file.js';
import { CharVocabulary } from '../src/tasks/classify/vocab.js';

const backend = new ReferenceBackend();
const vocab = Vocabulary.fromText('abcde');
const base = { cell: 'lstm', nonlinearity: 'tanh', hidden: 4, layers: 2, embed: 3, vocabSize: vocab.size } as const;

function saved(): { dir: string; model: Model } {
  const dir = mkdtempSync(join(tmpdir(), 'rnnkit-ckpt-'));
  const model = new Model(backend, base);
  model.initialize(3);
  saveModel(dir, model, vocab);
  return { dir, model };
}

/** A checkpoint directory whose model.safetensors holds `tensors` and `meta` as the rnnkit metadata. */
function forged(tensors: TensorEntry[], meta: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'rnnkit-forged-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(tensors, { rnnkit: JSON.stringify(meta) }));
  return dir;
}

const goodTensors = (): TensorEntry[] => {
  const { model } = saved();
  return model.params.tensors.map((t) => ({ name: t.name, shape: t.shape, data: Float32Array.from(t.view.data) }));
};
const goodMeta = { format: 1, cell: 'lstm', nonlinearity: 'tanh', hidden: 4, layers: 2, embed: 3, vocab: vocab.chars };

describe('checkpoints', () => {
  it('round-trip the config, the vocabulary and every weight', () => {
    const { dir, model } = saved();
    const loaded = loadModel(dir, backend);
    expect(loaded.model.config).toEqual(model.config);
    expect(loaded.vocab.chars).toEqual(vocab.chars);
    expect(Array.from(loaded.model.params.all.data)).toEqual(Array.from(model.params.all.data));
  });

  it('round-trip a bidirectional classifier with its own head size; loadModel refuses it, naming its task', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-ckpt-'));
    const chars = CharVocabulary.fromTexts(['abcde']);
    const labels = new LabelSet(['ham', 'spam', 'eggs'].sort());
    const model = new Model(backend, { ...base, vocabSize: chars.size, bidirectional: true, outputs: labels.size });
    model.initialize(4);
    saveClassifier(dir, { model, vocab: chars, labels, pool: 'mean', maxLen: 7 });
    const loaded = loadClassifier(dir, backend);
    expect(loaded.model.config).toEqual({ ...base, vocabSize: chars.size, bidirectional: true, outputs: 3 });
    expect([loaded.pool, loaded.maxLen, loaded.labels.labels, loaded.vocab.chars]).toEqual([
      'mean',
      7,
      labels.labels,
      chars.chars,
    ]);
    expect(loaded.model.params.tensors.map((t) => t.name)).toContain('rnn.weight_hh_l1_reverse');
    expect(Array.from(loaded.model.params.all.data)).toEqual(Array.from(model.params.all.data));
    expect(() => loadModel(dir, backend)).toThrow(
      `${dir} holds a model of task classify (trained with --task classify); this command needs a model of task lm`,
    );
    expect(() => loadClassifier(saved().dir, backend)).toThrow(
      /holds a model of task lm \(trained with --task lm\); this command needs a model of task classify/,
    );
    // A file written before tasks existed has no task: a language model, unidirectional, head of vocabulary size.
    const old = loadModel(forged(goodTensors(), goodMeta), backend).model.config;
    expect([old.bidirectional, old.outputs]).toEqual([undefined, undefined]);
  });

  it.each([
    [
      'bidirectional that is not a boolean',
      goodTensors,
      { ...goodMeta, bidirectional: 'yes' },
      /bidirectional must be true or false, got yes/,
    ],
    [
      'a bidirectional language model',
      goodTensors,
      { ...goodMeta, bidirectional: true },
      /a language model cannot be bidirectional/,
    ],
    ['a task it does not know', goodTensors, { ...goodMeta, task: 'translate' }, /holds a model of task translate/],
    [
      'an unknown cell',
      goodTensors,
      { ...goodMeta, cell: 'transformer' },
      /cell must be rnn, lstm or gru, got transformer/,
    ],
    ['a hidden size of 0', goodTensors, { ...goodMeta, hidden: 0 }, /hidden must be an integer from 1/],
    [
      'a shape that disagrees with the config',
      goodTensors,
      { ...goodMeta, hidden: 5 },
      /tensor rnn\.weight_ih_l0 has shape \[16,3\] but the config needs \[20,3\]/,
    ],
    [
      'a missing tensor',
      () => goodTensors().filter((t) => t.name !== 'head.bias'),
      goodMeta,
      /tensor head\.bias is missing/,
    ],
    [
      'an extra tensor',
      () => [...goodTensors(), { name: 'extra', shape: [1], data: new Float32Array(1) }],
      goodMeta,
      /unexpected tensor extra/,
    ],
    [
      'a duplicated vocabulary entry',
      goodTensors,
      { ...goodMeta, vocab: ['a', 'b', 'c', 'd', 'd'] },
      /vocabulary entry 4 \("d"\) appears twice/,
    ],
    [
      'a vocabulary entry of two characters',
      goodTensors,
      { ...goodMeta, vocab: ['a', 'b', 'c', 'd', 'ef'] },
      /vocabulary entry 4 \("ef"\) is not exactly one code point/,
    ],
    [
      'a vocabulary that is not an array of strings',
      goodTensors,
      { ...goodMeta, vocab: 'abcde' },
      /vocab must be an array of strings/,
    ],
    ['an unknown format version', goodTensors, { ...goodMeta, format: 99 }, /format 99 is not supported/],
  ])('refuses %s', (_what, tensors, meta, message) => {
    expect(() => loadModel(forged(tensors(), meta), backend)).toThrow(message);
  });

  it('refuses metadata that is not JSON, and a file without rnnkit metadata', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rnnkit-forged-'));
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(goodTensors(), { rnnkit: '{nope' }));
    expect(() => loadModel(dir, backend)).toThrow(/the rnnkit metadata is not valid JSON/);
    writeFileSync(join(dir, 'model.safetensors'), encodeSafetensors(goodTensors(), {}));
    expect(() => loadModel(dir, backend)).toThrow(/no rnnkit metadata/);
  });
});
