// Generation: feed the prime text, then draw one character at a time from softmax(logits / temperature).
import type { Vocabulary } from '../data/vocab.js';
import { invalidOption } from '../errors.js';
import type { Model } from '../model/model.js';
import { Workspace } from '../model/workspace.js';
import { Random } from '../util/random.js';

export interface SampleOptions {
  length: number;
  /** 0 picks the most likely character (argmax). */
  temperature?: number;
  prime?: string;
  seed?: number;
  /** Called with each generated character as it is produced. */
  onText?: (text: string) => void;
}

const PRIME_CHUNK = 64;

/** Draws an index from softmax(logits / temperature); temperature 0 is argmax. */
export function drawToken(logits: ArrayLike<number>, temperature: number, random: Random): number {
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v]! > logits[best]!) best = v;
  if (temperature === 0) return best;
  const weights = Float64Array.from(logits, (x) => Math.exp((x - logits[best]!) / temperature));
  let r = random.uniform() * weights.reduce((a, b) => a + b, 0);
  for (let v = 0; v < weights.length; v++) {
    r -= weights[v]!;
    if (r < 0) return v;
  }
  return best;
}

/** Returns the prime text followed by `length` generated characters. */
export function sample(model: Model, vocab: Vocabulary, options: SampleOptions): string {
  const { length, temperature = 1, prime = '', seed = 1 } = options;
  if (!Number.isInteger(length) || length < 0 || length > 100_000_000) throw invalidOption(`length must be an integer from 0 to 100000000, got ${length}`);
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0) throw invalidOption(`temperature must be a number >= 0, got ${temperature}`);
  const random = new Random(seed);
  const primeIds = vocab.encode(prime, 'the prime text');
  const workspace = new Workspace(model, PRIME_CHUNK, 1);
  workspace.resetState();
  // Without a prime, start from a newline when the vocabulary has one (a natural text boundary).
  const newline = vocab.chars.indexOf('\n');
  const context = primeIds.length ? primeIds : Int32Array.of(newline >= 0 ? newline : Math.floor(random.uniform() * vocab.size));
  // All but the last context character only advance the state.
  for (let start = 0; start < context.length - 1; start += PRIME_CHUNK) {
    const T = Math.min(PRIME_CHUNK, context.length - 1 - start);
    workspace.ids.data.set(context.subarray(start, start + T));
    workspace.forward(T, false);
  }
  let current = context[context.length - 1]!;
  const out: string[] = [prime];
  for (let i = 0; i < length; i++) {
    workspace.ids.data[0] = current;
    workspace.forward(1, false);
    current = drawToken(workspace.logits(1).data, temperature, random);
    const ch = vocab.chars[current]!;
    out.push(ch);
    options.onText?.(ch);
  }
  return out.join('');
}
