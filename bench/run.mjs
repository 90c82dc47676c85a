#!/usr/bin/env node
// `npm run bench`: training throughput (tokens/s) and GEMM speed (GFLOP/s) on every backend that loads,
// in one run, with ratios against the reference backend. Uses the built dist/ (npm install builds it).
// Options: --quick (shorter windows), --json (one JSON object).
import { builtinCorpus, DEFAULT_TRAIN_CONFIG, probeBackend, Span, Vocabulary, Model, Workspace, Batcher, Optimizer, clipGradients } from '../dist/index.js';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const WINDOW_S = quick ? 0.5 : 2;
const WINDOWS = quick ? 3 : 5;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `fn` repeatedly for WINDOWS windows of WINDOW_S seconds after a warm-up; returns the median rate of `units` per second. */
function measure(fn, units) {
  const warmEnd = performance.now() + WINDOW_S * 300;
  while (performance.now() < warmEnd) fn();
  const rates = [];
  for (let w = 0; w < WINDOWS; w++) {
    let n = 0;
    const start = performance.now();
    do { fn(); n++; } while (performance.now() - start < WINDOW_S * 1000);
    rates.push((n * units) / ((performance.now() - start) / 1000));
  }
  return median(rates);
}

/** C1, min-char-rnn: tanh RNN, H 100, one-hot, T 25, B 1, Adagrad 0.1, clip-value 5. Tokens/s. */
function trainingThroughput(backend, text) {
  const c = { ...DEFAULT_TRAIN_CONFIG };
  const vocab = Vocabulary.fromText(text);
  const model = new Model(backend, { ...c, vocabSize: vocab.size });
  model.initialize(1);
  const ws = new Workspace(model, c.seq, c.batch);
  const batcher = new Batcher(vocab.encode(text), c.batch, c.seq);
  const optimizer = new Optimizer(backend, c, model.parameterCount);
  const step = () => {
    if (batcher.next(ws.ids.data, ws.targets.data)) ws.resetState();
    ws.forward(c.seq);
    model.zeroGrads();
    ws.backward(c.seq);
    clipGradients(backend, model.grads.all, c.clipValue, 0);
    optimizer.step(model.params.all, model.grads.all, c.lr);
  };
  return measure(step, c.seq * c.batch);
}

/** GEMM C[M,N] = A[M,K]·B[N,K]ᵀ (the shape of h·W_hhᵀ) in GFLOP/s. */
function gemmSpeed(backend, M, N, K) {
  const span = (n) => {
    const s = Span.of(backend.allocFloat(n));
    const d = s.data;
    for (let i = 0; i < n; i++) d[i] = Math.sin(i);
    return s;
  };
  const A = span(M * K), B = span(N * K), C = span(M * N);
  return measure(() => backend.gemm(false, true, M, N, K, 1, A, B, 0, C), 2 * M * N * K) / 1e9;
}

const text = builtinCorpus().slice(0, 200_000);
const rows = [];
for (const name of ['native', 'wasm', 'reference']) {
  const probe = await probeBackend(name);
  if (!probe.loaded) {
    rows.push({ backend: name, loaded: false, reason: probe.reason });
    continue;
  }
  const { backend } = probe;
  const small = name === 'reference';
  rows.push({
    backend: name, loaded: true, simd: probe.info.simd, threads: probe.info.threads,
    c1_tokens_per_s: trainingThroughput(backend, text),
    gemm_gflops: gemmSpeed(backend, 32, small ? 256 : 2048, small ? 128 : 512),
    gemm_shape: small ? 'M32 N256 K128' : 'M32 N2048 K512',
  });
}

const ref = rows.find((r) => r.backend === 'reference' && r.loaded);
const result = { date: new Date().toISOString(), node: process.version, quick, rows };
if (args.has('--json')) {
  console.log(JSON.stringify(result));
} else {
  console.log(`rnnkit bench (${quick ? 'quick' : 'full'}), ${result.date}, Node ${process.version}`);
  console.log('backend    simd/threads          C1 tokens/s   vs reference   GEMM GFLOP/s (shape)');
  for (const r of rows) {
    if (!r.loaded) {
      console.log(`${r.backend.padEnd(10)} not loaded: ${r.reason}`);
      continue;
    }
    const ratio = ref ? `${(r.c1_tokens_per_s / ref.c1_tokens_per_s).toFixed(1)}×` : '-';
    console.log(`${r.backend.padEnd(10)} ${`${r.simd}/${r.threads}`.padEnd(20)} ${Math.round(r.c1_tokens_per_s).toLocaleString('en-US').padStart(12)}   ${ratio.padStart(12)}   ${r.gemm_gflops.toFixed(1).padStart(8)} (${r.gemm_shape})`);
  }
}
