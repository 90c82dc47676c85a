// A classifier checkpoint directory: model.safetensors with the classify task's metadata (classifier-file.ts),
// loaded for prediction and evaluation.
import type { Backend } from '../../backend/types.js';
import { loadModelFile, saveModelFile } from '../../io/checkpoint.js';
import { type Classifier, classifierMeta, readClassifier } from './classifier-file.js';

export type { Classifier } from './classifier-file.js';

export function saveClassifier(dir: string, c: Classifier): void {
  saveModelFile(dir, c.model, classifierMeta(c));
}

export function loadClassifier(dir: string, backend: Backend): Classifier {
  return readClassifier((sizes) => loadModelFile(dir, backend, 'classify', sizes));
}
