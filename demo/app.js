// The demo page: train a character model in a Web Worker (rnnkit/web's train()), draw its loss, show its
// samples, download model.safetensors, and sample from that model or from an uploaded checkpoint.
// URL parameters (for comparisons): ?build=simd|relaxed|auto picks the wasm build, ?backend=reference,
// ?threads=N the WebAssembly threads of training (default: all cores where the page is cross-origin isolated).
import {
  loadLanguageModel,
  loadWasmBackend,
  sample,
  sharedMemoryAvailable,
  train,
  wasmRelaxedSimdSupported,
  wasmThreads,
} from '../dist/web/index.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const build = params.get('build') ?? 'auto';
const threadsParam = params.get('threads') ? Number(params.get('threads')) : undefined;
const backendName = params.get('backend') === 'reference' ? 'reference' : 'wasm';

/** What the page knows; also read by the browser tests (window.rnnkitDemo). */
const state = {
  running: false,
  finished: false,
  error: null,
  losses: [],
  samples: [],
  /** The last trained model's model.safetensors. */
  model: null,
  result: null,
  /** The model sampled from (trained here or uploaded): { model, vocab, name }. */
  loaded: null,
  threads: threadsParam && sharedMemoryAvailable() ? { ...wasmThreads(), threads: threadsParam } : wasmThreads(),
  /** The backend of the last training run, as its start event gave it ({ name, simd, threads }). */
  trainedOn: null,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
};
let pageBackend = null;
let controller = null;

window.rnnkitDemo = { state, ready: init() };

async function init() {
  showEnvironment();
  wire();
  await useBuiltinText();
  pageBackend = await loadWasmBackend({ build });
}

function showEnvironment() {
  const chips = [
    [`backend: ${backendName}`],
    [
      `SIMD: ${build === 'simd' || (build === 'auto' && !wasmRelaxedSimdSupported()) ? 'wasm simd128' : 'relaxed SIMD'}`,
    ],
    [`threads: ${state.threads.threads}`, state.threads.reason],
    [
      sharedMemoryAvailable() ? 'cross-origin isolated' : 'not cross-origin isolated',
      sharedMemoryAvailable() ? 'SharedArrayBuffer is available' : state.threads.reason,
      !sharedMemoryAvailable(),
    ],
  ];
  $('env').replaceChildren(
    ...chips.map(([text, title, warn]) => {
      const chip = document.createElement('span');
      chip.className = warn ? 'chip warn' : 'chip';
      chip.textContent = text;
      if (title) chip.title = title;
      return chip;
    }),
  );
}

function wire() {
  $('builtin').addEventListener('click', useBuiltinText);
  $('text').addEventListener('input', showTextSize);
  $('text-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (file) {
      $('text').value = await file.text();
      showTextSize();
    }
  });
  $('train').addEventListener('click', startTraining);
  $('stop').addEventListener('click', () => controller?.abort());
  $('download').addEventListener('click', download);
  $('model-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    if (file) await useModel(file, file.name);
  });
  $('sample').addEventListener('click', sampleNow);
  window.addEventListener('resize', () => drawChart());
}

async function useBuiltinText() {
  const response = await fetch('moby-dick.txt');
  $('text').value = await response.text();
  showTextSize();
}

function showTextSize() {
  const n = $('text').value.length;
  $('text-size').textContent = `${n.toLocaleString('en-US')} characters`;
}

const number = (id) => Number($(id).value);

/** The run's settings from the form. */
function settings() {
  const steps = number('steps');
  return {
    cell: $('cell').value,
    hidden: number('hidden'),
    layers: number('layers'),
    steps,
    seq: number('seq'),
    batch: number('batch'),
    lr: number('lr'),
    seed: number('seed'),
    optimizer: 'adam',
    logEvery: 10,
    sampleEvery: Math.max(25, Math.round(steps / 10)),
    sampleLength: 200,
  };
}

function setStatus(text) {
  $('status').textContent = text;
}

async function startTraining() {
  const text = $('text').value;
  if (!text) return setStatus('Paste a text first (or take the built-in one).');
  Object.assign(state, { running: true, finished: false, error: null, losses: [], samples: [], result: null });
  $('samples').replaceChildren();
  $('samples-empty').hidden = false;
  drawChart();
  $('train').disabled = true;
  $('stop').disabled = false;
  controller = new AbortController();
  const config = settings();
  setStatus('Starting…');
  const handle = train({
    text,
    config: { ...config },
    backend: backendName,
    build,
    threads: state.threads.threads,
    signal: controller.signal,
  });
  try {
    for await (const event of handle) onEvent(event, config);
    const result = await handle.result;
    state.result = { ...result, model: undefined };
    state.model = result.model;
    const stopped = result.interrupted ? `Stopped at step ${result.steps}` : `Done: ${result.steps} steps`;
    setStatus(`${stopped}. Final loss ${result.metrics ? result.metrics.loss.toFixed(3) : '–'} nats/char.`);
    await useModel(result.model, 'the model trained here');
    $('download').disabled = false;
  } catch (error) {
    state.error = error.message;
    setStatus(`Training failed: ${error.message}`);
  } finally {
    state.running = false;
    state.finished = true;
    $('train').disabled = false;
    $('stop').disabled = true;
  }
}

