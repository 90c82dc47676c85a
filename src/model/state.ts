// A recurrent state held outside any workspace: h (and c for LSTM) [L·D, B, H], PyTorch's h_n / c_n layout.
// The streaming models advance it in place; copy() keeps a point to return to (e.g. to sample twice from it).
import { type ModelConfig, directionsOf } from './config.js';

export class RecurrentState {
  readonly h: Float32Array;
  readonly c: Float32Array | null;

  /** A zero state for `batch` streams of a model of `config`. */
  constructor(
    readonly config: Pick<ModelConfig, 'cell' | 'hidden' | 'layers' | 'bidirectional'>,
    readonly batch: number,
  ) {
    if (!Number.isInteger(batch) || batch < 1)
      throw new RangeError(`a state for ${batch} streams: expected an integer >= 1`);
    const size = config.layers * directionsOf(config) * batch * config.hidden;
    this.h = new Float32Array(size);
    this.c = config.cell === 'lstm' ? new Float32Array(size) : null;
  }

  /** An independent copy: advancing one leaves the other where it was. */
  copy(): RecurrentState {
    const copy = new RecurrentState(this.config, this.batch);
    copy.h.set(this.h);
    copy.c?.set(this.c!);
    return copy;
  }

  /** Back to the start of a text (zeros). */
  reset(): void {
    this.h.fill(0);
    this.c?.fill(0);
  }

  /** Whether this state fits a model of `config` with `batch` streams; throws naming the difference. */
  check(config: ModelConfig, batch: number, who: string): void {
    const expected = config.layers * directionsOf(config) * batch * config.hidden;
    if (this.batch !== batch || this.h.length !== expected || (this.c !== null) !== (config.cell === 'lstm')) {
      throw new TypeError(
        `${who}: the state is one of ${this.batch} stream(s) for a ${this.config.cell} of ${this.h.length / this.batch} state values per stream; this model needs ${batch} stream(s) of ${expected / batch} (${config.cell})`,
      );
    }
  }
}
