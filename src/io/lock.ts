// The run directory's lock: DIR/.rnnkit.lock, created exclusively, holding the owner's pid (and, on Linux, the
// process' start time, so that a recycled pid is not mistaken for the owner). A lock whose owner is gone (a
// run killed with SIGKILL) is taken over; one whose owner lives is refused, naming the pid.
import { closeSync, linkSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RnnkitError } from '../errors.js';

export const LOCK_FILE = '.rnnkit.lock';

export interface RunDirLock {
  /** Removes the lock (once; later calls do nothing). */
  release(): void;
}

interface Owner {
  pid: number;
  started: string | null;
}

/** The start time of a process in clock ticks since boot (field 22 of /proc/PID/stat), where /proc exists. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function readOwner(path: string): Owner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Owner;
    return Number.isSafeInteger(owner.pid) && owner.pid > 0 ? owner : { pid: 0, started: null };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { pid: 0, started: null }; // torn or foreign content: no live owner can be named
  }
}

function alive(owner: Owner): boolean {
  if (owner.pid === 0) return false;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const started = startTime(owner.pid);
  return owner.started === null || started === null || started === owner.started;
}

const sameOwner = (a: Owner | null, b: Owner | null): boolean =>
  a !== null && b !== null && a.pid === b.pid && a.started === b.started;

const TORN_WAITS = 20,
  TORN_WAIT_MS = 25;

/** Blocks this thread for `ms` milliseconds (the lock is taken synchronously). */
const pause = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

/** Locks `dir` (which must exist) for this process, or throws naming the process that holds it. */
export function lockRunDir(dir: string): RunDirLock {
  const path = join(dir, LOCK_FILE);
  const mine: Owner = { pid: process.pid, started: startTime(process.pid) };
  let tornWaits = 0;
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      try {
        writeSync(fd, JSON.stringify(mine) + '\n');
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        release: () => {
          if (released) return;
          released = true;
          if (sameOwner(readOwner(path), mine)) rmSync(path, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new RnnkitError(
          'ERR_INVALID_OPTION',
          `${dir}: cannot lock the run directory (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        );
      }
    }
    const owner = readOwner(path);
    if (owner === null) continue; // released meanwhile: try again
    // No pid yet: its owner may be between creating the file and writing it. Taking it over now would put a
    // .stale file in the directory that owner is about to check; wait, and take over only a lock torn for good.
    if (owner.pid === 0 && tornWaits++ < TORN_WAITS) {
      pause(TORN_WAIT_MS);
      attempt--;
      continue;
    }
    if (alive(owner)) {
      throw new RnnkitError(
        'ERR_LOCKED',
        `${dir} is in use by another run (pid ${owner.pid}${owner.pid === process.pid ? ', this process' : ''}); wait for it to end or stop it (its lock is ${path})`,
      );
    }
    takeOver(path, owner);
  }
  throw new RnnkitError('ERR_LOCKED', `${dir}: could not take the run directory's lock (${path}) after 20 tries`);
}

/** Removes a dead owner's lock. Renaming it away first is atomic: if another process replaced it meanwhile
 *  (with its own, live lock), that lock is put back (linked, so that no newer lock is overwritten). */
function takeOver(path: string, dead: Owner): void {
  const aside = `${path}.${process.pid}.stale`;
  try {
    renameSync(path, aside);
  } catch {
    return; // someone else moved it: try again
  }
  if (!sameOwner(readOwner(aside), dead)) {
    try {
      linkSync(aside, path);
    } catch {
      // a third lock appeared meanwhile: it stands
    }
  }
  rmSync(aside, { force: true });
}
