// The benchmark behind `npm run bench` and `rnnkit bench`: the standard configurations C1–C4 (training
// throughput) and S3 (sampling) on every backend that loads, in one run, with GFLOP/s, the share of the
// machine's measured FP32 peak, and ratios between backends; where the CPU has AVX-512 BF16, the native
// backend again in bf16 precision for C2–C4 and S3 (share of the measured VDPBF16PS peak), its timing
// windows alternating with the fp32 ones so that the ratio is fair on a shared machine; likewise the wasm
// backend on its threads and on one thread. Nothing here is asserted by tests: speed is measured, never tested.
import { capThreads, probeBackend } from '../backend/index.js';
import { type NativeBackend, type Precision, loadNativeBackend } from '../backend/native.js';
import { WasmBackend, loadWasmBackend } from '../backend/wasm.js';
import type { Backend, BackendName } from '../backend/types.js';
import { builtinCorpus } from '../data/corpus.js';
import { Vocabulary } from '../data/vocab.js';
import { generate, samplingWorkspace } from '../generate/sample.js';
import { cellKind, parameterCount } from '../model/config.js';
import { Model } from '../model/model.js';
import { workspaceFloats } from '../model/workspace.js';
import { gatesOf } from '../backend/types.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../train/config.js';
import { Optimizer } from '../train/optimizer.js';
import { trainingStep } from '../train/trainer.js';
import { LanguageModelRun } from '../tasks/lm.js';
import type { ClassifyDataset } from '../tasks/classify/dataset.js';
import { createClassifierRun } from '../tasks/classify/task.js';
import { Random } from '../util/random.js';
import { DECODER_BENCH, DECODER_BENCH_DESCRIPTION, decoderBenchStep, decoderFlopsPerRow } from './decoder.js';
import { SEQ2SEQ_BENCH_DESCRIPTION, seq2seqBenchSteps } from './seq2seq.js';
import { SPEECH_BENCH, featureStep, transcriptionStep } from './speech.js';

export interface BenchConfig {
  name: string;
  description: string;
  config: TrainConfig;
}

const base = { ...DEFAULT_TRAIN_CONFIG, embed: 0 };
export const BENCH_CONFIGS: BenchConfig[] = [
  {
    name: 'C1',
    description: 'min-char-rnn: RNN tanh H100, one-hot, T25 B1, Adagrad, clip-value 5',
    config: { ...base },
  },
  {
    name: 'C2',
    description: 'LSTM H128, T64 B32, Adam',
    config: { ...base, cell: 'lstm', hidden: 128, seq: 64, batch: 32, optimizer: 'adam', lr: 2e-3, clipValue: 0 },
  },
  {
    name: 'C3',
    description: '2-layer LSTM H512, T64 B32, Adam, clip-norm 5',
    config: {
      ...base,
      cell: 'lstm',
      hidden: 512,
      layers: 2,
      seq: 64,
      batch: 32,
      optimizer: 'adam',
      lr: 2e-3,
      clipValue: 0,
      clipNorm: 5,
    },
  },
  {
    name: 'C4',
    description: '2-layer GRU H512, T64 B32, Adam',
    config: {
      ...base,
      cell: 'gru',
      hidden: 512,
      layers: 2,
      seq: 64,
      batch: 32,
      optimizer: 'adam',
      lr: 2e-3,
      clipValue: 0,
    },
  },
];

/** Sequence classification: lengths spread from 20 to 400, bucketed (K1), against the same model on batches
 *  of one length, the mean (K1=). Rates are real (unpadded) tokens per second. */
export const CLASSIFY_BENCH = {
  description: 'classify: bidirectional LSTM H256, embedding 32, B32, Adam, lengths 20–400 (K1) vs all 210 (K1=)',
  config: {
    ...base,
    task: 'classify',
    cell: 'lstm',
    hidden: 256,
    embed: 32,
    bidirectional: true,
    pool: 'max',
    batch: 32,
    optimizer: 'adam',
    lr: 2e-3,
    clipValue: 0,
    clipNorm: 1,
  } as TrainConfig,
  examples: 1024,
  lengths: [20, 400] as const,
};

