// Translation in the browser: a seq2seq checkpoint of `rnnkit train --task seq2seq` (bytes or a Blob), and the
// task code rnnkit translate runs, so the page gets the CLI's outputs, scores, n-best lists and attention.
import type { Backend } from '../backend/types.js';
import { type Translator, decodeTranslator } from '../tasks/seq2seq/translator-file.js';
import { type TranslateOptions, type Translation, translate } from '../tasks/seq2seq/translate.js';
import { type Source, bytesOf } from './checkpoint.js';

export interface WebTranslator extends Translator {
  /** What `rnnkit translate --json` prints for each input (the defaults are its own: beam 5, length penalty 0,
   *  max length 10 more than the longest training target; `attention: true` adds the best output's matrix). */
  translate(inputs: readonly string[], options?: TranslateOptions): Translation[];
  /** Frees the model's backend memory; the translator cannot be used afterwards. */
  dispose(): void;
}

/** A translator from the model.safetensors of `rnnkit train --task seq2seq` (bytes, an ArrayBuffer, or a Blob
 *  such as an uploaded File); `name` names it in error messages. */
export async function loadTranslator(
  source: Source,
  backend: Backend,
  name = 'model.safetensors',
): Promise<WebTranslator> {
  const translator = decodeTranslator(await bytesOf(source, name), backend, name);
  return {
    ...translator,
    translate: (inputs, options) => translate(translator, inputs, options),
    dispose: () => translator.model.dispose(),
  };
}
