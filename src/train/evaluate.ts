// Evaluation: the mean cross-entropy of each next character given all before it, the text processed as
// one stream with the state carried from chunk to chunk (so the chunk size does not change the result).
import type { Vocabulary } from '../data/vocab.js';
import { invalidInput, invalidOption } from '../errors.js';
import type { Model } from '../model/model.js';
import { Workspace } from '../model/workspace.js';

export interface Evaluation {
  /** Mean cross-entropy in nats per character. */
  loss: number;
  /** Bits per character. */
  bpc: number;
  perplexity: number;
  /** Number of predicted characters (text length − 1). */
  characters: number;
}

/** Scores `tokens` with a batch-1 workspace (reused across calls: nothing is allocated here). */
export function evaluateTokens(workspace: Workspace, tokens: Int32Array): Evaluation {
  if (workspace.batch !== 1) throw new RangeError('evaluation needs a workspace of batch 1');
  if (tokens.length < 2)
    throw invalidInput(`the evaluation text has ${tokens.length} character(s); at least 2 are needed to predict one`);
  const predictions = tokens.length - 1;
  workspace.resetState();
  let sum = 0;
  for (let start = 0; start < predictions; start += workspace.maxT) {
    const T = Math.min(workspace.maxT, predictions - start);
    workspace.ids.data.set(tokens.subarray(start, start + T));
    workspace.targets.data.set(tokens.subarray(start + 1, start + T + 1));
    sum += workspace.forward(T);
  }
  const loss = sum / predictions;
  return { loss, bpc: loss / Math.LN2, perplexity: Math.exp(loss), characters: predictions };
}

export function evaluate(model: Model, vocab: Vocabulary, text: string, chunk = 256): Evaluation {
  if (!Number.isInteger(chunk) || chunk < 1) throw invalidOption(`chunk must be a positive integer, got ${chunk}`);
  const tokens = vocab.encode(text, 'the evaluation text');
  return evaluateTokens(new Workspace(model, Math.max(1, Math.min(chunk, tokens.length - 1)), 1), tokens);
}