/** Random texts over 26 letters with lengths uniform in [low, high] (or all `equal`), two classes. */
function classifyBenchData(equal: number | null): ClassifyDataset {
  const random = new Random(7);
  const [low, high] = CLASSIFY_BENCH.lengths;
  const examples = Array.from({ length: CLASSIFY_BENCH.examples }, (_, i) => {
    const length = equal ?? low + Math.floor(random.uniform() * (high - low + 1));
    const text = Array.from({ length }, () => String.fromCharCode(97 + Math.floor(random.uniform() * 26))).join('');
    return { text, label: i % 2 ? 'odd' : 'even', line: i + 1 };
  });
  return { source: 'bench', format: 'tsv', examples };
}

/** Multiply-add FLOPs of one forward step per token (matrix products only; one-hot input is a gather;
 *  a classifier's head runs once per sequence and is left out). */
export function forwardFlopsPerToken(c: TrainConfig, vocabSize: number): number {
  const GH = gatesOf(cellKind(c)) * c.hidden;
  const D = c.bidirectional ? 2 : 1;
  let flops = c.task === 'lm' ? 2 * vocabSize * c.hidden : 0; // head
  for (let l = 0; l < c.layers; l++) {
    flops += D * 2 * GH * c.hidden; // W_hh·h
    if (l > 0) flops += D * 2 * GH * D * c.hidden;
    else if (c.embed > 0) flops += D * 2 * GH * c.embed;
  }
  return flops;
}

/** Backward costs two forward products (input and weight gradients): a training token is 3× forward. */
export const trainingFlopsPerToken = (c: TrainConfig, vocabSize: number): number =>
  3 * forwardFlopsPerToken(c, vocabSize);

interface Timing {
  /** Median units per second over the windows. */
  rate: number;
  /** (fastest − slowest window) / median: how much the machine moved during the measurement. */
  spread: number;
  windows: number;
}

/** Runs `step` (which returns the units it processed) for about `seconds` (at least once); units per second. */
function timeWindow(step: () => number, seconds: number): number {
  let units = 0;
  const start = performance.now();
  do units += step();
  while (performance.now() - start < seconds * 1000);
  return units / ((performance.now() - start) / 1000);
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function timing(rates: number[]): Timing {
  const m = median(rates);
  return { rate: m, spread: (Math.max(...rates) - Math.min(...rates)) / m, windows: rates.length };
}

/** Runs `step` (which returns the units it processed) for a warm-up, then `windows` windows of at least
 *  `windowS` seconds; the median rate. */
function measure(step: () => number, windowS: number, windows: number): Timing {
  timeWindow(step, windowS / 2);
  return timing(Array.from({ length: windows }, () => timeWindow(step, windowS)));
}

/** A/B: the windows of `a` and `b` interleaved (a b, b a, a b, ...) after a warm-up of each, so that both
 *  see the same machine (on a shared one, the neighbours' load moves between windows); each one's median,
 *  and the median of the rounds' ratios b/a. */
function measurePair(
  a: () => number,
  b: () => number,
  windowS: number,
  windows: number,
): { a: Timing; b: Timing; ratio: number; inverse: number } {
  timeWindow(a, windowS / 2);
  timeWindow(b, windowS / 2);
  const ra: number[] = [],
    rb: number[] = [];
  for (let w = 0; w < windows; w++) {
    if (w % 2 === 0) {
      ra.push(timeWindow(a, windowS));
      rb.push(timeWindow(b, windowS));
    } else {
      rb.push(timeWindow(b, windowS));
      ra.push(timeWindow(a, windowS));
    }
  }
  const ratios = rb.map((r, i) => r / ra[i]!);
  return { a: timing(ra), b: timing(rb), ratio: median(ratios), inverse: median(ratios.map((r) => 1 / r)) };
}

/** The trainer's own step (src/train/trainer.ts) on a language-model run of the text. */
function trainingStepOf(
  backend: Backend,
  c: TrainConfig,
  tokens: Int32Array,
  vocab: Vocabulary,
): { step: () => number; model: Model } {
  const model = new Model(backend, { ...c, vocabSize: vocab.size });
  model.initialize(1);
  const task = new LanguageModelRun(model, vocab, c, { source: 'bench', size: tokens.length, hash: '' }, tokens);
  const optimizer = new Optimizer(backend, c, model.parameterCount);
  return { step: () => trainingStep(task, optimizer, c, c.lr).tokens, model };
}

export interface BenchRow {
  backend: BackendName;
  /** The matrix products' precision (bf16 rows: the native backend with precision bf16). */
  precision: Precision;
  simd: string;
  threads: number;
  config: string;
  /** tokens/s for training, characters/s for sampling (median window). */
  rate: number;
  /** (fastest − slowest window) / median. */
  spread: number;
  gflops: number;
  /** Share of the machine's measured FP32 (bf16 rows: VDPBF16PS) peak for this thread count, when known. */
  peakShare: number | null;
  /** bf16 rows: the median over interleaved rounds of this rate / the fp32 row's (measured A/B, in turns). */
  vsFp32?: number;
}

export interface BenchResult {
  date: string;
  node: string;
  quick: boolean;
  /** Measured FP32 FMA peak in GFLOP/s for 1 thread and for the native thread count (null without native). */
  peak: Peak | null;
  /** Measured VDPBF16PS peak (GFLOP/s, 1 and native threads); null where the CPU lacks AVX-512 BF16. */
  bf16Peak: Peak | null;
  /** Single-thread streaming read bandwidth (GB/s), for the sampling bound. */
  readBandwidthGBs: number;
  rows: BenchRow[];
  /** C3 on each backend: resident memory added by training vs. what its buffers need. */
  memory: { backend: BackendName; addedMB: number; buffersMB: number }[];
  skipped: { backend: BackendName; reason: string }[];
  notes: string[];
}

/** Streaming read bandwidth of one thread, from comparing two large equal buffers (memcmp). */
function readBandwidth(): number {
  const size = 64 << 20;
  const a = Buffer.alloc(size, 1),
    b = Buffer.alloc(size, 1);
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    a.equals(b);
    best = Math.max(best, (2 * size) / ((performance.now() - start) / 1000) / 1e9);
  }
  return best;
}

