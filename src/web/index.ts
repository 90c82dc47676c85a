// rnnkit/web: the browser entry point (an ES module with no Node built-ins). The WebAssembly and reference
// backends, models, training in a Web Worker (train) or in the page (MemoryTraining), sampling, classifier
// prediction (loadClassifier, classProbabilities, ClassifierStream), translation (loadTranslator), speech
// recognition (loadTranscriber), and checkpoints as bytes or Blobs: the same model.safetensors files as the CLI.
export { loadWasmBackend, wasmUrl, wasmThreads, sharedMemoryAvailable } from './wasm.js';
export type { WebWasmOptions } from './wasm.js';
export { WasmBackend, WASM_BUILDS, wasmRelaxedSimdSupported } from '../backend/wasm-backend.js';
export type { WasmBuild } from '../backend/wasm-backend.js';
export { ReferenceBackend } from '../backend/reference.js';
export { Span, CELL_KINDS } from '../backend/types.js';
export type {
  Backend,
  BackendInfo,
  BackendName,
  Buf,
  CellKind,
  FloatSpan,
  IntSpan,
  FloatArray,
} from '../backend/types.js';
export { Vocabulary } from '../data/vocab.js';
export { RnnkitError } from '../errors.js';
export type { ErrorCode } from '../errors.js';
export { Model } from '../model/model.js';
export { parameterSpecs, parameterCount, validateConfig } from '../model/config.js';
export type { ModelConfig, Cell } from '../model/config.js';
export { Workspace } from '../model/workspace.js';
export { sample, sampleMany, sampleStream, generate, TokenSampler, validateSampleOptions } from '../generate/sample.js';
export type { SampleOptions } from '../generate/sample.js';
export { evaluate, evaluateTokens } from '../train/evaluate.js';
export type { Evaluation } from '../train/evaluate.js';
export { DEFAULT_TRAIN_CONFIG, OPTIMIZERS, LR_SCHEDULES, validateTrainConfig } from '../train/config.js';
export type { TrainConfig, OptimizerName, LrSchedule } from '../train/config.js';
export type { TrainEvent, StepMetrics } from '../train/trainer.js';
export { encodeSafetensors, decodeSafetensors } from '../io/safetensors.js';
export { languageModelBytes, languageModelBlob, loadLanguageModel, loadClassifier } from './checkpoint.js';
export type { Classifier } from '../tasks/classify/classifier-file.js';
export { classProbabilities, labelOf } from '../tasks/classify/predict.js';
export { loadTranslator } from './translator.js';
export type { WebTranslator } from './translator.js';
export type { Translator } from '../tasks/seq2seq/translator-file.js';
export type { TranslateOptions, Translation, Candidate, Attention } from '../tasks/seq2seq/translate.js';
export { loadTranscriber } from './transcriber.js';
export type { WebTranscriber, WebTranscribeOptions, AudioInput, Samples } from './transcriber.js';
export type { Recogniser } from '../tasks/ctc/recogniser-file.js';
export type { Transcription, LanguageModelOption } from '../tasks/ctc/recognise.js';
export type { WordTiming } from '../speech/align.js';
export type { FeatureSettings } from '../audio/features.js';
export { ClassifierStream, ClassifierState } from '../model/classifier-stream.js';
export type { ClassifierStreamOptions } from '../model/classifier-stream.js';
export { LanguageModelStream } from '../model/lm-stream.js';
export { MemoryTraining, memoryTrainConfig, IN_MEMORY } from './trainer.js';
export type { MemoryTrainResult } from './trainer.js';
export { train } from './train.js';
export type { WebTrainOptions, WebTrainingHandle } from './train.js';
export type { WebTrainResult } from './protocol.js';
export { Random } from '../util/random.js';
