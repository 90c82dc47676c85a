// The task-specific ends of the graphs: the language model's logits at every step, and the classifier's
// pooling over each sequence's valid steps followed by its head and a softmax.
import { directionsOf, outputsOf } from '../../model/config.js';
import type { Model } from '../../model/model.js';
import type { Pooling } from '../../model/classifier.js';
import type { GraphBuilder } from './graph.js';
import type { RecurrentValues } from './recurrent.js';
import { DataType } from './schema.js';

/** x [.., W] · head.weightᵀ + head.bias → [.., C]. */
function linearHead(g: GraphBuilder, model: Model, x: string, output?: string): string {
  const [C, W] = [outputsOf(model.config), directionsOf(model.config) * model.config.hidden];
  const weight = model.params.get('head.weight').data,
    transposed = new Float32Array(W * C);
  for (let c = 0; c < C; c++) for (let w = 0; w < W; w++) transposed[w * C + c] = weight[c * W + w]!;
  const product = g.op('MatMul', [x, g.floats('head.weight_transposed', [W, C], transposed)]);
  const bias = g.floats('head.bias', [C], Float32Array.from(model.params.get('head.bias').data));
  return g.node('Add', [product, bias], [output ?? g.name('logits')])[0]!;
}

export function addLanguageModelHead(g: GraphBuilder, model: Model, stack: RecurrentValues): void {
  linearHead(g, model, stack.output, 'logits');
  g.output(
    'logits',
    DataType.FLOAT,
    ['T', 'B', model.config.vocabSize],
    'next-token logits [T, B, V] after each step (meaningless past a length)',
  );
}

export function addClassifierHead(g: GraphBuilder, model: Model, stack: RecurrentValues, pool: Pooling): void {
  const logits = linearHead(g, model, poolSteps(g, stack, pool));
  g.node('Softmax', [logits], ['probabilities'], { axis: -1 });
  g.output(
    'probabilities',
    DataType.FLOAT,
    ['B', outputsOf(model.config)],
    'class probabilities [B, C] (softmax of the head)',
  );
}

/** [B, D·H] features of each sequence, as rnnkit's ClassifierWorkspace pools them. */
function poolSteps(g: GraphBuilder, stack: RecurrentValues, pool: Pooling): string {
  if (pool === 'last') {
    // The top layer's final states [D, B, H] → [B, D·H]: forward then backward, as PyTorch's h_n[-D:].
    const batchMajor = g.op('Transpose', [stack.topFinal], { perm: [1, 0, 2] });
    return g.op('Reshape', [batchMajor, g.int64s('pooled_shape', [0, -1])], {}, 'pooled');
  }
  if (pool === 'mean') {
    // The output is zero past each length, so the sum over all T steps is the sum over the valid ones.
    const sum = g.op('ReduceSum', [stack.output, g.int64s('time_axis', [0])], { keepdims: 0 });
    const lengths = g.op('Unsqueeze', [
      g.op('Cast', ['lengths'], { to: DataType.FLOAT }),
      g.int64s('feature_axis', [1]),
    ]);
    return g.op('Div', [sum, lengths], {}, 'pooled');
  }
  // max: steps past a length are −∞ (not the zeros the recurrent node writes there) before the maximum.
  const steps = g.op('Squeeze', [g.op('Shape', ['ids'], { start: 0, end: 1 })]);
  const int32 = (v: number) => g.op('Cast', [g.int64Scalar(g.name('scalar'), v)], { to: DataType.INT32 });
  const time = g.op('Range', [int32(0), g.op('Cast', [steps], { to: DataType.INT32 }), int32(1)]);
  const valid = g.op('Less', [g.op('Unsqueeze', [time, g.int64s('batch_axis', [1])]), 'lengths']); // [T, B]
  const mask = g.op('Unsqueeze', [valid, g.int64s('width_axis', [2])]);
  const masked = g.op('Where', [mask, stack.output, g.floats('minus_infinity', [], Float32Array.of(-Infinity))]);
  return g.op('ReduceMax', [masked], { axes: [0], keepdims: 0 }, 'pooled');
}
