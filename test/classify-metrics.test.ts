import { describe, expect, it } from 'vitest';
import { argmax, classificationMetrics, ConfusionMatrix } from '../src/tasks/classify/metrics.js';

describe('classification metrics, checked by hand', () => {
  it('a 3-class example', () => {
    // true:      a a a a b b b c c c
    // predicted: a a b c b b a c c b
    // confusion (rows = true): a [2 1 1], b [1 2 0], c [0 1 2]
    // a: TP 2, predicted 3, support 4 → P 2/3, R 1/2, F1 = 2·2/(2·2 + 1 + 2) = 4/7
    // b: TP 2, predicted 4, support 3 → P 1/2, R 2/3, F1 = 4/(4 + 2 + 1) = 4/7
    // c: TP 2, predicted 3, support 3 → P 2/3, R 2/3, F1 = 4/(4 + 1 + 1) = 2/3
    // macro-F1 = (4/7 + 4/7 + 2/3) / 3 = (12 + 12 + 14) / 63 = 38/63 ≈ 0.6032; accuracy 6/10
    const truth = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
    const predicted = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];
    const m = classificationMetrics(predicted, truth, ['a', 'b', 'c'], 0.75);
    expect(Object.keys(m)).toEqual(['loss', 'accuracy', 'macro_f1', 'examples', 'confusion', 'per_class']);
    expect(m.loss).toBe(0.75);
    expect(m.accuracy).toBeCloseTo(0.6, 15);
    expect(m.macro_f1).toBeCloseTo(38 / 63, 15);
    expect(m.examples).toBe(10);
    expect(m.confusion).toEqual([
      [2, 1, 1],
      [1, 2, 0],
      [0, 1, 2],
    ]);
    const rounded = m.per_class.map((c) => ({
      ...c,
      precision: +c.precision.toFixed(12),
      recall: +c.recall.toFixed(12),
      f1: +c.f1.toFixed(12),
    }));
    const r = (x: number): number => +x.toFixed(12);
    expect(rounded).toEqual([
      { label: 'a', precision: r(2 / 3), recall: 0.5, f1: r(4 / 7), support: 4 },
      { label: 'b', precision: 0.5, recall: r(2 / 3), f1: r(4 / 7), support: 3 },
      { label: 'c', precision: r(2 / 3), recall: r(2 / 3), f1: r(2 / 3), support: 3 },
    ]);
  });

  it('a class with no true and no predicted example is listed with zeros but left out of macro-F1', () => {
    const m = classificationMetrics(
      [0, 0, 1, 2, 1, 1, 0, 2, 2, 1],
      [0, 0, 0, 0, 1, 1, 1, 2, 2, 2],
      ['a', 'b', 'c', 'd'],
    );
    expect(m.macro_f1).toBeCloseTo(38 / 63, 15); // as scikit-learn's f1_score(average='macro')
    expect(m.per_class[3]).toEqual({ label: 'd', precision: 0, recall: 0, f1: 0, support: 0 });
    expect(m.confusion[3]).toEqual([0, 0, 0, 0]);
    expect(m.loss).toBeNull();
  });

  it('a class predicted but never true counts in macro-F1 with F1 0; a class never predicted has precision 0', () => {
    // true a a b, predicted a c b; classes a, b, c.
    // a: TP 1, predicted 1, support 2 → P 1, R 1/2, F1 = 2/(2 + 0 + 1) = 2/3
    // b: TP 1, predicted 1, support 1 → P 1, R 1, F1 1
    // c: TP 0, predicted 1, support 0 → P 0, R 0 (0/0 → 0), F1 = 0/(0 + 1 + 0) = 0
    // macro-F1 = (2/3 + 1 + 0) / 3 = 5/9
    const m = classificationMetrics([0, 2, 1], [0, 0, 1], ['a', 'b', 'c']);
    expect(m.macro_f1).toBeCloseTo(5 / 9, 15);
    expect(m.per_class[2]).toEqual({ label: 'c', precision: 0, recall: 0, f1: 0, support: 0 });
    const never = classificationMetrics([0, 0], [0, 1], ['a', 'b']);
    // b: never predicted → P 0 (0/0), R 0, F1 0/(0 + 0 + 1) = 0; a: P 1/2, R 1, F1 2/3 → macro 1/3
    expect(never.per_class[1]).toEqual({ label: 'b', precision: 0, recall: 0, f1: 0, support: 1 });
    expect(never.macro_f1).toBeCloseTo(1 / 3, 15);
  });

  it('accumulates batches of logits: the argmax of each row, the first on ties, NaN as the largest', () => {
    const matrix = new ConfusionMatrix(3);
    // B = 3 rows of C = 3 logits
    matrix.addLogits(Float32Array.from([0.1, 2, -1, 5, 5, 0, -1, -2, -0.5]), Int32Array.from([1, 0, 2]), 3);
    matrix.addLogits([0, NaN, 9], [1], 1);
    expect(Array.from(matrix.counts)).toEqual([1, 0, 0, 0, 2, 0, 0, 0, 1]);
    expect(matrix.metrics(['x', 'y', 'z']).accuracy).toBe(1);
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([NaN, 3])).toBe(0);
    expect(argmax([9, 1, 2, 7, 8], 1, 3)).toBe(2);
    matrix.reset();
    expect(() => matrix.metrics(['x', 'y', 'z'])).toThrow('ConfusionMatrix.metrics: no examples were added');
  });

  it('refuses bad arguments with messages naming them', () => {
    const matrix = new ConfusionMatrix(2);
    expect(() => new ConfusionMatrix(1)).toThrow(
      new RangeError('ConfusionMatrix: classes must be an integer ≥ 2 but received 1'),
    );
    expect(() => matrix.add(2, 0)).toThrow(
      new RangeError('ConfusionMatrix.add: predicted must be a class id in [0, 2) but received 2'),
    );
    expect(() => matrix.add(0, -1)).toThrow(
      new RangeError('ConfusionMatrix.add: label must be a class id in [0, 2) but received -1'),
    );
    expect(() => matrix.addLogits([1, 2, 3], [0, 1], 2)).toThrow(
      new RangeError('ConfusionMatrix.addLogits: logits must hold B·C = 4 values (has 3) and labels B = 2 (has 2)'),
    );
    expect(() => matrix.metrics(['a'])).toThrow(
      new RangeError('ConfusionMatrix.metrics: labels must name 2 classes but has 1'),
    );
    expect(() => classificationMetrics([0], [0, 1], ['a', 'b'])).toThrow(
      new RangeError('classificationMetrics: 1 predictions for 2 labels'),
    );
  });
});
