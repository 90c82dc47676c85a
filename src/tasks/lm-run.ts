// The character language model's training steps: one long text cut into B streams (char-rnn batching),
// truncated BPTT with the hidden state carried from chunk to chunk, per-step softmax cross-entropy, bits per
// character. No file system here (the browser entry trains with it); lm.ts adds saving to a directory.
import { Batcher } from '../data/batcher.js';
import { Vocabulary } from '../data/vocab.js';
import { badCheckpoint, invalidInput } from '../errors.js';
import { encodeModelFile, languageModelMeta } from '../io/model-bytes.js';
import type { Backend } from '../backend/types.js';
import { validateConfig } from '../model/config.js';
import type { Model } from '../model/model.js';
import { initialisedModel } from './initialised-model.js';
import type { RecurrentStack } from '../model/stack.js';
import { Workspace, checkWorkspaceSize } from '../model/workspace.js';
import { sample, samplingWorkspace } from '../generate/sample.js';
import type { LanguageModelStream } from '../model/lm-stream.js';
import { evaluateTokens } from '../train/evaluate.js';
import type { TrainConfig } from '../train/config.js';
import type { DataCursor, DataSource, DataSummary, TaskRun, Validation } from './task.js';

/** FNV-1a over the UTF-16 code units: a cheap fingerprint of the training text. */
export function textHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Splits off the last `valFrac` of the text (by code points) for validation, as char-rnn does. */
function splitText(tokens: Int32Array, c: TrainConfig): { train: Int32Array; val: Int32Array | null } {
  if (c.valFrac === 0) return { train: tokens, val: null };
  const valLength = Math.floor(tokens.length * c.valFrac);
  const val = tokens.subarray(tokens.length - valLength);
  if (val.length < c.seq + 1) {
    throw invalidInput(
      `--val-frac ${c.valFrac} leaves ${val.length} characters for validation; at least --seq + 1 = ${c.seq + 1} are needed`,
    );
  }
  return { train: tokens.subarray(0, tokens.length - valLength), val };
}

const hiddenName = (l: number, which: 'h' | 'c'): string => `hidden.${which}_l${l}`;

/** Everything of the language model's TaskRun but saving to a directory (LanguageModelRun in lm.ts adds it). */
export class LanguageModelSteps implements Omit<TaskRun, 'saveModel'> {
  readonly task = 'lm' as const;
  readonly summary: DataSummary;
  private readonly workspace: Workspace;
  private readonly evalWorkspace: Workspace | null;
  private readonly sampleWorkspace: LanguageModelStream | null;
  private readonly batcher: Batcher;
  private readonly val: Int32Array | null;

  constructor(
    readonly model: Model,
    readonly vocab: Vocabulary,
    private readonly config: TrainConfig,
    readonly data: DataSource,
    tokens: Int32Array,
  ) {
    const { train, val } = splitText(tokens, config);
    this.val = val;
    this.batcher = new Batcher(train, config.batch, config.seq);
    this.workspace = new Workspace(model, config.seq, config.batch, {
      dropout: config.dropout,
      stateGradients: config.gradflowEvery > 0,
    });
    this.evalWorkspace = val ? new Workspace(model, Math.min(256, val.length - 1), 1) : null;
    this.sampleWorkspace = config.sampleEvery > 0 ? samplingWorkspace(model) : null;
    const perStep = `${(config.seq * config.batch).toLocaleString('en-US')} tokens/step`;
    this.summary = {
      unit: 'characters',
      train: train.length,
      validation: val?.length ?? 0,
      vocabSize: vocab.size,
      perStep,
      notes: [],
    };
    this.workspace.resetState();
  }

  get stepsPerEpoch(): number {
    return this.batcher.stepsPerEpoch;
  }

  get stack(): RecurrentStack {
    return this.workspace.stack;
  }

  get cursor(): DataCursor {
    return this.batcher.cursor;
  }

