// The public API. A model is an input layer, a recurrent stack and a head; the character model is one case.
export { selectBackend, probeBackend, describeBackend, BACKEND_NAMES } from './backend/index.js';
export type { BackendOptions, BackendProbe, SelectedBackend } from './backend/index.js';
export { ReferenceBackend } from './backend/reference.js';
export { loadNativeBackend } from './backend/native.js';
export { loadWasmBackend } from './backend/wasm.js';
export { Span, gatesOf, cacheWidth, CELL_KINDS } from './backend/types.js';
export type {
  Backend,
  BackendInfo,
  BackendName,
  Buf,
  CellKind,
  Dtype,
  FloatSpan,
  IntSpan,
  FloatArray,
} from './backend/types.js';
export { Vocabulary } from './data/vocab.js';
export { Batcher } from './data/batcher.js';
export { builtinCorpus, readText } from './data/corpus.js';
export { RnnkitError } from './errors.js';
export type { ErrorCode } from './errors.js';
export { Model, ParameterArena } from './model/model.js';
export type { InitScheme } from './model/model.js';
export { INIT_SCHEMES } from './model/init.js';
export { RegressorWorkspace } from './model/regressor.js';
export { parameterSpecs, parameterCount, validateConfig, directionsOf, outputsOf } from './model/config.js';
export type { ModelConfig, Cell, Nonlinearity, ParamSpec } from './model/config.js';
export { Workspace } from './model/workspace.js';
export { RecurrentStack, stackFloats } from './model/stack.js';
export type { StackInput, StackOptions, StackForwardOptions } from './model/stack.js';
export { ClassifierWorkspace, POOLINGS } from './model/classifier.js';
export { RecurrentState } from './model/state.js';
export { LanguageModelStream } from './model/lm-stream.js';
export type { LanguageModelStreamOptions } from './model/lm-stream.js';
export { ClassifierStream, ClassifierState } from './model/classifier-stream.js';
export type { ClassifierStreamOptions } from './model/classifier-stream.js';
export { exportOnnx, checkpointToOnnx } from './export/onnx/index.js';
export type { Pooling, ClassifierOptions } from './model/classifier.js';
export { loadClassifier, saveClassifier } from './tasks/classify/model-file.js';
export type { Classifier } from './tasks/classify/model-file.js';
export { classProbabilities, labelOf, evaluateClassifier } from './tasks/classify/predict.js';
export { readClassifyFile } from './tasks/classify/dataset.js';
export type { ClassifyDataset, Example } from './tasks/classify/dataset.js';
export type { ClassificationMetrics } from './tasks/classify/metrics.js';
export { saveModel, loadModel, saveModelFile, loadModelFile, checkpointTask } from './io/checkpoint.js';
export { encodeSafetensors, decodeSafetensors } from './io/safetensors.js';
export { runTraining, resumeTraining } from './tasks/index.js';
export type { TrainRequest } from './tasks/index.js';
export { TASK_NAMES } from './tasks/task.js';
export type { TaskName, TaskRun, Validation, DataSource, DataSummary } from './tasks/task.js';
export { train } from './train/handle.js';
export type { TrainOptions, TrainingHandle } from './train/handle.js';
export type { TrainResult, TrainEvent, StepMetrics } from './train/trainer.js';
export { DEFAULT_TRAIN_CONFIG, OPTIMIZERS, LR_SCHEDULES, validateTrainConfig } from './train/config.js';
export type { TrainConfig, OptimizerName, LrSchedule, ShapeOptions } from './train/config.js';
export { learningRate } from './train/schedule.js';
export { evaluate, evaluateTokens } from './train/evaluate.js';
export type { Evaluation } from './train/evaluate.js';
export { Optimizer, clipGradients } from './train/optimizer.js';
export {
  sample,
  sampleMany,
  sampleStream,
  generate,
  generateFrom,
  TokenSampler,
  validateSampleOptions,
} from './generate/sample.js';
export type { SampleOptions } from './generate/sample.js';
export { Random } from './util/random.js';
export {
  ADDING_BASELINE,
  copyBaseline,
  copySteps,
  addingBatch,
  copyBatch,
  batchRandom,
} from './tasks/synthetic/generate.js';
export { loadSyntheticModel, saveSyntheticModel } from './tasks/synthetic/model-file.js';
export type { SyntheticModel, SyntheticTask } from './tasks/synthetic/model-file.js';
export { evaluateSynthetic } from './tasks/synthetic/evaluate.js';
export type { SyntheticScore } from './tasks/synthetic/evaluate.js';
export { measureGradflow } from './tasks/synthetic/gradflow.js';
export type { GradflowMeasurement } from './tasks/synthetic/gradflow.js';
export { readGradflow, GRADFLOW_FILE } from './train/gradflow.js';
export type { GradflowRow } from './train/gradflow.js';
