// The TaskRun methods of a task whose batches are independent of each other (every task but the language
// model): no state carried from batch to batch, so none to drop after a skipped step and none to save; no
// text sample to show. A task extends this and overrides what it does have (the classifier's stateMeta).
export abstract class IndependentBatches {
  discardState(): void {}

  sample(_length: number, _seed: number): string | null {
    return null;
  }

  stateTensors(): Map<string, Float32Array> {
    return new Map();
  }

  restoreStateTensors(_tensors: Map<string, Float32Array>): void {}

  stateMeta(): Record<string, unknown> {
    return {};
  }
}
