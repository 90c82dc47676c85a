// The benchmark runs end to end and reports consistent figures. Nothing is timed against a threshold:
// speed is measured by `npm run bench`, never asserted.
import { expect, it } from 'vitest';
import { BENCH_CONFIGS, formatBench, runBench, trainingFlopsPerToken } from '../src/bench/index.js';
import { builtinCorpus } from '../src/data/corpus.js';
import { Vocabulary } from '../src/data/vocab.js';
import { TESTED_BACKENDS } from './backends.js';

it('runs C1 on the wasm (2 threads and 1, in turns) and reference backends and prints a row for each, with ratios', async () => {
  const result = await runBench({ quick: true, backends: ['wasm', 'reference'], configs: ['C1'], threads: 2 });
  expect(result.rows.map((r) => `${r.config} ${r.backend}/${r.threads}`)).toEqual([
    'C1 wasm/2',
    'C1 wasm/1',
    'C1 reference/1',
  ]);
  const [wasm, , reference] = result.rows;
  // Measured in turns with the threaded windows: the median of the rounds' ratios, not a ratio of two medians.
  expect(result.notes).toContainEqual(
    expect.stringMatching(
      /^wasm C1: 2 threads train at \d+\.\d\d× the 1-thread rate \(the median of the rounds' ratios, their windows in turns\)\.$/,
    ),
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

it('runs the speech rows: features (A1, once) and transcription (A2, per backend) in seconds of audio per second', async () => {
  const result = await runBench({ quick: true, backends: ['wasm'], configs: ['A1', 'A2'] });
  expect(result.rows.map((r) => `${r.config} ${r.backend}`)).toEqual(['A2 wasm', 'A1 reference']);
  for (const row of result.rows) expect(row.rate).toBeGreaterThan(0);
  expect(result.rows[1]!.gflops).toBe(0); // features: no matrix products counted
  expect(result.rows[0]!.gflops).toBeGreaterThan(0);
  const table = formatBench(result);
  expect(table).toMatch(/^A1 +reference +js\/1 /m);
  expect(table).toContain('A2: transcription of 8 utterances of 2.5 s');
}, 60_000);
it.skipIf(!TESTED_BACKENDS.includes('native'))(
  'measures the native bf16 rows in turns with the fp32 ones (or says why not), with the rounds’ median ratio',
  async () => {
    const result = await runBench({ quick: true, backends: ['native'], configs: ['C2'] });
    const bf16 = result.rows.find((r) => r.precision === 'bf16');
    if (!result.bf16Peak) {
      expect(bf16).toBeUndefined();
      expect(result.notes).toContainEqual(expect.stringMatching(/^native bf16 rows: not measured \(.+\)\.$/));
      return;
    }
    expect(result.rows.map((r) => `${r.config} ${r.precision}`)).toEqual(['C2 fp32', 'C2 bf16']);
    expect(bf16!.vsFp32).toBeGreaterThan(0);
    const line = formatBench(result)
      .split('\n')
      .find((l) => l.startsWith('C2      native     avx512+bf16'))!;
    expect(line.endsWith(`${bf16!.vsFp32!.toFixed(2)}×`)).toBe(true);
  },
  60_000,
);
