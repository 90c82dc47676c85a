// A speech recogniser's checkpoint contents, without file system access (the browser entry uses it too): the
// ctc task's metadata in model.safetensors — the output alphabet (id 0 is the blank, ids 1 … its characters)
// and the feature settings the network was trained on — so that transcription needs nothing else.
// model-file.ts reads and writes checkpoint directories with it.
import { DEFAULT_FEATURES, type FeatureSettings } from '../../audio/features.js';
import type { Backend } from '../../backend/types.js';
import { badCheckpoint } from '../../errors.js';
import { type TaskMetadata, type TaskSizes, decodeModelFile, modelFromFile } from '../../io/model-bytes.js';
import { frameWidthOf } from '../../model/config.js';
import type { Model } from '../../model/model.js';
import { Alphabet } from '../../speech/alphabet.js';

export interface Recogniser {
  model: Model;
  alphabet: Alphabet;
  features: FeatureSettings;
}

/** The metadata a recogniser checkpoint stores beside its tensors. */
export const recogniserMeta = (r: Recogniser): TaskMetadata => ({
  task: 'ctc',
  alphabet: r.alphabet.symbols,
  features: r.features,
  frame_width: frameWidthOf(r.model.config),
});

/** The feature settings of a checkpoint's metadata, each checked (a bad value names its key). */
export function featuresOf(value: unknown, path: string): FeatureSettings {
  if (typeof value !== 'object' || value === null) throw badCheckpoint(`${path}: features must be an object`);
  const f = value as Record<string, unknown>;
  const settings = {} as Record<keyof FeatureSettings, number>;
  for (const key of Object.keys(DEFAULT_FEATURES) as (keyof FeatureSettings)[]) {
    const v = f[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw badCheckpoint(`${path}: features.${key} must be a positive number, got ${JSON.stringify(v)}`);
    settings[key] = v;
  }
  return settings;
}

function alphabetOf(value: unknown, path: string): Alphabet {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    !value.every((s) => typeof s === 'string' && [...s].length === 1) ||
    new Set(value).size !== value.length
  )
    throw badCheckpoint(`${path}: alphabet must be a list of distinct single characters`);
  return new Alphabet(value as string[]);
}

/** What a loader returns: the model of task ctc built with the sizes it was given. */
type LoadCtc = (sizes: TaskSizes) => { model: Model };

/** A recogniser from a loader of its model file, with the alphabet, features and frame_width checked. */
export function readRecogniser(load: LoadCtc): Recogniser {
  let alphabet: Alphabet | undefined, features: FeatureSettings | undefined;
  const { model } = load((meta, path) => {
    alphabet = alphabetOf(meta['alphabet'], path);
    features = featuresOf(meta['features'], path);
    const frameWidth = features.mels * features.stack;
    if (meta['frame_width'] !== frameWidth)
      throw badCheckpoint(
        `${path}: frame_width ${JSON.stringify(meta['frame_width'])} is not mels × stack = ${frameWidth}`,
      );
    return { vocabSize: alphabet.size, outputs: alphabet.size, frameWidth };
  });
  return { model, alphabet: alphabet!, features: features! };
}

/** A recogniser from the bytes of its model.safetensors (`path` names it in error messages). */
export function decodeRecogniser(bytes: Uint8Array, backend: Backend, path = 'model.safetensors'): Recogniser {
  const file = decodeModelFile(bytes, path);
  return readRecogniser((sizes) => ({ model: modelFromFile(file, backend, 'ctc', sizes, path) }));
}
