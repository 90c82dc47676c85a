// Settings that would do nothing in the run they are given for. They are refused, so that nobody believes a
// setting took effect when it did not (PyTorch warns about dropout with one layer, for instance). Only for
// fresh runs: a resumed run keeps the settings it was saved with.
import { invalidOption } from '../errors.js';
import { type TrainConfig, optionName } from './config.js';

const ADAM = ['adam', 'adamw'];

/** Throws for the first setting that has no effect; `given(key)` says whether the user set it. */
export function refuseIneffective(c: TrainConfig, given: (key: keyof TrainConfig) => boolean): void {
  const refuse = (key: keyof TrainConfig, why: string): never => {
    throw invalidOption(`${optionName(key)} ${why}`);
  };
  if (given('dropout') && c.dropout > 0 && c.layers === 1)
    refuse(
      'dropout',
      'applies between stacked recurrent layers and does nothing with --layers 1 (use --layers 2 or more, or leave it out)',
    );
  if (given('nonlinearity') && c.cell !== 'rnn')
    refuse('nonlinearity', `applies to --cell rnn; ${c.cell}'s gates have fixed nonlinearities`);
  for (const key of ['beta1', 'beta2'] as const)
    if (given(key) && !ADAM.includes(c.optimizer))
      refuse(key, `applies to --optimizer adam or adamw, not ${c.optimizer}`);
  if (given('alpha') && c.optimizer !== 'rmsprop')
    refuse('alpha', `applies to --optimizer rmsprop, not ${c.optimizer}`);
  for (const key of ['decayRate', 'decayEvery', 'decayAfter'] as const)
    if (given(key) && c.lrSchedule !== 'step') refuse(key, `applies to --lr-schedule step, not ${c.lrSchedule}`);
  if (c.lrSchedule === 'cosine' && c.warmup > 0 && c.warmup >= c.steps && c.steps > 0) {
    refuse(
      'warmup',
      `${c.warmup} lasts the whole run (--steps ${c.steps}), so the cosine schedule never decays; use a warm-up shorter than the run`,
    );
  }
}

/** For callers that pass a whole config: a setting counts as given when it differs from the default. */
export const differsFrom =
  (c: TrainConfig, defaults: TrainConfig) =>
  (key: keyof TrainConfig): boolean =>
    c[key] !== defaults[key];
