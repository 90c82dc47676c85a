// The run directory: the one place that names its files and knows how they are written.
//   run.json              the settings, the data source, the backend (written once, at the start)
//   metrics.jsonl         one StepMetrics object per step
//   model.safetensors     the model (PyTorch names; the task's metadata) — see io/checkpoint.ts
//   trainer.safetensors   everything --resume needs — see train/state.ts
//   best/                 model.safetensors of the best validation loss so far
//   report.html, .svg     rnnkit report
//   .rnnkit.lock          the pid of the run writing here (see io/lock.ts)
// A fresh run starts only in an empty directory, or with `force` in one that holds nothing but an old
// run's files, which are then removed: a directory holding anything else is never written into, so a user's
// files are never deleted and two runs are never mixed.
import {
  closeSync,
  existsSync,
  fsyncSync,
  statSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { type RnnkitError, badCheckpoint, invalidOption } from '../errors.js';
import { MODEL_FILE } from './checkpoint.js';
import { writeFileAtomic } from './atomic.js';
import { makeDirectories } from './mkdir.js';
import { forEachLine } from './lines.js';
import { LOCK_FILE, type RunDirLock, lockRunDir } from './lock.js';

export { MODEL_FILE };

export const RUN_FILE = 'run.json';
export const METRICS_FILE = 'metrics.jsonl';
export const TRAINER_FILE = 'trainer.safetensors';
export const BEST_DIR = 'best';
export const REPORT_HTML = 'report.html';
export const REPORT_SVG = 'report.svg';

export const notResumable = (dir: string): RnnkitError =>
  badCheckpoint(
    `${dir}: no ${TRAINER_FILE} here, so the run cannot be resumed (was it written by an older rnnkit, or is it not a run directory?)`,
  );

/** Every file rnnkit writes into a run directory (best/ holds MODEL_FILE only). */
const RUN_FILES = [RUN_FILE, METRICS_FILE, MODEL_FILE, TRAINER_FILE, REPORT_HTML, REPORT_SVG];

/** writeFileAtomic's temporary name of one of rnnkit's files: `.<name>.<pid>.tmp`. */
const isOwnTemporary = (name: string): boolean => {
  const match = /^\.(.+)\.\d+\.tmp$/.exec(name);
  return match !== null && RUN_FILES.includes(match[1]!);
};

const isOwn = (name: string): boolean =>
  RUN_FILES.includes(name) ||
  name === BEST_DIR ||
  name === LOCK_FILE ||
  name.startsWith(`${LOCK_FILE}.`) ||
  isOwnTemporary(name);

/** Names in `dir` (and in its best/) that rnnkit did not write. */
function foreignFiles(dir: string): string[] {
  const best = join(dir, BEST_DIR);
  const bestIsDir = !existsSync(best) || statSync(best).isDirectory();
  const foreign = readdirSync(dir).filter((name) => !isOwn(name) || (name === BEST_DIR && !bestIsDir));
  if (existsSync(best) && bestIsDir)
    foreign.push(
      ...readdirSync(best)
        .filter((name) => name !== MODEL_FILE && !isOwnTemporary(name))
        .map((name) => join(BEST_DIR, name)),
    );
  return foreign;
}

/** Removes the temporary files a crash during a save left behind: rnnkit's names only. */
function removeTemporaries(dir: string): void {
  for (const sub of [dir, join(dir, BEST_DIR)]) {
    if (!existsSync(sub) || !statSync(sub).isDirectory()) continue;
    for (const name of readdirSync(sub)) if (isOwnTemporary(name)) rmSync(join(sub, name), { force: true });
  }
}

/** Why a directory cannot be created, in words. */
const CANNOT_CREATE: Record<string, string> = {
  EEXIST: 'a file of that name is in the way',
  ENOTDIR: 'a file of that name is in the way',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOENT: 'its parent cannot hold a directory',
  ENOSPC: 'no space left on the device',
  ENAMETOOLONG: 'the name is too long',
};

/** makeDirectories, with a failure as one line: `what` and why. */
function createDirectory(dir: string, what: string): void {
  try {
    makeDirectories(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw invalidOption(`${what} (${CANNOT_CREATE[code ?? ''] ?? code ?? String(error)})`);
  }
}

/**
 * Takes the run directory for a run: creates it, locks it for the life of the run (release the lock at the
 * end), and removes temporary files a crash left. A fresh run (`resume` false) needs an empty directory, or
 * `force` and a directory holding only an old run's files, which are removed.
 */
export function claimRunDir(dir: string, options: { resume: boolean; force?: boolean }): RunDirLock {
  if (dir === '') throw invalidOption('--out: the run directory is an empty string');
  if (options.resume) {
    if (!existsSync(join(dir, TRAINER_FILE))) throw notResumable(dir);
  } else {
    createDirectory(dir, `--out ${dir}: cannot create the run directory`);
  }
  const lock = lockRunDir(dir);
  try {
    if (!options.resume) {
      // Not the lock, nor another process' lock set aside for a moment (lock.ts takeOver).
      const names = readdirSync(dir).filter((name) => name !== LOCK_FILE && !name.startsWith(`${LOCK_FILE}.`));
      const foreign = foreignFiles(dir);
      if (foreign.length) {
        throw invalidOption(
          `--out ${dir}: the directory holds files rnnkit did not write (${foreign.slice(0, 3).join(', ')}${foreign.length > 3 ? ', …' : ''}); choose a new or empty directory (rnnkit never deletes files it did not write, even with --force)`,
        );
      }
      if (names.length && !options.force) {
        throw invalidOption(
          `--out ${dir} already holds a run: continue it with --resume ${dir}, or replace it with --force (which deletes it)`,
        );
      }
      for (const name of names) rmSync(join(dir, name), { recursive: true, force: true });
    }
    removeTemporaries(dir);
    return lock;
  } catch (error) {
    lock.release();
    throw error;
  }
}

/** A new directory `root/<UTC time to the millisecond>` (claimed with mkdir, so two runs never share one),
 *  and `root/latest` pointing to it. */
export function claimDefaultRunDir(root = 'runs'): string {
  createDirectory(root, `${root}: cannot create the directory of default run directories`);
  const stamp = new Date().toISOString().replace(/:/g, '-').replace(/Z$/, '');
  for (let i = 1; ; i++) {
    const name = i === 1 ? stamp : `${stamp}-${i}`;
    try {
      mkdirSync(join(root, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    pointLatest(root, name);
    return join(root, name);
  }
}

/** root/latest → name, replaced atomically (a symbolic link made beside it, renamed over it). */
function pointLatest(root: string, name: string): void {
  const temporary = join(root, `.latest.${process.pid}.tmp`);
  try {
    rmSync(temporary, { force: true });
    symlinkSync(name, temporary);
    renameSync(temporary, join(root, 'latest'));
  } catch {
    rmSync(temporary, { force: true }); // a file system without symbolic links: no `latest`, the run goes on
  }
}

export function writeRunJson(dir: string, run: object): void {
  writeFileAtomic(join(dir, RUN_FILE), JSON.stringify(run, null, 2) + '\n');
}

/**
 * Keeps the lines of `path` whose step is at most `step` (a resumed run writes the later ones again), read
 * and written as a stream into a temporary file that replaces it. A line that is not a metrics row (cut by a
 * crash, edited by hand) is dropped, never an obstacle to resuming; returns how many, and the first one's
 * line number.
 */
function truncateMetrics(path: string, step: number): { dropped: number; firstLine: number } {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const output = openSync(temporary, 'w');
  let dropped = 0,
    firstLine = 0;
  const keep = (line: Buffer, lineNumber: number): void => {
    if (line.length === 0) return;
    let row: unknown;
    try {
      row = JSON.parse(line.toString('utf8'));
    } catch {
      row = null;
    }
    const rowStep = (row as { step?: unknown } | null)?.step;
    if (typeof rowStep !== 'number' || !Number.isSafeInteger(rowStep)) {
      if (dropped++ === 0) firstLine = lineNumber;
      return;
    }
    if (rowStep <= step) writeSync(output, Buffer.concat([line, Buffer.from('\n')]));
  };
  try {
    forEachLine(path, keep);
    fsyncSync(output);
  } finally {
    closeSync(output);
  }
  renameSync(temporary, path);
  return { dropped, firstLine };
}

/** The metrics log, opened for appending after dropping the lines past `step` (see truncateMetrics);
 *  `warn` hears about lines that were not metrics rows. */
export class MetricsLog {
  private readonly fd: number;

  constructor(dir: string, step: number, warn: (message: string) => void = () => {}, file = METRICS_FILE) {
    const path = join(dir, file);
    if (existsSync(path)) {
      const { dropped, firstLine } = truncateMetrics(path, step);
      if (dropped > 0)
        warn(
          `${path}: dropped ${dropped} line${dropped === 1 ? '' : 's'} that ${dropped === 1 ? 'is' : 'are'} not a metrics row (the first at line ${firstLine})`,
        );
    }
    this.fd = openSync(path, 'a');
  }

  private pending = '';

  /** Adds a row; rows are written in batches (flush) so that one per step stays cheap. */
  append(row: object): void {
    this.pending += JSON.stringify(row) + '\n';
    if (this.pending.length >= 1 << 16) this.flush();
  }

  flush(): void {
    if (this.pending) writeSync(this.fd, this.pending);
    this.pending = '';
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}
