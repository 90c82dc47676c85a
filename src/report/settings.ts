// run.json as the report's configuration table: the options a user types (--hidden, --lr-schedule), only
// those that acted in this run (no Adam β for SGD, no decay steps for a cosine schedule), then where the
// data came from and what ran it.
import { type OptimizerName, type TrainConfig, TRAIN_CONFIG_KEYS, optionName } from '../train/config.js';
import { DEFAULT_EPS } from '../train/optimizer.js';

type Settings = Record<string, unknown>;

const ADAM = ['adam', 'adamw'];

/** True when the setting did nothing in this run. */
function inapplicable(key: string, s: Settings): boolean {
  const lm = (s['task'] ?? 'lm') === 'lm';
  switch (key as keyof TrainConfig) {
    case 'nonlinearity':
      return s['cell'] !== 'rnn';
    case 'dropout':
      return s['layers'] === 1;
    case 'momentum':
      return s['optimizer'] !== 'sgd';
    case 'nesterov':
      return s['optimizer'] !== 'sgd' || !s['momentum'];
    case 'alpha':
      return s['optimizer'] !== 'rmsprop';
    case 'beta1':
    case 'beta2':
      return !ADAM.includes(String(s['optimizer']));
    case 'eps':
      return s['optimizer'] === 'sgd';
    case 'decayRate':
    case 'decayEvery':
    case 'decayAfter':
      return s['lrSchedule'] !== 'step';
    case 'evalEvery':
    case 'patience':
      return !s['valFrac'];
    case 'seq':
    case 'sampleEvery':
      return !lm;
    case 'sampleLength':
      return !lm || !s['sampleEvery'];
    case 'pool':
    case 'maxLen':
    case 'bidirectional':
      return lm;
    default:
      return false;
  }
}

/** The value an optimizer uses when the run left weight decay or epsilon unset. */
function pytorchDefault(key: 'weightDecay' | 'eps', optimizer: string): number | string {
  if (key === 'weightDecay') return optimizer === 'adamw' ? 0.01 : 0;
  return DEFAULT_EPS[optimizer as OptimizerName] ?? '?';
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));

/** The table rows: [option or item, value]. Settings rnnkit left at PyTorch's default say so. */
export function settingsTable(s: Settings): [string, string][] {
  const rows: [string, string][] = [];
  for (const key of TRAIN_CONFIG_KEYS) {
    if (inapplicable(key, s)) continue;
    if (key in s) rows.push([optionName(key), show(s[key])]);
    else if (key === 'weightDecay' || key === 'eps')
      rows.push([optionName(key), `${pytorchDefault(key, String(s['optimizer']))} (PyTorch's default)`]);
  }
  if (typeof s['source'] === 'string') rows.push(['data', s['source']]);
  if (typeof s['vocabSize'] === 'number') rows.push(['vocabulary', String(s['vocabSize'])]);
  const backend = s['backend'];
  if (backend && typeof backend === 'object') {
    const b = backend as Settings;
    rows.push([
      'backend',
      [
        b['name'],
        b['simd'] && `SIMD ${show(b['simd'])}`,
        b['threads'] !== undefined && `${show(b['threads'])} thread(s)`,
        b['precision'] && show(b['precision']),
      ]
        .filter(Boolean)
        .join(', '),
    ]);
  }
  return rows;
}

/** How the run started (run.json's `started`, written by rnnkit 0.1 and later). */
export function provenance(s: Settings | null): [string, string][] {
  const started = s?.['started'];
  if (!started || typeof started !== 'object') return [];
  const p = started as Settings;
  const rows: [string, string][] = [];
  if (typeof p['command'] === 'string') rows.push(['command line', p['command']]);
  if (typeof p['date'] === 'string') rows.push(['started', p['date']]);
  if (typeof p['host'] === 'string') rows.push(['host', p['host']]);
  if (typeof p['rnnkit'] === 'string') rows.push(['rnnkit', p['rnnkit']]);
  return rows;
}
