// `rnnkit export DIR --pytorch OUT_DIR`: hands a run to PyTorch's torch.distributed. OUT_DIR gets the
// module (model.py), a DDP script that continues the run exactly (train_ddp.py), the run's checkpoint files,
// its training data and a README with the command lines; see python/common/ and python/<task>/.
import { copyFileSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readSource } from '../../data/corpus.js';
import { readClassifyData } from '../../tasks/index.js';
import { examplesHash } from '../../tasks/classify/task.js';
import { invalidInput, invalidOption } from '../../errors.js';
import { writeFileAtomic } from '../../io/atomic.js';
import { METRICS_FILE, MODEL_FILE, RUN_FILE } from '../../io/rundir.js';
import { textHash } from '../../tasks/lm.js';
import { type TrainerState, loadTrainerState, saveTrainerState } from '../../train/state.js';
import { fillIn, templateFiles } from './templates.js';

/** The tasks train_ddp.py continues. */
export const PYTORCH_TASKS = ['lm', 'classify'] as const;

export const TEXT_FILE = 'text.txt';
export const EXAMPLES_FILE = 'examples.jsonl';
const README = 'README.md';

export interface PytorchExport {
  out: string;
  /** Every file written, by name. */
  files: string[];
  step: number;
  steps: number;
}

/** OUT_DIR: new, empty, or (with force) written over file by file — files the export does not write stay. */
function claimOut(out: string, force: boolean): void {
  if (existsSync(out)) {
    if (!statSync(out).isDirectory()) throw invalidOption(`--pytorch ${out}: a file of that name is in the way`);
    if (readdirSync(out).length > 0 && !force)
      throw invalidOption(
        `--pytorch ${out}: the directory is not empty; choose a new or empty one, or pass --force to write the export's files over it`,
      );
  }
  mkdirSync(out, { recursive: true });
}

const changed = (state: TrainerState, dir: string) =>
  invalidInput(
    `the training data (${state.data.source}) changed since the checkpoint in ${dir} was written, so the run cannot be continued on it`,
  );

/** The run's training data as train_ddp.py reads it (file name → contents), checked against the fingerprint
 *  recorded in its trainer state: the language model's text; the classifier's examples as JSON Lines (its
 *  source may be a TSV file or the built-in corpus). */
function trainingData(state: TrainerState, dir: string): [string, string] {
  if (state.task === 'lm') {
    const text = readSource(state.data.source);
    if (textHash(text) !== state.data.hash || text.length !== state.data.size) throw changed(state, dir);
    return [TEXT_FILE, text];
  }
  const { examples } = readClassifyData(state.data.source);
  if (examplesHash(examples) !== state.data.hash || examples.length !== state.data.size) throw changed(state, dir);
  return [EXAMPLES_FILE, examples.map(({ text, label }) => JSON.stringify({ text, label }) + '\n').join('')];
}

const describeShape = (s: TrainerState): string =>
  `${s.model.bidirectional ? 'bidirectional ' : ''}${s.model.cell === 'rnn' ? `rnn (${s.model.nonlinearity})` : s.model.cell} ${s.model.layers}×${s.model.hidden}, ` +
  `${s.model.embed > 0 ? `embedding ${s.model.embed}` : 'one-hot input'}, ${s.params.length.toLocaleString('en-US')} parameters`;

export function exportPytorch(dir: string, out: string, options: { force?: boolean } = {}): PytorchExport {
  const state = loadTrainerState(dir);
  if (!(PYTORCH_TASKS as readonly string[]).includes(state.task)) {
    throw invalidInput(`${dir} is a run of task ${state.task}; --pytorch covers ${PYTORCH_TASKS.join(', ')} so far`);
  }
  if (!existsSync(join(dir, MODEL_FILE))) throw invalidInput(`${dir}: no ${MODEL_FILE} here`);
  if (state.task === 'classify' && state.config.dropout > 0)
    throw invalidInput(`${dir} is a classifier trained with --dropout; --pytorch does not cover that yet`);
  const [dataFile, data] = trainingData(state, dir); // before anything is written
  claimOut(out, options.force ?? false);
  const files: string[] = [];
  const write = (name: string, data: string | Uint8Array): void => {
    writeFileAtomic(join(out, name), data);
    files.push(name);
  };
  saveTrainerState(out, state); // in the current format, whatever the run's was
  files.push('trainer.safetensors');
  for (const name of [MODEL_FILE, RUN_FILE, METRICS_FILE]) {
    if (!existsSync(join(dir, name))) continue;
    copyFileSync(join(dir, name), join(out, name));
    files.push(name);
  }
  write(dataFile, data);
  const values = {
    run: basename(dir),
    step: state.position.step,
    steps: state.config.steps,
    batch: state.config.batch,
    seq: state.config.seq,
    optimizer: state.config.optimizer,
    shape: describeShape(state),
    pool: state.config.pool,
  };
  for (const [name, template] of templateFiles(state.task))
    write(name, name === README ? fillIn(template, values) : template);
  return { out, files, step: state.position.step, steps: state.config.steps };
}
