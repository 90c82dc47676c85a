// A seq2seq checkpoint directory: model.safetensors in the names of test/fixtures/seq2seq_model.py's Seq2Seq,
// with the task's metadata (translator-file.ts), loaded to translate and evaluate.
import type { Backend } from '../../backend/types.js';
import { loadModelFile, saveModelFile } from '../../io/checkpoint.js';
import { type Translator, readTranslator, translatorMeta } from './translator-file.js';

export type { Translator } from './translator-file.js';

export function saveTranslator(dir: string, t: Translator): void {
  saveModelFile(dir, t.model, translatorMeta(t));
}

export function loadTranslator(dir: string, backend: Backend): Translator {
  return readTranslator((sizes) => loadModelFile(dir, backend, 'seq2seq', sizes));
}
