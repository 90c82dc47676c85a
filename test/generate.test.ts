// Sampling: temperature, argmax, top-k, nucleus (top-p), batched independent samples, streaming, and
// refusal of option combinations that make no sense.
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Vocabulary } from '../src/data/vocab.js';
import { TokenSampler, sample, sampleMany, sampleStream } from '../src/generate/sample.js';
import { Model } from '../src/model/model.js';
import { Random } from '../src/util/random.js';

const vocab = Vocabulary.fromText('abcdefgh \n');
const model = new Model(new ReferenceBackend(), {
  cell: 'gru',
  nonlinearity: 'tanh',
  hidden: 16,
  layers: 2,
  embed: 4,
  vocabSize: vocab.size,
});
model.initialize(9);
model.params.all.data.forEach((v, i, a) => (a[i] = v * 4)); // a peaked, non-uniform model

/** How often each index is drawn from fixed logits over many draws. */
function histogram(
  logits: number[],
  options: { temperature: number; topK: number; topP: number },
  draws = 4000,
): number[] {
  const sampler = new TokenSampler(logits.length, options, new Random(3));
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < draws; i++) counts[sampler.draw(logits)]!++;
  return counts.map((c) => c / draws);
}

describe('TokenSampler', () => {
  const logits = [0.5, 0.3, 0.15, 0.05].map(Math.log);

  it('follows softmax(logits / t)', () => {
    const freq = histogram(logits, { temperature: 1, topK: 0, topP: 1 });
    [0.5, 0.3, 0.15, 0.05].forEach((p, i) => expect(Math.abs(freq[i]! - p)).toBeLessThan(0.03));
    const hot = histogram(logits, { temperature: 0.5, topK: 0, topP: 1 }); // p² renormalised
    expect(Math.abs(hot[0]! - 0.25 / 0.365)).toBeLessThan(0.03);
  });

  it('top-k keeps the k most likely, renormalised', () => {
    const freq = histogram(logits, { temperature: 1, topK: 2, topP: 1 });
    expect(freq[2]).toBe(0);
    expect(freq[3]).toBe(0);
    expect(Math.abs(freq[0]! - 0.5 / 0.8)).toBeLessThan(0.03);
  });

  it('top-p keeps the smallest most likely set whose mass reaches p', () => {
    expect(histogram(logits, { temperature: 1, topK: 0, topP: 0.79 }).slice(2)).toEqual([0, 0]);
    const wider = histogram(logits, { temperature: 1, topK: 0, topP: 0.81 });
    expect(wider[2]).toBeGreaterThan(0);
    expect(wider[3]).toBe(0);
    expect(histogram(logits, { temperature: 1, topK: 0, topP: 0.01 })).toEqual([1, 0, 0, 0]);
  });

  it('temperature 0 is argmax', () => {
    expect(histogram([0.1, 2, 0.3], { temperature: 0, topK: 0, topP: 1 })).toEqual([0, 1, 0]);
  });
});

describe('sample', () => {
  it('is reproducible for a seed and starts with the prime', () => {
    const a = sample(model, vocab, { length: 60, prime: 'ab', seed: 4, temperature: 0.9 });
    expect(a.startsWith('ab')).toBe(true);
    expect([...a]).toHaveLength(62);
    expect(sample(model, vocab, { length: 60, prime: 'ab', seed: 4, temperature: 0.9 })).toBe(a);
    expect(sample(model, vocab, { length: 60, prime: 'ab', seed: 5, temperature: 0.9 })).not.toBe(a);
  });

  it('argmax, temperature 0 and top-k 1 agree and ignore the seed', () => {
    const argmax = sample(model, vocab, { length: 40, argmax: true, seed: 1 });
    expect(sample(model, vocab, { length: 40, temperature: 0, seed: 2 })).toBe(argmax);
    expect(sample(model, vocab, { length: 40, topK: 1, seed: 3 })).toBe(argmax);
  });

  it('count N gives N independent samples in one batch; the first equals a single sample', () => {
    const many = sampleMany(model, vocab, { length: 50, count: 4, seed: 8, prime: 'ca' });
    expect(many).toHaveLength(4);
    expect(new Set(many).size).toBeGreaterThan(1);
    for (const text of many) expect(text.startsWith('ca')).toBe(true);
    expect(sampleMany(model, vocab, { length: 50, count: 4, seed: 8, prime: 'ca' })).toEqual(many);
    // Greedy decoding is the same in every stream of the batch.
    const greedy = sampleMany(model, vocab, { length: 30, count: 3, argmax: true });
    expect(new Set(greedy).size).toBe(1);
    expect(greedy[0]).toBe(sample(model, vocab, { length: 30, argmax: true }));
  });

  it('streams the same characters as sample()', async () => {
    let streamed = '';
    for await (const ch of sampleStream(model, vocab, { length: 30, seed: 2, prime: 'h' })) streamed += ch;
    expect('h' + streamed).toBe(sample(model, vocab, { length: 30, seed: 2, prime: 'h' }));
  });

  it.each([
    [{ argmax: true, temperature: 0.5 }, /--argmax conflicts with --temperature/],
    [{ temperature: 0, topK: 5 }, /--top-k and --top-p have no effect with argmax/],
    [{ topP: 0 }, /top-p must be in \(0, 1\], got 0/],
    [{ topP: 1.5 }, /top-p must be in \(0, 1\], got 1.5/],
    [{ topK: -1 }, /top-k must be an integer >= 0/],
    [{ count: 0 }, /count must be an integer from 1 to 4096, got 0/],
    [{ temperature: -1 }, /temperature must be a number >= 0, got -1/],
    [{ prime: 'xyz' }, /the prime text has character "x"/],
  ])('refuses %j', (options, message) => {
    expect(() => sampleMany(model, vocab, { length: 5, ...options })).toThrow(message);
  });
});
