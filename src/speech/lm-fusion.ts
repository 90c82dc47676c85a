// An rnnkit character language model (a `--task lm` checkpoint) as the FusionModel of prefix beam search:
// each prefix's context is the model's recurrent state after it (started from the state after a newline,
// as if the transcript began a line) and its log-softmax over the recogniser's characters; the end of a
// transcript is the newline. New prefixes advance their parents' states in one batched step.
import type { Vocabulary } from '../data/vocab.js';
import { invalidInput } from '../errors.js';
import { LanguageModelStream } from '../model/lm-stream.js';
import type { Model } from '../model/model.js';
import { RecurrentState } from '../model/state.js';
import type { Alphabet } from './alphabet.js';
import type { FusionModel, LmContext } from './decode.js';

interface StateContext extends LmContext {
  /** This prefix's state, h (and c) [L, H] of one stream. */
  h: Float32Array;
  c: Float32Array | null;
}

export class LanguageModelFusion implements FusionModel {
  private readonly stream: LanguageModelStream;
  /** The language model's id of each recogniser label (index 0, the blank: unused). */
  private readonly lmIds: Int32Array;
  private readonly newline: number;
  private readonly layers: number;
  private readonly hidden: number;
  private readonly first: StateContext;

  constructor(
    readonly model: Model,
    vocab: Vocabulary,
    alphabet: Alphabet,
    readonly batch: number,
  ) {
    const missing = [...alphabet.symbols, '\n'].find((ch) => !vocab.chars.includes(ch));
    if (missing !== undefined)
      throw invalidInput(
        `the language model's vocabulary has no ${JSON.stringify(missing)}, which ${missing === '\n' ? 'ends each transcript' : 'the recogniser writes'}`,
      );
    const idOf = (ch: string): number => vocab.chars.indexOf(ch);
    this.lmIds = Int32Array.from([0, ...alphabet.symbols.map(idOf)]);
    this.newline = idOf('\n');
    this.layers = model.config.layers;
    this.hidden = model.config.hidden;
    this.stream = new LanguageModelStream(model, { batch, maxSteps: 1 });
    const state = this.stream.createState();
    const { logits } = this.stream.step(new Int32Array(batch).fill(this.newline), state);
    this.first = this.context(logits, state, 0);
  }

  dispose(): void {
    this.stream.dispose();
  }

  start(): LmContext {
    return this.first;
  }

  advance(parents: readonly LmContext[], labels: readonly number[]): LmContext[] {
    const out: LmContext[] = [];
    const B = this.batch;
    for (let from = 0; from < parents.length; from += B) {
      const state = this.stream.createState();
      const ids = new Int32Array(B).fill(this.newline);
      const n = Math.min(B, parents.length - from);
      for (let b = 0; b < n; b++) {
        this.put(state, b, parents[from + b] as StateContext);
        ids[b] = this.lmIds[labels[from + b]!]!;
      }
      const { logits } = this.stream.step(ids, state);
      for (let b = 0; b < n; b++) out.push(this.context(logits, state, b));
    }
    return out;
  }

  /** Stream b's slice of the state and the log-softmax of its logits, as a context. */
  private context(logits: ArrayLike<number>, state: RecurrentState, b: number): StateContext {
    const V = this.model.config.vocabSize,
      offset = b * V;
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[offset + v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[offset + v]! - max);
    const norm = max + Math.log(sum);
    const scores = Float64Array.from(this.lmIds, (id, c) => (c === 0 ? 0 : logits[offset + id]! - norm));
    const { h, c } = this.take(state, b);
    return { scores, end: logits[offset + this.newline]! - norm, h, c };
  }

  /** h/c are [L, B, H]: stream b's rows of every layer. */
  private take(state: RecurrentState, b: number): { h: Float32Array; c: Float32Array | null } {
    const { layers: L, hidden: H } = this,
      B = this.batch;
    const slice = (x: Float32Array): Float32Array => {
      const out = new Float32Array(L * H);
      for (let l = 0; l < L; l++) out.set(x.subarray((l * B + b) * H, (l * B + b + 1) * H), l * H);
      return out;
    };
    return { h: slice(state.h), c: state.c ? slice(state.c) : null };
  }

  private put(state: RecurrentState, b: number, context: StateContext): void {
    const { layers: L, hidden: H } = this,
      B = this.batch;
    for (let l = 0; l < L; l++) {
      state.h.set(context.h.subarray(l * H, (l + 1) * H), (l * B + b) * H);
      if (state.c) state.c.set(context.c!.subarray(l * H, (l + 1) * H), (l * B + b) * H);
    }
  }
}