type Peak = { oneThread: number; allThreads: number; threads: number };

/** The bf16 rows: these configurations on the native backend in bf16 precision. */
const BF16_CONFIGS = ['C2', 'C3', 'C4', 'S3'];

export interface BenchOptions {
  quick?: boolean;
  backends?: BackendName[];
  configs?: string[];
  threads?: number;
  log?: (line: string) => void;
}

export async function runBench(options: BenchOptions = {}): Promise<BenchResult> {
  const quick = options.quick ?? false;
  const log = options.log ?? (() => {});
  const windowS = quick ? 0.3 : 1.5;
  const windows = quick ? 2 : 5;
  const text = builtinCorpus();
  const vocab = Vocabulary.fromText(text);
  const tokens = vocab.encode(text);
  const rows: BenchRow[] = [];
  const memory: BenchResult['memory'] = [];
  const skipped: BenchResult['skipped'] = [];
  const notes: string[] = [];
  let peak: BenchResult['peak'] = null;
  let bf16Peak: BenchResult['bf16Peak'] = null;
  const wanted = (name: string): boolean => !options.configs || options.configs.includes(name);
  const { threads, note } = capThreads(options.threads);
  if (note) {
    notes.push(`${note}.`);
    log(`rnnkit: ${note}`);
  }
  for (const name of options.backends ?? (['native', 'wasm', 'reference'] as BackendName[])) {
    const probe = await probeBackend(name, { threads, precision: 'fp32' }); // bf16 rows: in turns, below
    if (!probe.loaded) {
      skipped.push({ backend: name, reason: probe.reason });
      continue;
    }
    const backend = probe.backend;
    const info = probe.info;
    if (name === 'native') {
      const native = backend as NativeBackend;
      if (typeof native.measurePeakGflops === 'function') {
        peak = {
          oneThread: native.measurePeakGflops(1, 300),
          allThreads: native.measurePeakGflops(info.threads, 300),
          threads: info.threads,
        };
        log(
          `peak FP32 FMA: ${peak.oneThread.toFixed(0)} GFLOP/s on 1 thread, ${peak.allThreads.toFixed(0)} on ${info.threads}`,
        );
      }
    }
    const peakFor = (threads: number): number | null =>
      peak ? (threads === 1 ? peak.oneThread : peak.allThreads) : null;
    // The native backend in bf16 (where the CPU has it): its rows are measured in turns with the fp32 ones.
    let pair: BenchPair | null = null;
    if (name === 'native') {
      const bf16 = (backend as NativeBackend).precisions().find((p) => p.name === 'bf16')!;
      if (!bf16.available) {
        notes.push(`native bf16 rows: not measured (${bf16.reason}).`);
      } else {
        const bfBackend = loadNativeBackend({ threads: info.threads, precision: 'bf16' });
        const bfPeak: Peak = {
          oneThread: bfBackend.measureBf16PeakGflops(1, 300),
          allThreads: bfBackend.measureBf16PeakGflops(info.threads, 300),
          threads: info.threads,
        };
        bf16Peak = bfPeak;
        log(
          `peak VDPBF16PS: ${bfPeak.oneThread.toFixed(0)} GFLOP/s on 1 thread, ${bfPeak.allThreads.toFixed(0)} on ${info.threads}`,
        );
        pair = {
          backend: bfBackend,
          configs: BF16_CONFIGS.filter(wanted),
          peakFor: (threads) => (threads === 1 ? bfPeak.oneThread : bfPeak.allThreads),
          rows: [],
          kind: 'bf16',
        };
      }
    }
    // The wasm backend on threads: its training rows are measured in turns with a fresh one-thread backend's,
    // so that the gain of the threads is measured on the same machine state (goal: C3 on 2 threads >= 1.7×).
    const training = BENCH_CONFIGS.map((b) => b.name).filter(wanted);
    if (backend instanceof WasmBackend && info.threads === 1) notes.push(`wasm: ${backend.threadsReason}.`);
    else if (backend instanceof WasmBackend && training.length > 0)
      pair = {
        backend: await loadWasmBackend({ threads: 1 }),
        configs: training,
        peakFor: () => null,
        rows: [],
        kind: 'one thread',
      };
    const configs = (
      name === 'reference' ? ['C1'] : [...BENCH_CONFIGS.map((b) => b.name), 'K1', 'S3', 'D1', 'D2', 'X1', 'X5', 'A2']
    ).filter(wanted);
    const ctxOf = (): BenchContext => ({ tokens, vocab, windowS, windows, quick, memory, notes, log });
    rows.push(...benchBackend(backend, configs, peakFor, ctxOf(), pair));
    if (pair) rows.push(...pair.rows);
    // Its worker threads end here (the native backends' pools idle without a cost).
    for (const done of [backend, pair?.backend]) if (done instanceof WasmBackend) done.dispose();
  }
  if (wanted('A1')) {
    const { rate, spread } = measure(featureStep(), windowS, windows);
    rows.push({
      backend: 'reference',
      precision: 'fp32',
      simd: 'js',
      threads: 1,
      config: 'A1',
      rate,
      spread,
      gflops: 0,
      peakShare: null,
    });
    log(`A1 (features): ${Math.round(rate).toLocaleString('en-US')}× real time`);
  }
  const readBandwidthGBs = readBandwidth();
  const c3Bytes = parameterCount({ ...BENCH_CONFIGS[2]!.config, vocabSize: vocab.size }) * 4;
  notes.push(
    `S3 reads the ${(c3Bytes / 1e6).toFixed(1)} MB of C3 weights per character (half in bf16): one thread's measured read bandwidth (${readBandwidthGBs.toFixed(1)} GB/s) bounds it near ${Math.round((readBandwidthGBs * 1e9) / c3Bytes).toLocaleString('en-US')} chars/s unless the weights stay in cache.`,
  );
  return {
    date: new Date().toISOString(),
    node: process.version,
    quick,
    peak,
    bf16Peak,
    readBandwidthGBs,
    rows,
    memory,
    skipped,
    notes,
  };
}

