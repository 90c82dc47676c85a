// A speech recogniser's checkpoint directory: model.safetensors with the ctc task's metadata
// (recogniser-file.ts), loaded to transcribe and evaluate.
import type { Backend } from '../../backend/types.js';
import { loadModelFile, saveModelFile } from '../../io/checkpoint.js';
import { type Recogniser, readRecogniser, recogniserMeta } from './recogniser-file.js';

export type { Recogniser } from './recogniser-file.js';

export function saveRecogniser(dir: string, r: Recogniser): void {
  saveModelFile(dir, r.model, recogniserMeta(r));
}

export function loadRecogniser(dir: string, backend: Backend): Recogniser {
  return readRecogniser((sizes) => loadModelFile(dir, backend, 'ctc', sizes));
}
