// The TaskRun members of a task whose batches a BatchPlanner draws from examples bucketed by length
// (classify, seq2seq, ctc): an epoch and the data cursor are the planner's, the stack is the workspace's.
import type { RecurrentStack } from '../model/stack.js';
import type { BatchPlanner } from './classify/batcher.js';
import { IndependentBatches } from './independent-batches.js';
import type { DataCursor } from './task.js';

export abstract class PlannedBatches extends IndependentBatches {
  protected abstract readonly batches: BatchPlanner;
  protected abstract readonly workspace: { readonly stack: RecurrentStack };

  get stack(): RecurrentStack {
    return this.workspace.stack;
  }

  get stepsPerEpoch(): number {
    return this.batches.batchesPerEpoch;
  }

  get cursor(): DataCursor {
    return this.batches.cursor;
  }

  set cursor(cursor: DataCursor) {
    this.batches.cursor = cursor;
  }
}
