// The bar line fits the terminal: the graphic shrinks and goes first, the numbers stay.
import { describe, expect, it } from 'vitest';
import { type BarFields, barLine } from '../src/cli/bar-line.js';

const fields: BarFields = {
  step: 500,
  steps: 1000,
  train: 2.5,
  val: 2.75,
  accuracy: null,
  unit: 'bpc',
  rate: '12,345',
  eta: '1m05s',
  skipped: 0,
};

describe('barLine', () => {
  it('at 130 columns: a 40-character graphic and every field', () => {
    const line = barLine(fields, 130);
    expect(line).toBe(
      `step 500/1000 ${'\u2588'.repeat(20)}${'\u2591'.repeat(20)} 50% | train 2.5000 bpc | val 2.7500 bpc | 12,345 tok/s | ETA 1m05s`,
    );
  });

  it('narrower: a shorter graphic, then none, then the compact form; never longer than the width less one', () => {
    for (const width of [100, 90, 80, 70, 60, 50, 40]) expect(barLine(fields, width).length).toBeLessThan(width);
    expect(barLine(fields, 100)).toMatch(/^step 500\/1000 \u2588{9}\u2591{9} 50% \| train/);
    expect(barLine(fields, 85)).toBe(
      'step 500/1000 50% | train 2.5000 bpc | val 2.7500 bpc | 12,345 tok/s | ETA 1m05s',
    );
    expect(barLine(fields, 60)).toBe('500/1000 train 2.500 val 2.750 bpc 12,345 tok/s ETA 1m05s');
    expect(barLine(fields, 40)).toBe('500/1000 train 2.500 val 2.750 bpc 12,3');
  });

  it('unknown values are "–"; skipped steps and accuracy are shown', () => {
    expect(barLine({ ...fields, train: null, val: null, rate: '–', eta: '–' }, 200)).toMatch(
      /\| train – \| val – \| – tok\/s \| ETA –$/,
    );
    expect(barLine({ ...fields, unit: 'nats', accuracy: 0.9, skipped: 3 }, 200)).toMatch(
      /\| val 2\.7500 nats, accuracy 0\.9000 \| 12,345 tok\/s \| ETA 1m05s \| 3 skipped$/,
    );
  });
});