/** A second backend whose rows are measured in turns with the first one's (benchBackend fills `rows`): the
 *  native backend in bf16, or the wasm backend on one thread beside its threaded self. */
interface BenchPair {
  backend: Backend;
  configs: string[];
  peakFor: (threads: number) => number | null;
  rows: BenchRow[];
  kind: 'bf16' | 'one thread';
}

interface BenchContext {
  tokens: Int32Array;
  vocab: Vocabulary;
  windowS: number;
  windows: number;
  quick: boolean;
  /** Where C3's memory use is recorded (training only). */
  memory: BenchResult['memory'];
  notes: string[];
  log: (line: string) => void;
}

/** The rows of one backend (fp32) for the named configurations (C1–C4, K1, S3); with `pair`, its
 *  configurations also on the pair's backend (bf16, or one thread), measured in turns (pair.rows). */
function benchBackend(
  backend: Backend,
  configs: string[],
  peakFor: (threads: number) => number | null,
  ctx: BenchContext,
  pair: BenchPair | null = null,
): BenchRow[] {
  const { tokens, vocab, windowS, windows, quick, log } = ctx;
  const info = backend.info();
  const name = info.name;
  const rows: BenchRow[] = [];
  const row = (precision: Precision, config: string, t: Timing, gflops: number, peak: number | null): BenchRow => ({
    backend: name,
    precision,
    simd: info.simd,
    threads: info.threads,
    config,
    rate: t.rate,
    spread: t.spread,
    gflops,
    peakShare: peak ? gflops / peak : null,
  });
  /** Times `step` (and `pairStep` in turns, when given) and records the rows; `flops` per unit. */
  const record = (config: string, step: () => number, pairStep: (() => number) | null, flops: number): void => {
    const unit = config === 'S3' ? 'chars/s' : 'tokens/s';
    if (!pairStep || !pair) {
      const t = measure(step, windowS, windows);
      rows.push(row('fp32', config, t, (t.rate * flops) / 1e9, peakFor(info.threads)));
      log(
        `${name} ${config}: ${Math.round(t.rate).toLocaleString('en-US')} ${unit}, ${((t.rate * flops) / 1e9).toFixed(1)} GFLOP/s`,
      );
      return;
    }
    const { a, b, ratio, inverse } = measurePair(step, pairStep, windowS, windows);
    const rate = (t: Timing): string => `${Math.round(t.rate).toLocaleString('en-US')} ${unit}`;
    rows.push(row('fp32', config, a, (a.rate * flops) / 1e9, peakFor(info.threads)));
    if (pair.kind === 'bf16') {
      pair.rows.push({ ...row('bf16', config, b, (b.rate * flops) / 1e9, pair.peakFor(info.threads)), vsFp32: ratio });
      log(`${name} ${config}: fp32 ${rate(a)}, bf16 ${rate(b)} (${ratio.toFixed(2)}× in turns)`);
      return;
    }
    pair.rows.push({ ...row('fp32', config, b, (b.rate * flops) / 1e9, null), threads: 1 });
    const goal = config === 'C3' ? ' (goal ≥ 1.7× on 2 threads)' : '';
    ctx.notes.push(
      `${name} ${config}: ${info.threads} threads train at ${inverse.toFixed(2)}× the 1-thread rate (the median of the rounds' ratios, their windows in turns)${goal}.`,
    );
    log(`${name} ${config}: ${info.threads} threads ${rate(a)}, 1 thread ${rate(b)} (${inverse.toFixed(2)}× in turns)`);
  };
  const paired = (config: string): boolean => pair !== null && pair.configs.includes(config);
  for (const bench of BENCH_CONFIGS.filter((b) => configs.includes(b.name))) {
    const rssBefore = process.memoryUsage().rss;
    const { step, model } = trainingStepOf(backend, bench.config, tokens, vocab);
    if (bench.name === 'C3') {
      step(); // the first step allocates what training needs
      // Parameters, gradients, Adam's two moments, and the activations of one chunk.
      const floats = 4 * model.parameterCount + workspaceFloats(model.config, bench.config.seq, bench.config.batch);
      ctx.memory.push({
        backend: name,
        addedMB: (process.memoryUsage().rss - rssBefore) / 2 ** 20,
        buffersMB: (floats * 4) / 2 ** 20,
      });
    }
    const pairStep = paired(bench.name) ? trainingStepOf(pair!.backend, bench.config, tokens, vocab).step : null;
    record(bench.name, step, pairStep, trainingFlopsPerToken(bench.config, vocab.size));
  }
  if (configs.includes('K1')) {
    const c = CLASSIFY_BENCH.config;
    const rates: number[] = [];
    for (const equal of [null, 210]) {
      const task = createClassifierRun(classifyBenchData(equal), c, backend);
      const optimizer = new Optimizer(backend, c, task.model.parameterCount);
      const t = measure(() => trainingStep(task, optimizer, c, c.lr).tokens, windowS, windows);
      const gflops = (t.rate * trainingFlopsPerToken(c, task.summary.vocabSize)) / 1e9;
      rows.push(row('fp32', equal === null ? 'K1' : 'K1=', t, gflops, peakFor(info.threads)));
      const rate = t.rate;
      if (equal === null)
        ctx.notes.push(
          `K1 on ${name}: ${(task.paddedShare * 100).toFixed(1)} % of the steps computed are padding (bucketed batches).`,
        );
      rates.push(rate);
    }
    ctx.notes.push(
      `K1 on ${name}: lengths 20–400 train at ${(rates[0]! / rates[1]!).toFixed(2)}× the real-token rate of equal lengths (goal ≥ 0.8×).`,
    );
    log(
      `${name} K1: ${Math.round(rates[0]!).toLocaleString('en-US')} real tokens/s (${(rates[0]! / rates[1]!).toFixed(2)}× equal lengths)`,
    );
  }
  if (configs.includes('S3')) {
    const c3 = BENCH_CONFIGS.find((b) => b.name === 'C3')!.config;
    const length = quick ? 200 : 1000;
    const sampling = (on: Backend): (() => number) => {
      const model = new Model(on, { ...c3, vocabSize: vocab.size });
      model.initialize(1);
      const workspace = samplingWorkspace(model);
      return () => {
        for (const chars of generate(model, vocab, { length, temperature: 1, seed: 1 }, workspace)) void chars;
        return length;
      };
    };
    record(
      'S3',
      sampling(backend),
      paired('S3') ? sampling(pair!.backend) : null,
      forwardFlopsPerToken(c3, vocab.size),
    );
  }
  for (const config of (['D1', 'D2'] as const).filter((c) => configs.includes(c))) {
    const shape = DECODER_BENCH[config];
    const t = measure(decoderBenchStep(backend, shape, config === 'D1'), windowS, windows);
    const gflops = (t.rate * decoderFlopsPerRow(shape) * (config === 'D1' ? 3 : 1)) / 1e9;
    rows.push(row('fp32', config, t, gflops, peakFor(info.threads)));
    log(`${name} ${config}: ${Math.round(t.rate).toLocaleString('en-US')} rows/s, ${gflops.toFixed(1)} GFLOP/s`);
  }
  const seq2seq = ['X1', 'X5'].some((c) => configs.includes(c)) ? seq2seqBenchSteps(backend) : null;
  for (const config of (['X1', 'X5'] as const).filter((c) => configs.includes(c))) {
    const t = measure(config === 'X1' ? seq2seq!.train : seq2seq!.beam, windowS, windows);
    const flops = config === 'X1' ? seq2seq!.trainFlopsPerToken : seq2seq!.beamFlopsPerWord();
    rows.push(row('fp32', config, t, (t.rate * flops) / 1e9, peakFor(info.threads)));
    log(`${name} ${config}: ${Math.round(t.rate).toLocaleString('en-US')} ${config === 'X1' ? 'tokens' : 'words'}/s`);
  }
  if (configs.includes('A2')) {
    const { step, flopsPerSecond } = transcriptionStep(backend);
    const t = measure(step, windowS, windows);
    const gflops = (t.rate * flopsPerSecond) / 1e9;
    rows.push(row('fp32', 'A2', t, gflops, peakFor(info.threads)));
    log(`${name} A2: ${Math.round(t.rate).toLocaleString('en-US')}× real time (transcription)`);
  }
  return rows;
}

