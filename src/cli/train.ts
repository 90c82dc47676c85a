// `rnnkit train [FILE]`: train a character model, print progress, leave a checkpoint directory.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, selectBackend } from '../backend/index.js';
import type { BackendName } from '../backend/types.js';
import { BUILTIN_CORPUS, builtinCorpus, readText } from '../data/corpus.js';
import { OPTIMIZERS } from '../train/optimizer.js';
import { DEFAULT_TRAIN_CONFIG, type ShapeOptions, type StepMetrics, type TrainConfig, train } from '../train/trainer.js';
import { integer, number, oneOf } from './parse.js';

const d = DEFAULT_TRAIN_CONFIG;
const SHAPE_KEYS = ['cell', 'nonlinearity', 'hidden', 'layers', 'embed'] as const;

interface TrainFlags extends TrainConfig {
  backend: BackendName | 'auto';
  threads?: number;
  out?: string;
  initFrom?: string;
}

/** A fresh directory runs/<timestamp> under the working directory. */
function defaultRunDir(): string {
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/\..*/, '');
  let dir = join('runs', stamp);
  for (let i = 2; existsSync(dir); i++) dir = join('runs', `${stamp}-${i}`);
  return dir;
}

function formatMetrics(m: StepMetrics, steps: number): string {
  return `step ${String(m.step).padStart(String(steps).length)}/${steps}  loss ${m.loss.toFixed(4)}  smooth ${m.smooth_loss.toFixed(4)}  grad-norm ${m.grad_norm.toFixed(3)}  ${Math.round(m.tokens_per_s).toLocaleString('en-US')} tok/s`;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description(`train a character-level model on FILE (default: the built-in ${BUILTIN_CORPUS} corpus)`)
    .argument('[file]', 'UTF-8 text file to train on')
    .option('--cell <cell>', 'recurrent cell: rnn, lstm or gru', oneOf(['rnn', 'lstm', 'gru'] as const), d.cell)
    .option('--nonlinearity <f>', 'rnn nonlinearity: tanh or relu', oneOf(['tanh', 'relu'] as const), d.nonlinearity)
    .option('--hidden <n>', 'hidden units per layer', integer(1, 65536), d.hidden)
    .option('--layers <n>', 'stacked recurrent layers', integer(1, 64), d.layers)
    .option('--embed <n>', 'embedding size; 0 = one-hot input', integer(0, 65536), d.embed)
    .option('--dropout <p>', 'dropout between recurrent layers while training, in [0, 1)', number(0, 1), d.dropout)
    .option('--seq <n>', 'time steps per chunk (truncated BPTT length)', integer(1, 100_000), d.seq)
    .option('--batch <n>', 'parallel streams per step', integer(1, 100_000), d.batch)
    .option('--steps <n>', 'optimizer steps; 0 writes the initialised checkpoint and exits', integer(0), d.steps)
    .option('--lr <x>', 'learning rate', number(0, 1e6), d.lr)
    .option('--optimizer <name>', `optimizer: ${OPTIMIZERS.join(', ')}`, oneOf(OPTIMIZERS), d.optimizer)
    .option('--clip-value <x>', 'clip each gradient element to ±x; 0 = off', number(0), d.clipValue)
    .option('--clip-norm <x>', 'clip the global gradient norm to x; 0 = off', number(0), d.clipNorm)
    .option('--init <scheme>', "initialisation: pytorch (uniform ±1/sqrt(H)) or randn (min-char-rnn's randn·0.01)", oneOf(['pytorch', 'randn'] as const), d.init)
    .option('--seed <n>', 'random seed', integer(0), d.seed)
    .option('--backend <name>', `compute backend: auto, ${BACKEND_NAMES.join(', ')} (env RNNKIT_BACKEND)`, oneOf(['auto', ...BACKEND_NAMES] as const), 'auto')
    .option('--threads <n>', 'native threads (env RNNKIT_THREADS)', integer(1, 1024))
    .option('--log-every <n>', 'print and record metrics every n steps', integer(1), d.logEvery)
    .option('--save-every <n>', 'save the checkpoint every n steps; 0 = only at the end', integer(0), d.saveEvery)
    .option('--out <dir>', 'run directory (default: runs/<timestamp>)')
    .option('--init-from <dir>', "start from a checkpoint's weights; its shape and vocabulary are used")
    .action(async (file: string | undefined, flags: TrainFlags, command: Command) => {
      const explicitShape: Partial<ShapeOptions> = {};
      for (const key of SHAPE_KEYS) {
        if (command.getOptionValueSource(key) === 'cli') Object.assign(explicitShape, { [key]: flags[key] });
      }
      const text = file ? readText(file) : builtinCorpus();
      const threads = flags.threads ?? (process.env['RNNKIT_THREADS'] ? integer(1, 1024)(process.env['RNNKIT_THREADS']) : undefined);
      const { backend, skipped } = await selectBackend({ backend: flags.backend, threads });
      const out = flags.out ?? defaultRunDir();
      const config: TrainConfig = { ...d, ...Object.fromEntries(Object.keys(d).map((k) => [k, flags[k as keyof TrainConfig]])) } as TrainConfig;
      for (const s of skipped) console.log(`rnnkit: ${s.name} backend not used: ${s.reason}`);
      console.log(`rnnkit: training on ${file ?? `the built-in ${BUILTIN_CORPUS} corpus`} (${text.length.toLocaleString('en-US')} UTF-16 units) with the ${describeBackend(backend.info())} backend; writing ${out}`);
      const abort = new AbortController();
      const stop = (): void => {
        console.log('\nrnnkit: interrupted; saving the checkpoint');
        abort.abort();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        const result = await train({
          text, config, backend, out, initFrom: flags.initFrom, explicitShape, signal: abort.signal,
          onMetrics: (m) => console.log(formatMetrics(m, config.steps)),
        });
        const { cell, nonlinearity, hidden, layers } = result.config;
        const shape = `${cell}${cell === 'rnn' ? `-${nonlinearity}` : ''} ${layers}×${hidden}`;
        console.log(`rnnkit: ${result.interrupted ? 'stopped' : 'done'} after ${result.steps} steps (${shape}, ${result.parameterCount.toLocaleString('en-US')} parameters, vocabulary ${result.vocabSize}); checkpoint: ${result.dir}`);
        console.log(`rnnkit: try: npx rnnkit sample ${result.dir}`);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });
}
