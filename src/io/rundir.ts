// The run directory: the one place that names its files and knows how they are written.
//   run.json              the settings, the data source, the backend (written once, at the start)
//   metrics.jsonl         one StepMetrics object per logged step
//   model.safetensors     the model (PyTorch names; the task's metadata) — see io/checkpoint.ts
//   trainer.safetensors   everything --resume needs — see train/state.ts
//   best/                 model.safetensors of the best validation loss so far
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';

export { MODEL_FILE } from './checkpoint.js';

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const TRAINER_FILE = 'trainer.safetensors';
export const BEST_DIR = 'best';

/** Creates the directory and removes temporary files a crash during a save left behind. */
export function prepareRunDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  for (const name of readdirSync(dir)) if (/^\..*\.tmp$/.test(name)) rmSync(join(dir, name), { force: true });
}

export function writeRunJson(dir: string, run: object): void {
  writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(run, null, 2) + '\n');
}

/** The metrics log, opened for appending after dropping the lines past `step` (a resumed run writes them again). */
export class MetricsLog {
  private readonly fd: number;

  constructor(dir: string, step: number) {
    const path = join(dir, METRICS_FILE);
    if (existsSync(path)) {
      const kept = readFileSync(path, 'utf8').split('\n').filter((line) => line && (JSON.parse(line) as { step: number }).step <= step);
      writeFileSync(path, kept.map((l) => l + '\n').join(''));
    }
    this.fd = openSync(path, 'a');
  }

  append(row: object): void {
    writeSync(this.fd, JSON.stringify(row) + '\n');
  }

  close(): void {
    closeSync(this.fd);
  }
}
