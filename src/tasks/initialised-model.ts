// A fresh run's model: the shape the task derives from its data, weights drawn by --init from --seed.
import type { Backend } from '../backend/types.js';
import type { ModelConfig } from '../model/config.js';
import { Model } from '../model/model.js';
import type { TrainConfig } from '../train/config.js';

/** A new model of `shape` (checked by Model before anything is allocated), initialised as `config` says. */
export function initialisedModel(
  backend: Backend,
  shape: ModelConfig,
  config: Pick<TrainConfig, 'seed' | 'init'>,
): Model {
  const model = new Model(backend, shape);
  model.initialize(config.seed, config.init);
  return model;
}