function onEvent(event, config) {
  if (event.type === 'start') {
    state.trainedOn = event.backend;
    const threads = `${event.backend.threads} thread${event.backend.threads === 1 ? '' : 's'}`;
    setStatus(
      `Training ${event.parameters.toLocaleString('en-US')} parameters on ${event.trainSize.toLocaleString('en-US')} characters (${event.backend.name}, ${event.backend.simd}, ${threads}).`,
    );
  } else if (event.type === 'progress') {
    setStatus(
      `Step ${event.step} of ${event.steps} · loss ${event.loss.toFixed(3)} · ${Math.round(event.tokens_per_s).toLocaleString('en-US')} chars/s`,
    );
  } else if (event.type === 'step') {
    state.losses.push({ step: event.metrics.step, loss: event.metrics.loss, smooth: event.metrics.smooth_loss });
    $('loss-now').textContent = `step ${event.metrics.step} · ${event.metrics.loss.toFixed(3)} nats/char`;
    drawChart(config.steps);
  } else if (event.type === 'sample') {
    state.samples.push(event);
    const item = document.createElement('li');
    const step = document.createElement('span');
    step.className = 'step';
    step.textContent = `step ${event.step}`;
    const body = document.createElement('p');
    body.className = 'text';
    body.textContent = event.text;
    item.append(step, body);
    $('samples').prepend(item);
    $('samples-empty').hidden = true;
  }
}

let chartSteps = 1;
function drawChart(steps = chartSteps) {
  chartSteps = steps;
  const canvas = $('chart');
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth,
    height = canvas.clientHeight || 220;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.scale(ratio, ratio);
  g.clearRect(0, 0, width, height);
  const pad = { left: 40, right: 10, top: 10, bottom: 24 };
  const points = state.losses;
  const values = points.flatMap((p) => [p.loss, p.smooth]).filter(Number.isFinite);
  const top = values.length ? Math.max(...values) * 1.05 : 5;
  const bottom = values.length ? Math.max(0, Math.min(...values) * 0.9) : 0;
  const x = (step) => pad.left + (step / Math.max(1, steps)) * (width - pad.left - pad.right);
  const y = (v) => pad.top + (1 - (v - bottom) / Math.max(1e-9, top - bottom)) * (height - pad.top - pad.bottom);
  g.strokeStyle = '#e3e6ee';
  g.fillStyle = '#667085';
  g.font = '11px system-ui, sans-serif';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const v = bottom + ((top - bottom) * i) / 4;
    g.beginPath();
    g.moveTo(pad.left, y(v));
    g.lineTo(width - pad.right, y(v));
    g.stroke();
    g.fillText(v.toFixed(2), 4, y(v) + 4);
  }
  g.fillText('step 0', pad.left, height - 6);
  g.textAlign = 'right';
  g.fillText(String(steps), width - pad.right, height - 6);
  g.textAlign = 'left';
  const line = (key, color, lineWidth) => {
    g.strokeStyle = color;
    g.lineWidth = lineWidth;
    g.beginPath();
    points.forEach((p, i) => (i ? g.lineTo(x(p.step), y(p[key])) : g.moveTo(x(p.step), y(p[key]))));
    g.stroke();
  };
  if (points.length) {
    line('loss', '#9aa7ff', 1);
    line('smooth', '#e4572e', 2.5);
  }
}

function download() {
  if (!state.model) return;
  const url = URL.createObjectURL(new Blob([state.model], { type: 'application/octet-stream' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = 'model.safetensors';
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Loads a model.safetensors (bytes or an uploaded File) into the page for sampling. */
async function useModel(source, name) {
  try {
    await window.rnnkitDemo.ready;
    const loaded = await loadLanguageModel(source, pageBackend, name);
    state.loaded?.model.dispose(); // the previous model's wasm memory is reused
    state.loaded = { ...loaded, name };
    const c = loaded.model.config;
    $('model-info').textContent =
      `${name}: ${c.cell.toUpperCase()} ${c.hidden}×${c.layers}, ${loaded.vocab.size} characters`;
    $('sample').disabled = false;
  } catch (error) {
    $('model-info').textContent = `Cannot load ${name}: ${error.message}`;
  }
}

function sampleNow() {
  if (!state.loaded) return;
  const temperature = number('temperature');
  try {
    $('sample-out').textContent = sample(state.loaded.model, state.loaded.vocab, {
      length: number('sample-length'),
      temperature,
      seed: number('sample-seed'),
      prime: $('prime').value,
    });
  } catch (error) {
    $('sample-out').textContent = `Cannot sample: ${error.message}`;
  }
}
