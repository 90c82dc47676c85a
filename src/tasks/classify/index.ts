// The data and metrics side of the sequence-classification task (`rnnkit train --task classify FILE`).
export { readClassifyFile, type ClassifyDataset, type ClassifyFormat, type Example, type ReadOptions } from './dataset.js';
export { MAX_INPUT_BYTES } from '../../io/read-bounded.js';
export { LabelSet, compareCodePoints } from './labels.js';
export { CharVocabulary, UNKNOWN_ID, type CharVocabularyJSON } from './vocab.js';
export { encodeExamples, checkMaxLen, type EncodedSet } from './encode.js';
export { stratifiedSplit, type Split } from './split.js';
export { prepareClassifyData, type ClassifyData, type ClassifyDataOptions } from './prepare.js';
export { BucketBatcher, evaluationBatches, planStats, DEFAULT_POOL_BATCHES, type BatchCursor, type ClassifyBatch, type EpochStats } from './batcher.js';
export { ConfusionMatrix, classificationMetrics, argmax, type ClassificationMetrics, type ClassMetrics } from './metrics.js';
export { loadSpamAssassin, emailContent, SPAM_ASSASSIN, SPAM_ASSASSIN_ENV, SPAM_ASSASSIN_PACKAGE, type SpamOptions, type SpamText } from './spam.js';
