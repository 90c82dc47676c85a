// Everything that defines a training run, its defaults and its validation. A run's config is saved in
// its checkpoint, so `--resume` continues with exactly these settings.
import { invalidOption } from '../errors.js';
import { rangeText } from '../util/range.js';
import { didYouMean } from '../util/suggest.js';
import type { ModelConfig } from '../model/config.js';
import { INIT_SCHEMES, type InitScheme } from '../model/init.js';
import { TASK_NAMES, type TaskName } from '../tasks/task.js';
import { POOLINGS, type Pooling } from '../model/classifier.js';
import { TOKEN_UNITS, type TokenUnit } from '../tasks/seq2seq/tokens.js';

export const OPTIMIZERS = ['sgd', 'adagrad', 'rmsprop', 'adam', 'adamw'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
export const LR_SCHEDULES = ['constant', 'step', 'cosine'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

export type ShapeOptions = Omit<ModelConfig, 'vocabSize' | 'outputs' | 'bidirectional'> & { bidirectional: boolean };

export interface TrainConfig extends ShapeOptions {
  /** What the run learns: the character language model or sequence classification. */
  task: TaskName;
  /** Classification: how the recurrent outputs become one vector per sequence. */
  pool: Pooling;
  /** Classification: keep the first maxLen code points of each input; 0 = all. */
  maxLen: number;
  /** Sequence to sequence: how each side of a pair is cut into tokens (characters or space-separated). */
  sourceTokens: TokenUnit;
  targetTokens: TokenUnit;
  /** Sequence to sequence: label smoothing ε of the training loss (PyTorch's); validation reports the plain loss. */
  labelSmoothing: number;
  /** The adding problem: steps per sequence (T). */
  length: number;
  /** The copy problem: blanks between the symbols and their recall (T). */
  delay: number;
  /** Speech (ctc): log-mel frames concatenated, one in `stack` kept. */
  stack: number;
  /** Measure the gradient flow ‖∂L/∂h_t‖ every N steps (gradflow.jsonl); 0 = never. */
  gradflowEvery: number;
  seq: number;
  batch: number;
  /** The run's total number of optimizer steps. */
  steps: number;
  lr: number;
  optimizer: OptimizerName;
  /** SGD momentum (0 = plain SGD) and Nesterov. */
  momentum: number;
  nesterov: boolean;
  /** L2 penalty (sgd, adagrad, rmsprop, adam) or decoupled decay (adamw); undefined means PyTorch's
   *  default (0.01 for adamw, 0 for the others). */
  weightDecay?: number;
  /** RMSprop's smoothing constant. */
  alpha: number;
  beta1: number;
  beta2: number;
  /** The optimizer's epsilon; undefined means PyTorch's default for it. */
  eps?: number;
  lrSchedule: LrSchedule;
  /** Steps of linear warm-up from 0 to lr (any schedule). */
  warmup: number;
  /** Step schedule: multiply by decayRate every decayEvery epochs, from epoch decayAfter on. */
  decayRate: number;
  decayEvery: number;
  decayAfter: number;
  clipValue: number;
  clipNorm: number;
  dropout: number;
  seed: number;
  init: InitScheme;
  /** Fraction of the text (its end) held out for validation; 0 = none. */
  valFrac: number;
  /** Validate every N steps (and at the end). */
  evalEvery: number;
  /** Stop after this many validations without improvement; 0 = never. */
  patience: number;
  logEvery: number;
  /** Save the checkpoint every N steps (0: only at the end and on interruption). */
  saveEvery: number;
  /** Skip (and count) steps whose loss or gradient is NaN or infinite instead of stopping. */
  skipNonfinite: boolean;
  /** Generate a short sample (temperature 0.8, seed + step) every N steps; 0 = never. */
  sampleEvery: number;
  sampleLength: number;
}

/** min-char-rnn's setup: a tanh RNN of 100 units, one-hot input, 25 steps, Adagrad 0.1, clip at 5. */
export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  task: 'lm',
  pool: 'last',
  maxLen: 0,
  sourceTokens: 'chars',
  targetTokens: 'words',
  labelSmoothing: 0,
  length: 100,
  delay: 100,
  stack: 3,
  gradflowEvery: 0,
  bidirectional: false,
  cell: 'rnn',
  nonlinearity: 'tanh',
  hidden: 100,
  layers: 1,
  embed: 0,
  seq: 25,
  batch: 1,
  steps: 20000,
  lr: 0.1,
  optimizer: 'adagrad',
  momentum: 0,
  nesterov: false,
  alpha: 0.95,
  beta1: 0.9,
  beta2: 0.999,
  lrSchedule: 'constant',
  warmup: 0,
  decayRate: 0.97,
  decayEvery: 1,
  decayAfter: 10,
  clipValue: 5,
  clipNorm: 0,
  dropout: 0,
  seed: 1,
  init: 'pytorch',
  valFrac: 0,
  evalEvery: 1000,
  patience: 0,
  logEvery: 100,
  saveEvery: 1000,
  skipNonfinite: false,
  sampleEvery: 0,
  sampleLength: 200,
};

/** The command-line spelling of a setting: maxLen → --max-len. */
export const optionName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** Every key a TrainConfig may have. */
export const TRAIN_CONFIG_KEYS: readonly string[] = [...Object.keys(DEFAULT_TRAIN_CONFIG), 'weightDecay', 'eps'];

/** Refuses a key outside `known` (a misspelt `{ hiden: 5 }` would otherwise train with the default),
 *  suggesting the closest known ones as the CLI does for options. */
export function refuseUnknownKeys(object: object, known: readonly string[], what: string): void {
  const unknown = Object.keys(object).find((key) => !known.includes(key));
  if (unknown !== undefined)
    throw invalidOption(`${what} has no setting ${JSON.stringify(unknown)}${didYouMean(unknown, known)}`);
}

function check(name: string, value: unknown, min: number, max: number, integer: boolean): void {
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    throw invalidOption(`${name} must be ${rangeText(integer, min, max)}, got ${String(value)}`);
  }
}

