// Generation: feed the prime text, then draw one character at a time per stream from
// softmax(logits / temperature), optionally restricted to the top k and to the nucleus of mass p.
// N samples are N streams of one batched LanguageModelStream; the state is explicit, so sampling can start
// from any point of a text (generateFrom). Nothing is allocated per character.
import { Vocabulary } from '../data/vocab.js';
import { invalidOption } from '../errors.js';
import type { Model } from '../model/model.js';
import { inferenceMatrices } from '../model/inference-weights.js';
import { LanguageModelStream } from '../model/lm-stream.js';
import type { RecurrentState } from '../model/state.js';
import { Random } from '../util/random.js';
import { yieldToEventLoop } from '../util/yield.js';

export interface SampleOptions {
  /** Characters to generate per sample. */
  length: number;
  /** Softmax temperature; 0 picks the most likely character (argmax). Default 1. */
  temperature?: number;
  /** Keep only the k most likely characters (0 = all). */
  topK?: number;
  /** Keep the smallest set of most likely characters whose probability reaches p (1 = all). */
  topP?: number;
  /** Always pick the most likely character (the same as temperature 0). */
  argmax?: boolean;
  prime?: string;
  seed?: number;
  /** Independent samples, generated together as one batch. Default 1. */
  count?: number;
}

const PRIME_CHUNK = 64;
const MAX_COUNT = 4096;

export function validateSampleOptions(o: SampleOptions): Required<Omit<SampleOptions, 'prime'>> & { prime: string } {
  const temperature = o.argmax ? 0 : (o.temperature ?? 1);
  const { length, topK = 0, topP = 1, seed = 1, count = 1, prime = '' } = o;
  if (!Number.isInteger(length) || length < 0 || length > 100_000_000)
    throw invalidOption(`length must be an integer from 0 to 100000000, got ${length}`);
  if (typeof temperature !== 'number' || !Number.isFinite(temperature) || temperature < 0)
    throw invalidOption(`temperature must be a number >= 0, got ${String(o.temperature)}`);
  if (!Number.isInteger(topK) || topK < 0) throw invalidOption(`top-k must be an integer >= 0 (0 = off), got ${topK}`);
  if (typeof topP !== 'number' || !(topP > 0 && topP <= 1))
    throw invalidOption(`top-p must be in (0, 1], got ${String(topP)}`);
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT)
    throw invalidOption(`count must be an integer from 1 to ${MAX_COUNT}, got ${count}`);
  if (typeof prime !== 'string') throw new TypeError(`prime must be a string, got ${typeof prime}`);
  if (!Number.isSafeInteger(seed) || seed < 0) throw invalidOption(`seed must be a non-negative integer, got ${seed}`);
  if (o.argmax && o.temperature !== undefined && o.temperature !== 0)
    throw invalidOption('--argmax conflicts with --temperature (argmax is temperature 0)');
  if (temperature === 0 && (topK > 0 || topP < 1))
    throw invalidOption('--top-k and --top-p have no effect with argmax / temperature 0; give a temperature > 0');
  return { length, temperature, topK, topP, argmax: temperature === 0, seed, count, prime };
}

/** Draws token ids from rows of logits, reusing its buffers. */
export class TokenSampler {
  private readonly probs: Float64Array;
  private readonly order: Int32Array;

  constructor(
    readonly vocabSize: number,
    private readonly options: Pick<Required<SampleOptions>, 'temperature' | 'topK' | 'topP'>,
    private readonly random: Random,
  ) {
    this.probs = new Float64Array(vocabSize);
    this.order = new Int32Array(vocabSize);
  }

  draw(logits: ArrayLike<number>, offset = 0): number {
    const V = this.vocabSize,
      { temperature, topK, topP } = this.options;
    let best = 0;
    for (let v = 1; v < V; v++) if (logits[offset + v]! > logits[offset + best]!) best = v;
    if (temperature === 0) return best;
    const p = this.probs,
      order = this.order;
    const max = logits[offset + best]!;
    for (let v = 0; v < V; v++) p[v] = Math.exp((logits[offset + v]! - max) / temperature);
    let kept = V;
    if (topK > 0 || topP < 1) {
      for (let v = 0; v < V; v++) order[v] = v;
      order.sort((a, b) => p[b]! - p[a]! || a - b);
      kept = topK > 0 ? Math.min(topK, V) : V;
      if (topP < 1) {
        let total = 0;
        for (let i = 0; i < kept; i++) total += p[order[i]!]!;
        let mass = 0;
        for (let i = 0; i < kept; i++) {
          mass += p[order[i]!]!;
          if (mass >= topP * total) {
            kept = i + 1;
            break;
          }
        }
      }
      for (let i = kept; i < V; i++) p[order[i]!] = 0;
    }
    let total = 0;
    for (let v = 0; v < V; v++) total += p[v]!;
    let r = this.random.uniform() * total;
    for (let v = 0; v < V; v++) {
      r -= p[v]!;
      if (r < 0 && p[v]! > 0) return v;
    }
    return best;
  }
}