/** The table people read: one row per configuration and backend, ratios against the slowest contender. */
export function formatBench(result: BenchResult): string {
  const lines: string[] = [];
  lines.push(`rnnkit bench (${result.quick ? 'quick' : 'full'}) ${result.date.slice(0, 10)}, Node ${result.node}`);
  if (result.peak)
    lines.push(
      `measured FP32 FMA peak: ${result.peak.oneThread.toFixed(0)} GFLOP/s (1 thread), ${result.peak.allThreads.toFixed(0)} GFLOP/s (${result.peak.threads} threads)`,
    );
  if (result.bf16Peak)
    lines.push(
      `measured VDPBF16PS peak: ${result.bf16Peak.oneThread.toFixed(0)} GFLOP/s (1 thread), ${result.bf16Peak.allThreads.toFixed(0)} GFLOP/s (${result.bf16Peak.threads} threads)`,
    );
  lines.push('');
  lines.push(
    'config  backend    simd/threads        tokens/s  spread   GFLOP/s  % peak   vs wasm   vs reference   vs fp32',
  );
  const find = (config: string, backend: BackendName): BenchRow | undefined =>
    result.rows.find((r) => r.config === config && r.backend === backend && r.precision === 'fp32');
  for (const row of result.rows) {
    const wasm = find(row.config, 'wasm'),
      ref = find(row.config, 'reference');
    const ratio = (other: BenchRow | undefined): string => {
      if (!other || other === row) return '';
      const r = row.rate / other.rate;
      return `${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toPrecision(2)}×`;
    };
    const fp32 = row.precision === 'bf16' ? find(row.config, row.backend) : undefined;
    const vsFp32 = row.vsFp32 !== undefined ? `${row.vsFp32.toFixed(2)}×` : ratio(fp32);
    const simd = row.precision === 'bf16' ? `${row.simd}+bf16` : row.simd;
    lines.push(
      `${row.config.padEnd(7)} ${row.backend.padEnd(10)} ${`${simd}/${row.threads}`.padEnd(16)} ${Math.round(row.rate).toLocaleString('en-US').padStart(11)} ${`${(row.spread * 100).toFixed(0)}%`.padStart(7)} ${row.gflops.toFixed(1).padStart(9)} ${row.peakShare === null ? '    –' : `${(row.peakShare * 100).toFixed(0).padStart(5)}%`} ${ratio(wasm).padStart(9)} ${ratio(ref).padStart(14)} ${vsFp32.padStart(9)}`,
    );
  }
  lines.push('');
  lines.push(
    'C1–C4: training tokens/s (B·T tokens per optimizer step, median of timed windows after a warm-up); S3: characters/s sampled from the C3 model, batch 1.',
  );
  lines.push(
    "+bf16: the native backend with --precision bf16 (bf16 operands, fp32 accumulation; % of the VDPBF16PS peak); its windows alternate with the fp32 row's (A/B in turns, so both see the same load); vs fp32: the median of the rounds' bf16/fp32 ratios.",
  );
  lines.push(
    'spread: (fastest − slowest window) / median, how much the rate moved between windows (on a shared machine, mostly the neighbours).',
  );
  for (const b of BENCH_CONFIGS) lines.push(`  ${b.name}: ${b.description}`);
  lines.push(`  K1, K1=: ${CLASSIFY_BENCH.description}; real (unpadded) tokens/s`);
  lines.push(`  ${DECODER_BENCH_DESCRIPTION}`);
  lines.push(`  ${SEQ2SEQ_BENCH_DESCRIPTION}`);
  lines.push(`  A1: ${SPEECH_BENCH.A1} (the tokens/s column)`, `  A2: ${SPEECH_BENCH.A2} (the tokens/s column)`);
  for (const m of result.memory)
    lines.push(
      `C3 on ${m.backend}: training added ${m.addedMB.toFixed(0)} MB of resident memory; its buffers need ${m.buffersMB.toFixed(0)} MB (${(m.addedMB / m.buffersMB).toFixed(2)}×).`,
    );
  for (const note of result.notes) lines.push(note);
  for (const s of result.skipped) lines.push(`${s.backend}: not loaded (${s.reason})`);
  return lines.join('\n');
}