function checkBelow(name: string, value: unknown, min: number, below: number): void {
  if (typeof value !== 'number' || !(value >= min && value < below))
    throw invalidOption(`${name} must be in [${min}, ${below}), got ${String(value)}`);
}

function checkChoice(name: string, value: unknown, choices: readonly string[]): void {
  if (typeof value !== 'string' || !choices.includes(value))
    throw invalidOption(`${name} must be one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
}

/** The longest synthetic sequence: a workspace of more steps than this is refused anyway. */
export const MAX_SYNTHETIC_STEPS = 100_000;

/** --length (adding) and --delay (copy): the adding problem needs a marker in each half, the copy problem a
 *  sequence of delay + 20 steps. */
function checkSyntheticLengths(c: TrainConfig): void {
  if (typeof c.length !== 'number' || !Number.isInteger(c.length) || c.length < 2 || c.length > MAX_SYNTHETIC_STEPS) {
    throw invalidOption(
      `--length must be an integer from 2 (one marked value in each half) to ${MAX_SYNTHETIC_STEPS.toLocaleString('en-US')}, got ${String(c.length)}`,
    );
  }
  if (typeof c.delay !== 'number' || !Number.isInteger(c.delay) || c.delay < 1 || c.delay + 20 > MAX_SYNTHETIC_STEPS) {
    throw invalidOption(
      `--delay must be an integer from 1 (the delimiter is the delay's last step) to ${(MAX_SYNTHETIC_STEPS - 20).toLocaleString('en-US')} (10 symbols, the delay and 10 recall steps fit in ${MAX_SYNTHETIC_STEPS.toLocaleString('en-US')} steps), got ${String(c.delay)}`,
    );
  }
}

