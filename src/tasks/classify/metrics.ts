// Classification metrics from predicted and true class ids, accumulated batch by batch in a confusion
// matrix (rows = true class, columns = predicted class, as scikit-learn's confusion_matrix).
//
// Zero division, as scikit-learn with zero_division=0: precision is 0 for a class never predicted, recall
// 0 for a class with no true example, F1 = 2·TP / (2·TP + FP + FN) and 0 when that denominator is 0.
// macro_f1 averages F1 over the classes that occur among the true labels or the predictions (what
// f1_score(average='macro') does without `labels`): a class absent from both is listed in per_class with
// zeros but does not pull the average down.

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  /** True examples of the class. */
  support: number;
}

export interface ClassificationMetrics {
  /** The mean loss the caller measured over the same examples, or null. */
  loss: number | null;
  accuracy: number;
  macro_f1: number;
  examples: number;
  /** confusion[true][predicted] */
  confusion: number[][];
  per_class: ClassMetrics[];
}

export class ConfusionMatrix {
  /** [C × C] row-major, row = true class. */
  readonly counts: Float64Array;

  constructor(readonly classes: number) {
    if (!(Number.isInteger(classes) && classes >= 2))
      throw new RangeError(`ConfusionMatrix: classes must be an integer ≥ 2 but received ${classes}`);
    this.counts = new Float64Array(classes * classes);
  }

  add(predicted: number, label: number): void {
    const C = this.classes;
    if (!(Number.isInteger(predicted) && predicted >= 0 && predicted < C))
      throw new RangeError(`ConfusionMatrix.add: predicted must be a class id in [0, ${C}) but received ${predicted}`);
    if (!(Number.isInteger(label) && label >= 0 && label < C))
      throw new RangeError(`ConfusionMatrix.add: label must be a class id in [0, ${C}) but received ${label}`);
    this.counts[label * C + predicted]!++;
  }

  /** Adds a batch: `logits` [B × C] row-major, the prediction is each row's argmax. */
  addLogits(logits: ArrayLike<number>, labels: ArrayLike<number>, B: number): void {
    const C = this.classes;
    if (logits.length < B * C || labels.length < B)
      throw new RangeError(
        `ConfusionMatrix.addLogits: logits must hold B·C = ${B * C} values (has ${logits.length}) and labels B = ${B} (has ${labels.length})`,
      );
    for (let b = 0; b < B; b++) this.add(argmax(logits, b * C, C), labels[b]!);
  }

  reset(): void {
    this.counts.fill(0);
  }

  /** `labels` names the classes in id order. */
  metrics(labels: readonly string[], loss: number | null = null): ClassificationMetrics {
    const C = this.classes;
    if (labels.length !== C)
      throw new RangeError(`ConfusionMatrix.metrics: labels must name ${C} classes but has ${labels.length}`);
    const confusion = Array.from({ length: C }, (_, i) => Array.from(this.counts.subarray(i * C, (i + 1) * C)));
    let examples = 0,
      correct = 0,
      f1Sum = 0,
      present = 0;
    const per_class = labels.map((label, k) => {
      let support = 0,
        predicted = 0;
      for (let j = 0; j < C; j++) {
        support += confusion[k]![j]!;
        predicted += confusion[j]![k]!;
      }
      const tp = confusion[k]![k]!;
      const fp = predicted - tp,
        fn = support - tp;
      const f1 = ratio(2 * tp, 2 * tp + fp + fn);
      examples += support;
      correct += tp;
      if (support > 0 || predicted > 0) {
        f1Sum += f1;
        present++;
      }
      return { label, precision: ratio(tp, predicted), recall: ratio(tp, support), f1, support };
    });
    if (examples === 0) throw new RangeError('ConfusionMatrix.metrics: no examples were added');
    return { loss, accuracy: correct / examples, macro_f1: f1Sum / present, examples, confusion, per_class };
  }
}

export function classificationMetrics(
  predicted: ArrayLike<number>,
  labels: ArrayLike<number>,
  names: readonly string[],
  loss: number | null = null,
): ClassificationMetrics {
  if (predicted.length !== labels.length)
    throw new RangeError(`classificationMetrics: ${predicted.length} predictions for ${labels.length} labels`);
  const matrix = new ConfusionMatrix(names.length);
  for (let i = 0; i < labels.length; i++) matrix.add(predicted[i]!, labels[i]!);
  return matrix.metrics(names, loss);
}

/** The index of the largest of values[offset .. offset + n); the first one on ties, and NaN counts as the
 *  largest (torch.argmax). */
export function argmax(values: ArrayLike<number>, offset = 0, n = values.length - offset): number {
  let best = 0;
  for (let i = 1; i < n; i++) {
    const v = values[offset + i]!,
      top = values[offset + best]!;
    if (Number.isNaN(top)) break;
    if (v > top || Number.isNaN(v)) best = i;
  }
  return best;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** The metrics as a few aligned lines for people. */
export function formatClassificationMetrics(m: ClassificationMetrics): string {
  const names = m.per_class.map((c) => c.label);
  const width = Math.max(5, ...names.map((n) => n.length)) + 2;
  const cell = (value: string | number, w = 11): string => String(value).padStart(w);
  const lines = [
    `${m.loss === null ? '' : `loss ${m.loss.toFixed(4)}  `}accuracy ${(m.accuracy * 100).toFixed(2)} %  macro-F1 ${m.macro_f1.toFixed(4)}  (${m.examples.toLocaleString('en-US')} examples)`,
    `${'class'.padEnd(width)}${cell('precision')}${cell('recall')}${cell('F1')}${cell('support')}`,
    ...m.per_class.map(
      (c) =>
        `${c.label.padEnd(width)}${cell(c.precision.toFixed(4))}${cell(c.recall.toFixed(4))}${cell(c.f1.toFixed(4))}${cell(c.support)}`,
    ),
    'confusion matrix (rows: true class, columns: predicted)',
    `${''.padEnd(width)}${names.map((n) => cell(n)).join('')}`,
    ...m.confusion.map((row, i) => `${names[i]!.padEnd(width)}${row.map((v) => cell(v)).join('')}`),
  ];
  return lines.join('\n');
}
