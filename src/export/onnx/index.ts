// `rnnkit export DIR --onnx FILE`: the checkpoint's model as an ONNX file for ONNX Runtime and other
// runtimes, for every task that has an ONNX graph (the character language model and the classifier).
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { ReferenceBackend } from '../../backend/reference.js';
import { invalidInput, invalidOption } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { checkpointTask, loadModel } from '../../io/checkpoint.js';
import type { ModelConfig } from '../../model/config.js';
import { loadClassifier } from '../../tasks/classify/model-file.js';
import { type OnnxTask, onnxModelBytes } from './model.js';

export const ONNX_TASKS = ['lm', 'classify'] as const;

/** The model's shape, as the checkpoint's metadata states it. */
const shapeOf = (c: ModelConfig) => ({
  cell: c.cell,
  nonlinearity: c.nonlinearity,
  hidden: c.hidden,
  layers: c.layers,
  embed: c.embed,
  bidirectional: c.bidirectional ?? false,
});

/** The ONNX bytes of the checkpoint in `dir`. */
export function checkpointToOnnx(dir: string, producerVersion: string): Uint8Array {
  const task = checkpointTask(dir);
  const backend = new ReferenceBackend(); // only holds the weights
  if (task === 'lm') {
    const { model, vocab } = loadModel(dir, backend);
    return onnxModelBytes(
      model,
      { task: 'lm' },
      { task, vocab: [...vocab.chars], ...shapeOf(model.config) },
      producerVersion,
    );
  }
  if (task === 'classify') {
    const c = loadClassifier(dir, backend);
    const onnxTask: OnnxTask = { task: 'classify', pool: c.pool };
    const metadata = {
      task,
      vocab: c.vocab.toJSON(),
      labels: c.labels.labels,
      pool: c.pool,
      max_len: c.maxLen,
      ...shapeOf(c.model.config),
    };
    return onnxModelBytes(c.model, onnxTask, metadata, producerVersion);
  }
  throw invalidInput(
    `${dir} holds a model of task ${task}, which has no ONNX export yet (tasks with one: ${ONNX_TASKS.join(', ')})`,
  );
}

/** Writes the ONNX file of the checkpoint in `dir` to `file` (an existing file only with force). */
export function exportOnnx(
  dir: string,
  file: string,
  options: { force?: boolean; producerVersion?: string } = {},
): void {
  if (existsSync(file) && statSync(file).isDirectory())
    throw invalidOption(`--onnx ${file} is a directory; give the path of the .onnx file to write`);
  if (existsSync(file) && !options.force) throw invalidOption(`${file} already exists (add --force to replace it)`);
  const parent = dirname(file);
  if (!existsSync(parent) || !statSync(parent).isDirectory())
    throw invalidOption(`cannot write ${file}: the directory ${parent} does not exist`);
  const bytes = checkpointToOnnx(dir, options.producerVersion ?? '');
  try {
    writeFileAtomic(file, bytes);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw invalidInput(
      `cannot write ${file}: ${e.code === 'EACCES' || e.code === 'EPERM' ? 'permission denied' : e.code === 'EROFS' ? 'read-only file system' : e.message}`,
    );
  }
}
