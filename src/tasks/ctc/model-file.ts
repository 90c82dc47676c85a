// A speech recogniser's checkpoint: model.safetensors with the ctc task's metadata — the output alphabet
// (id 0 is the blank, ids 1 … its characters) and the feature settings the network was trained on — so that
// transcription needs nothing else.
import { DEFAULT_FEATURES, type FeatureSettings } from '../../audio/features.js';
import type { Backend } from '../../backend/types.js';
import { badCheckpoint } from '../../errors.js';
import { loadModelFile, saveModelFile } from '../../io/checkpoint.js';
import { frameWidthOf } from '../../model/config.js';
import type { Model } from '../../model/model.js';
import { Alphabet } from '../../speech/alphabet.js';

export interface Recogniser {
  model: Model;
  alphabet: Alphabet;
  features: FeatureSettings;
}

export function saveRecogniser(dir: string, r: Recogniser): void {
  saveModelFile(dir, r.model, {
    task: 'ctc',
    alphabet: r.alphabet.symbols,
    features: r.features,
    frame_width: frameWidthOf(r.model.config),
  });
}

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

export function loadRecogniser(dir: string, backend: Backend): Recogniser {
  let alphabet: Alphabet | undefined, features: FeatureSettings | undefined;
  const { model } = loadModelFile(dir, backend, 'ctc', (meta, path) => {
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