/** Validates the training settings (the model shape is validated with the model). */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  const MAX = Number.MAX_SAFE_INTEGER;
  checkChoice('task', c.task, TASK_NAMES);
  checkChoice('pool', c.pool, POOLINGS);
  check('max-len', c.maxLen, 0, 2 ** 31 - 1, true);
  checkChoice('source-tokens', c.sourceTokens, TOKEN_UNITS);
  checkChoice('target-tokens', c.targetTokens, TOKEN_UNITS);
  checkBelow('label-smoothing', c.labelSmoothing, 0, 1);
  checkSyntheticLengths(c);
  check('stack', c.stack, 1, 16, true);
  check('gradflow-every', c.gradflowEvery, 0, MAX, true);
  if (typeof c.bidirectional !== 'boolean') throw invalidOption('bidirectional must be true or false');
  if (c.task === 'lm' && c.bidirectional)
    throw invalidOption(
      '--bidirectional needs a task that reads whole sequences (--task classify); a language model predicts each next character from the ones before it',
    );
  check('seq', c.seq, 1, 100_000, true);
  check('batch', c.batch, 1, 100_000, true);
  check('steps', c.steps, 0, MAX, true);
  check('lr', c.lr, 0, 1e6, false);
  checkChoice('optimizer', c.optimizer, OPTIMIZERS);
  checkBelow('momentum', c.momentum, 0, 1);
  if (typeof c.nesterov !== 'boolean') throw invalidOption('nesterov must be true or false');
  if (c.nesterov && (c.optimizer !== 'sgd' || c.momentum <= 0))
    throw invalidOption('nesterov needs --optimizer sgd with a momentum > 0');
  if (c.momentum > 0 && c.optimizer !== 'sgd')
    throw invalidOption(`momentum applies to --optimizer sgd, not ${c.optimizer}`);
  if (c.weightDecay !== undefined) check('weight-decay', c.weightDecay, 0, 1e6, false);
  checkBelow('alpha', c.alpha, 0, 1);
  checkBelow('beta1', c.beta1, 0, 1);
  checkBelow('beta2', c.beta2, 0, 1);
  if (c.eps !== undefined) check('eps', c.eps, 0, 1, false);
  checkChoice('lr-schedule', c.lrSchedule, LR_SCHEDULES);
  check('warmup', c.warmup, 0, MAX, true);
  check('decay-rate', c.decayRate, 0, 1, false);
  check('decay-every', c.decayEvery, 1, MAX, true);
  check('decay-after', c.decayAfter, 0, MAX, true);
  check('clip-value', c.clipValue, 0, Number.MAX_VALUE, false);
  check('clip-norm', c.clipNorm, 0, Number.MAX_VALUE, false);
  checkBelow('dropout', c.dropout, 0, 1);
  check('seed', c.seed, 0, MAX, true);
  checkChoice('init', c.init, INIT_SCHEMES);
  if (c.init === 'identity' && !(c.cell === 'rnn' && c.nonlinearity === 'relu')) {
    throw invalidOption(
      `--init identity is for ReLU RNNs (--cell rnn --nonlinearity relu: Le et al. 2015's IRNN), not ${c.cell === 'rnn' ? `a ${c.nonlinearity} RNN` : c.cell}; --init orthogonal works for any cell`,
    );
  }
  checkBelow('val-frac', c.valFrac, 0, 1);
  check('eval-every', c.evalEvery, 1, MAX, true);
  check('patience', c.patience, 0, MAX, true);
  check('log-every', c.logEvery, 1, MAX, true);
  check('save-every', c.saveEvery, 0, MAX, true);
  check('sample-every', c.sampleEvery, 0, MAX, true);
  check('sample-length', c.sampleLength, 1, 100_000, true);
  if (typeof c.skipNonfinite !== 'boolean') throw invalidOption('skip-nonfinite must be true or false');
  if (c.patience > 0 && c.valFrac === 0) throw invalidOption('--patience needs a validation split (--val-frac > 0)');
  return c;
}