  set cursor(cursor: DataCursor) {
    if (cursor.position >= this.batcher.stepsPerEpoch)
      throw invalidInput('the trainer state points past the end of the epoch');
    this.batcher.cursor = { ...cursor };
  }

  trainStep(dropoutSeed: number | undefined): { loss: number; tokens: number } {
    const { seq, batch } = this.config;
    if (this.batcher.next(this.workspace.ids.data, this.workspace.targets.data)) this.workspace.resetState();
    const loss = this.workspace.forward(seq, true, dropoutSeed) / (seq * batch);
    this.workspace.backward(seq);
    return { loss, tokens: seq * batch };
  }

  discardState(): void {
    this.workspace.resetState(); // a non-finite state must not flow into the next chunk
  }

  validate(): Validation | null {
    if (!this.val || !this.evalWorkspace) return null;
    const { loss, bpc, perplexity } = evaluateTokens(this.evalWorkspace, this.val);
    return { loss, metrics: { bpc, perplexity } };
  }

  sample(length: number, seed: number): string | null {
    if (!this.sampleWorkspace) return null;
    // Its own workspace and generator: watching the model learn does not change the run.
    return sample(this.model, this.vocab, { length, temperature: 0.8, seed }, this.sampleWorkspace);
  }

  /** The bytes of model.safetensors, as the CLI writes it. */
  modelBytes(): Uint8Array {
    return encodeModelFile(this.model, languageModelMeta(this.vocab));
  }

  /** Frees the workspaces and the model (wasm memory); the run is unusable afterwards. */
  dispose(): void {
    for (const workspace of [this.workspace, this.evalWorkspace, this.sampleWorkspace]) workspace?.dispose();
    this.model.dispose();
  }

  stateTensors(): Map<string, Float32Array> {
    const tensors = new Map<string, Float32Array>();
    for (let l = 0; l < this.model.config.layers; l++) {
      const { h, c } = this.workspace.state(l);
      tensors.set(hiddenName(l, 'h'), Float32Array.from(h.data));
      if (c) tensors.set(hiddenName(l, 'c'), Float32Array.from(c.data));
    }
    return tensors;
  }

  restoreStateTensors(tensors: Map<string, Float32Array>): void {
    this.workspace.resetState();
    for (let l = 0; l < this.model.config.layers; l++) {
      const target = this.workspace.state(l);
      for (const [which, span] of [
        ['h', target.h],
        ['c', target.c],
      ] as const) {
        if (!span) continue;
        const saved = tensors.get(hiddenName(l, which));
        // Named as stored in the run directory's trainer file (state.ts prefixes a task's tensors with "task.").
        const name = `trainer.safetensors: tensor task.${hiddenName(l, which)}`;
        if (!saved) throw badCheckpoint(`${name} is missing`);
        const { batch } = this.workspace,
          { hidden } = this.model.config;
        if (saved.length !== span.length)
          throw badCheckpoint(
            `${name} has ${saved.length} values, expected shape [${batch}, ${hidden}] (${span.length} values: batch × hidden)`,
          );
        span.data.set(saved);
      }
    }
  }

  stateMeta(): Record<string, unknown> {
    return { vocab: [...this.vocab.chars] };
  }
}

/** A new model for `text`: the vocabulary of its characters, weights initialised from config.seed. */
export function newLanguageModel(
  backend: Backend,
  text: string,
  config: TrainConfig,
): { model: Model; vocab: Vocabulary } {
  const vocab = Vocabulary.fromText(text);
  // Validate the shapes (refusing sizes that would exhaust memory) before allocating anything.
  checkWorkspaceSize(validateConfig({ ...config, vocabSize: vocab.size }), config.seq, config.batch);
  return { model: initialisedModel(backend, { ...config, vocabSize: vocab.size }, config), vocab };
}

/** The data source record of a training text (its fingerprint refuses a resume on changed data). */
export const textSource = (text: string, source = '(in memory)'): DataSource => ({
  source,
  size: text.length,
  hash: textHash(text),
});
