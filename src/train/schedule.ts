// Learning-rate schedules: a pure function of the settings, the step and the epoch, so that a resumed
// run is at exactly the same point of its schedule.
import type { TrainConfig } from './config.js';

/**
 * The learning rate for optimizer step `step` (1-based) during epoch `epoch` (completed epochs so far):
 * - constant: lr;
 * - step (char-rnn): lr · decayRate^k, k = 1 + ⌊(epoch − decayAfter) / decayEvery⌋ once epoch ≥ decayAfter;
 * - cosine: lr · ½(1 + cos(π·p)) with p going from 0 after the warm-up to 1 at the last step.
 * Any schedule is multiplied by a linear warm-up step/warmup over its first `warmup` steps.
 */
export function learningRate(
  c: Pick<TrainConfig, 'lr' | 'lrSchedule' | 'warmup' | 'decayRate' | 'decayEvery' | 'decayAfter' | 'steps'>,
  step: number,
  epoch: number,
): number {
  let lr = c.lr;
  if (c.lrSchedule === 'step' && epoch >= c.decayAfter) {
    lr *= c.decayRate ** (1 + Math.floor((epoch - c.decayAfter) / c.decayEvery));
  } else if (c.lrSchedule === 'cosine') {
    const span = c.steps - c.warmup;
    const progress = span > 0 ? Math.min(1, Math.max(0, (step - c.warmup) / span)) : 1;
    lr *= 0.5 * (1 + Math.cos(Math.PI * progress));
  }
  return step <= c.warmup ? (lr * step) / c.warmup : lr;
}
