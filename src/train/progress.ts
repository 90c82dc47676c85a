// The live-display tick: at most one per step and at most one every 250 ms (whichever is rarer), independent
// of logEvery, with the mean training loss and the speed over the steps since the previous tick.

export const PROGRESS_INTERVAL_MS = 250;

export interface ProgressTick {
  type: 'progress';
  step: number;
  steps: number;
  /** Mean training loss (nats per token) over the steps since the previous tick; NaN if all were skipped. */
  loss: number;
  /** Steps the mean is over. */
  window: number;
  tokens_per_s: number;
}

export class ProgressWindow {
  private lossSum = 0;
  private losses = 0;
  private tokens = 0;

  constructor(private since: number) {}

  /** Folds in one step; returns a tick when the interval has passed since the previous one. */
  add(step: number, steps: number, loss: number, tokens: number, updated: boolean, now: number): ProgressTick | null {
    if (updated) {
      this.lossSum += loss;
      this.losses++;
    }
    this.tokens += tokens;
    if (now - this.since < PROGRESS_INTERVAL_MS) return null;
    const tick: ProgressTick = {
      type: 'progress',
      step,
      steps,
      loss: this.losses ? this.lossSum / this.losses : Number.NaN,
      window: this.losses,
      tokens_per_s: this.tokens / ((now - this.since) / 1000),
    };
    this.since = now;
    this.lossSum = this.losses = this.tokens = 0;
    return tick;
  }
}
