// Checkpoints in the browser: model.safetensors as bytes or a Blob, exactly the file the CLI writes and reads
// (a model trained natively loads in the page, and the reverse), for the language model and the classifier.
import type { Backend } from '../backend/types.js';
import type { Vocabulary } from '../data/vocab.js';
import { invalidInput } from '../errors.js';
import { decodeLanguageModel, encodeModelFile, languageModelMeta } from '../io/model-bytes.js';
import type { Model } from '../model/model.js';
import { type Classifier, decodeClassifier } from '../tasks/classify/classifier-file.js';

/** The bytes of a language model's model.safetensors. */
export function languageModelBytes(model: Model, vocab: Vocabulary): Uint8Array {
  return encodeModelFile(model, languageModelMeta(vocab));
}

/** The same, as a Blob to download. */
export function languageModelBlob(model: Model, vocab: Vocabulary): Blob {
  return new Blob([languageModelBytes(model, vocab)], { type: 'application/octet-stream' });
}

/** A file given as bytes, an ArrayBuffer, or a Blob such as an uploaded File. */
export type Source = Uint8Array | ArrayBuffer | Blob;

/** The bytes of a checkpoint (or a WAV file) given as bytes, an ArrayBuffer, or a Blob such as an uploaded File. */
export async function bytesOf(source: Source, name: string): Promise<Uint8Array> {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (typeof Blob === 'function' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  throw invalidInput(`${name}: expected a Uint8Array, an ArrayBuffer or a Blob`);
}

/** A language model and its vocabulary from a model.safetensors (bytes, an ArrayBuffer, or a Blob such as an
 *  uploaded File); `name` names it in error messages. */
export async function loadLanguageModel(
  source: Source,
  backend: Backend,
  name = 'model.safetensors',
): Promise<{ model: Model; vocab: Vocabulary }> {
  return decodeLanguageModel(await bytesOf(source, name), backend, name);
}

/** A classifier (model, vocabulary, labels, pooling, max_len) from the model.safetensors of
 *  `rnnkit train --task classify`, given as for loadLanguageModel. */
export async function loadClassifier(
  source: Source,
  backend: Backend,
  name = 'model.safetensors',
): Promise<Classifier> {
  return decodeClassifier(await bytesOf(source, name), backend, name);
}