/** Samples held in memory at once (count × length characters, by sampleMany and `rnnkit sample --count`)
 *  are limited to this many characters; one sample is streamed and needs no such limit. */
export const MAX_HELD_CHARACTERS = 100_000_000;

/** The model's vocabulary must be the one it was trained with: its size is the width of the logits rows. */
function checkVocabulary(model: Model, vocab: Vocabulary): void {
  if (!(vocab instanceof Vocabulary))
    throw new TypeError('sample: vocab must be a Vocabulary (the one loadModel returns with the model)');
  const expected = model.config.vocabSize;
  if (vocab.size !== expected) {
    throw invalidOption(
      `the vocabulary has ${vocab.size} characters but the model was trained with ${expected}; pass the vocabulary loaded with this model`,
    );
  }
}

/**
 * Yields, for each generated position, the token ids of all `count` samples (index = sample; the same array
 * each time, overwritten). The prime text is not repeated. Stops early when the consumer stops iterating.
 */
export function* generateIds(
  model: Model,
  vocab: Vocabulary,
  options: SampleOptions,
  reuse?: LanguageModelStream,
): Generator<Int32Array, void, undefined> {
  checkVocabulary(model, vocab);
  const o = validateSampleOptions(options);
  const random = new Random(o.seed);
  const primeIds = vocab.encode(o.prime, 'the prime text');
  const B = o.count,
    V = vocab.size;
  const stream = reuse ?? new LanguageModelStream(model, { batch: B, maxSteps: PRIME_CHUNK });
  if (stream.batch !== B || stream.model !== model)
    throw new RangeError(`generate: the stream is not one of batch ${B} for this model`);
  const state = stream.createState();
  // Without a prime, start from a newline when the vocabulary has one (a natural text boundary).
  const newline = vocab.chars.indexOf('\n');
  const context = primeIds.length ? primeIds : Int32Array.of(newline >= 0 ? newline : Math.floor(random.uniform() * V));
  // All but the last context character only advance the state (the same in every stream).
  if (context.length > 1)
    stream.feed(
      Int32Array.from({ length: (context.length - 1) * B }, (_, i) => context[Math.floor(i / B)]!),
      state,
    );
  yield* generateIdsFrom(stream, vocab, state, new Int32Array(B).fill(context[context.length - 1]!), o, random);
}

/** As generateIds, with characters: for each generated position, the characters of all `count` samples. */
export function* generate(
  model: Model,
  vocab: Vocabulary,
  options: SampleOptions,
  reuse?: LanguageModelStream,
): Generator<string[], void, undefined> {
  yield* idsToChars(vocab, generateIds(model, vocab, options, reuse));
}

/**
 * Samples from any point of a text: `state` (advanced in place) is the state before the current ids [B]
 * (one per stream), which are fed first. Yields each position's ids (the `current` array, overwritten).
 */
export function* generateIdsFrom(
  stream: LanguageModelStream,
  vocab: Vocabulary,
  state: RecurrentState,
  current: Int32Array,
  options: SampleOptions,
  random = new Random(options.seed ?? 1),
): Generator<Int32Array, void, undefined> {
  checkVocabulary(stream.model, vocab);
  const o = validateSampleOptions(options),
    B = stream.batch,
    V = vocab.size;
  if (current.length !== B) throw new RangeError(`generateFrom: ${current.length} current ids for ${B} stream(s)`);
  const sampler = new TokenSampler(V, o, random);
  // Native: the weights prepared once for this sample (bf16: rounded, half the bytes read per character;
  // fp32: packed for the 1-row GEMM); the sample uses the weights as they are when it starts.
  const weights = stream.model.backend.inferenceWeights?.(inferenceMatrices(stream.model)) ?? null;
  try {
    for (let i = 0; i < o.length; i++) {
      const { logits } = weights ? weights.run(() => stream.step(current, state)) : stream.step(current, state);
      for (let b = 0; b < B; b++) current[b] = sampler.draw(logits, b * V);
      yield current;
    }
  } finally {
    weights?.dispose();
  }
}

