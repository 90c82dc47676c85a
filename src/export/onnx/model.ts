// A whole ONNX model of an rnnkit checkpoint: the graph of its task, opset and IR version, and the
// checkpoint's metadata (task, vocabulary, labels, …) as metadata_props, encoded as protobuf bytes.
import type { Pooling } from '../../model/classifier.js';
import type { Model } from '../../model/model.js';
import { GraphBuilder } from './graph.js';
import { addClassifierHead, addLanguageModelHead } from './heads.js';
import { addRecurrentLayers, addStateOutputs } from './recurrent.js';
import { ModelProto } from './schema.js';

/** ONNX opset 17 (ONNX 1.12, 2022): every operator used here has the form this file writes. */
export const OPSET = 17;
const IR_VERSION = 8;

export type OnnxTask = { task: 'lm' } | { task: 'classify'; pool: Pooling };

/** The ONNX file's bytes for `model` of `task`; `metadata` becomes metadata_props (values JSON-encoded
 *  unless they are strings). */
export function onnxModelBytes(
  model: Model,
  task: OnnxTask,
  metadata: Record<string, unknown>,
  producerVersion: string,
): Uint8Array {
  const g = new GraphBuilder();
  const stack = addRecurrentLayers(g, model);
  if (task.task === 'lm') addLanguageModelHead(g, model, stack);
  else addClassifierHead(g, model, stack, task.pool);
  addStateOutputs(g, model.config);
  const metadataProps = Object.entries(metadata).map(([key, value]) => ({
    key,
    value: typeof value === 'string' ? value : JSON.stringify(value),
  }));
  const message = ModelProto.fromObject({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'rnnkit',
    producerVersion,
    docString: `rnnkit ${task.task === 'lm' ? 'character language model' : 'sequence classifier'} (${model.config.cell}, ${model.config.layers} layer(s))`,
    graph: {
      name: `rnnkit_${task.task}`,
      node: g.nodes,
      initializer: g.initializers,
      input: g.inputs,
      output: g.outputs,
    },
    metadataProps,
  });
  return ModelProto.encode(message).finish();
}
