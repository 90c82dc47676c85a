// Checkpoints in the browser: model.safetensors as bytes or a Blob, exactly the file the CLI writes and reads
// (a model trained natively loads in the page, and the reverse).
import type { Backend } from '../backend/types.js';
import type { Vocabulary } from '../data/vocab.js';
import { invalidInput } from '../errors.js';
import { decodeLanguageModel, encodeModelFile, languageModelMeta } from '../io/model-bytes.js';
import type { Model } from '../model/model.js';

/** The bytes of a language model's model.safetensors. */
export function languageModelBytes(model: Model, vocab: Vocabulary): Uint8Array {
  return encodeModelFile(model, languageModelMeta(vocab));
}

/** The same, as a Blob to download. */
export function languageModelBlob(model: Model, vocab: Vocabulary): Blob {
  return new Blob([languageModelBytes(model, vocab)], { type: 'application/octet-stream' });
}

/** A language model and its vocabulary from a model.safetensors (bytes, an ArrayBuffer, or a Blob such as an
 *  uploaded File); `name` names it in error messages. */
export async function loadLanguageModel(
  source: Uint8Array | ArrayBuffer | Blob,
  backend: Backend,
  name = 'model.safetensors',
): Promise<{ model: Model; vocab: Vocabulary }> {
  let bytes: Uint8Array;
  if (source instanceof Uint8Array) bytes = source;
  else if (source instanceof ArrayBuffer) bytes = new Uint8Array(source);
  else if (typeof Blob === 'function' && source instanceof Blob) bytes = new Uint8Array(await source.arrayBuffer());
  else throw invalidInput(`${name}: expected a Uint8Array, an ArrayBuffer or a Blob`);
  return decodeLanguageModel(bytes, backend, name);
}
