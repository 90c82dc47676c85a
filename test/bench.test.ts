// The benchmark runs end to end and reports consistent figures. Nothing is timed against a threshold:
// speed is measured by `npm run bench`, never asserted.
import { expect, it } from 'vitest';
import { BENCH_CONFIGS, formatBench, runBench, trainingFlopsPerToken } from '../src/bench/index.js';
import { builtinCorpus } from '../src/data/corpus.js';
import { Vocabulary } from '../src/data/vocab.js';
import { TESTED_BACKENDS } from './backends.js';

it('runs C1 on the wasm (2 threads, then 1) and reference backends and prints a row for each, with ratios', async () => {
  const result = await runBench({ quick: true, backends: ['wasm', 'reference'], configs: ['C1'], threads: 2 });
  expect(result.rows.map((r) => `${r.config} ${r.backend}/${r.threads}`)).toEqual([
    'C1 wasm/2',
    'C1 wasm/1',
    'C1 reference/1',
  ]);
  const [wasm, wasmOne, reference] = result.rows;
  expect(result.notes).toContain(
    `wasm C1: 2 threads train at ${(wasm!.rate / wasmOne!.rate).toFixed(2)}× the 1-thread rate.`,
  );
  const vocabSize = Vocabulary.fromText(builtinCorpus()).size;
  const flops = trainingFlopsPerToken(BENCH_CONFIGS[0]!.config, vocabSize);
  for (const row of result.rows) {
    expect(row.rate).toBeGreaterThan(0);
    expect(row.spread).toBeGreaterThanOrEqual(0);
    expect(row.gflops).toBeCloseTo((row.rate * flops) / 1e9, 6);
    expect(row.peakShare).toBeNull(); // the peak is measured by the native engine, not loaded here
  }
  const table = formatBench(result);
  const wasmLine = table.split('\n').find((line) => line.startsWith('C1      wasm'))!;
  const ratio = wasm!.rate / reference!.rate;
  expect(wasmLine).toContain(`${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(1)}×`);
  expect(table).toContain(Math.round(reference!.rate).toLocaleString('en-US'));
});

it.skipIf(!TESTED_BACKENDS.includes('native'))(
  'runs the classification configuration: real tokens/s on spread lengths and on equal ones, the padded share and their ratio',
  async () => {
    const result = await runBench({ quick: true, backends: ['native'], configs: ['K1'] });
    expect(result.rows.map((r) => r.config)).toEqual(['K1', 'K1=']);
    for (const row of result.rows) expect(row.rate).toBeGreaterThan(0);
    expect(result.notes).toContainEqual(
      expect.stringMatching(/^K1 on native: \d+\.\d % of the steps computed are padding/),
    );
    const ratio = (result.rows[0]!.rate / result.rows[1]!.rate).toFixed(2);
    expect(result.notes).toContain(
      `K1 on native: lengths 20–400 train at ${ratio}× the real-token rate of equal lengths (goal ≥ 0.8×).`,
    );
  },
  60_000,
);
