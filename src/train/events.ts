// The parts of a run's event stream that the CLI's trainer (src/train/trainer.ts) and the in-memory trainer
// of the browser (src/web/trainer.ts) build alike. Browser-safe: no Node built-ins.
import type { Backend } from '../backend/types.js';
import type { DataSummary, Validation } from '../tasks/task.js';
import type { TrainEvent } from './trainer.js';

/** The 'start' event: what the run trains, on which backend, from which step to which. */
export function startEvent(
  run: { dir: string; task: string; step: number; steps: number },
  parameters: number,
  summary: DataSummary,
  backend: Backend,
): Extract<TrainEvent, { type: 'start' }> {
  return {
    type: 'start',
    ...run,
    parameters,
    vocabSize: summary.vocabSize,
    unit: summary.unit,
    trainSize: summary.train,
    valSize: summary.validation,
    perStep: summary.perStep,
    notes: summary.notes,
    backend: backend.info(),
  };
}

/** A validation's fields of a metrics row: val_loss, then the task's metrics as val_<name>. */
export function validationRow(validation: Validation): Record<string, number> {
  return {
    val_loss: validation.loss,
    ...Object.fromEntries(Object.entries(validation.metrics).map(([k, v]) => [`val_${k}`, v])),
  };
}