/** As generateIdsFrom, with characters, as generate() yields them. */
export function* generateFrom(
  stream: LanguageModelStream,
  vocab: Vocabulary,
  state: RecurrentState,
  current: Int32Array,
  options: SampleOptions,
  random = new Random(options.seed ?? 1),
): Generator<string[], void, undefined> {
  yield* idsToChars(vocab, generateIdsFrom(stream, vocab, state, current, options, random));
}

function* idsToChars(vocab: Vocabulary, positions: Iterable<Int32Array>): Generator<string[], void, undefined> {
  let chars: string[] | null = null;
  for (const ids of positions) {
    chars ??= new Array<string>(ids.length);
    ids.forEach((id, b) => (chars![b] = vocab.chars[id]!));
    yield chars;
  }
}

/** The options, validated, when their samples may be held in memory (count × length <= MAX_HELD_CHARACTERS). */
export function checkHeldSize(options: SampleOptions): ReturnType<typeof validateSampleOptions> {
  const o = validateSampleOptions(options);
  if (o.length * o.count > MAX_HELD_CHARACTERS) {
    throw invalidOption(
      `count × length = ${o.count} × ${o.length} characters is more than the ${MAX_HELD_CHARACTERS} that samples held in memory may have; generate fewer or one at a time (one sample is streamed)`,
    );
  }
  return o;
}

/** The generated ids of `count` samples held compactly, sample b at [b·length, (b+1)·length); refuses more
 *  than MAX_HELD_CHARACTERS before generating anything. */
export function generateHeld(
  model: Model,
  vocab: Vocabulary,
  options: SampleOptions,
  reuse?: LanguageModelStream,
): { ids: Uint16Array | Int32Array; length: number; count: number } {
  const { length, count } = checkHeldSize(options);
  checkVocabulary(model, vocab);
  const held = vocab.size <= 65536 ? new Uint16Array(length * count) : new Int32Array(length * count);
  let i = 0;
  for (const ids of generateIds(model, vocab, options, reuse)) {
    ids.forEach((id, b) => (held[b * length + i] = id));
    i++;
  }
  return { ids: held, length, count };
}

const DECODE_CHUNK = 1 << 16;

/** Sample b of generateHeld's result as text pieces of at most DECODE_CHUNK characters (no giant temporaries). */
export function* heldSamplePieces(
  vocab: Vocabulary,
  held: ReturnType<typeof generateHeld>,
  b: number,
): Generator<string, void, undefined> {
  for (let start = 0; start < held.length; start += DECODE_CHUNK) {
    yield vocab.decode(
      held.ids.subarray(b * held.length + start, b * held.length + Math.min(held.length, start + DECODE_CHUNK)),
    );
  }
}

/** The prime text followed by `length` generated characters. */
export function sample(
  model: Model,
  vocab: Vocabulary,
  options: Omit<SampleOptions, 'count'>,
  reuse?: LanguageModelStream,
): string {
  return sampleMany(model, vocab, { ...options, count: 1 }, reuse)[0]!;
}

/** `count` samples, each the prime text followed by `length` generated characters (at most
 *  MAX_HELD_CHARACTERS generated characters in all). */
export function sampleMany(
  model: Model,
  vocab: Vocabulary,
  options: SampleOptions,
  reuse?: LanguageModelStream,
): string[] {
  const held = generateHeld(model, vocab, options, reuse);
  return Array.from(
    { length: held.count },
    (_, b) => (options.prime ?? '') + [...heldSamplePieces(vocab, held, b)].join(''),
  );
}

/** A stream for repeated sampling of one sample at a time (e.g. during training), so nothing is allocated per sample. */
export const samplingWorkspace = (model: Model): LanguageModelStream =>
  new LanguageModelStream(model, { maxSteps: PRIME_CHUNK });

/** The library's streaming form: an async iterator of the generated characters of one sample, yielding
 *  to the event loop between characters so that a server stays responsive. */
export async function* sampleStream(
  model: Model,
  vocab: Vocabulary,
  options: Omit<SampleOptions, 'count'>,
): AsyncGenerator<string, void, undefined> {
  for (const chars of generate(model, vocab, { ...options, count: 1 })) {
    yield chars[0]!;
    await yieldToEventLoop();
  }
}
