// Options shared by the commands that load a checkpoint.
import type { Command } from 'commander';
import { BACKEND_NAMES, capThreads, selectBackend } from '../backend/index.js';
import { PRECISIONS, type PrecisionChoice } from '../backend/native.js';
import type { Backend, BackendName } from '../backend/types.js';
import { invalidOption } from '../errors.js';
import { integer, oneOf } from './parse.js';

export interface BackendFlags {
  /** Unset: RNNKIT_BACKEND decides, else auto. */
  backend?: BackendName | 'auto';
  threads?: number;
  precision?: PrecisionChoice;
}

export function addBackendOptions(command: Command): Command {
  return command
    .option(
      '--backend <name>',
      `compute backend: auto, ${BACKEND_NAMES.join(', ')} (default: env RNNKIT_BACKEND, else auto)`,
      oneOf(['auto', ...BACKEND_NAMES] as const),
    )
    .option(
      '--threads <n>',
      'threads of the native and WebAssembly backends (env RNNKIT_THREADS); at most the cores of this machine',
      integer(1, 1024),
    )
    .option(
      '--precision <p>',
      `native matrix products: ${PRECISIONS.join(', ')}, auto = bf16 where the CPU has it (env RNNKIT_PRECISION; default fp32)`,
      oneOf([...PRECISIONS, 'auto'] as const),
    );
}

/** The thread count of --threads or RNNKIT_THREADS, capped at the cores of this machine (more threads than
 *  cores only wait for each other), saying so; undefined: the backend's default (the cores). */
export function threadsFrom(flags: BackendFlags, say: (line: string) => void): number | undefined {
  const variable = process.env['RNNKIT_THREADS'];
  let threads = flags.threads;
  if (threads === undefined && variable) {
    const n = Number(variable);
    if (!/^[0-9]+$/.test(variable.trim()) || n < 1 || n > 1024)
      throw invalidOption(`RNNKIT_THREADS must be an integer from 1 to 1024, got ${JSON.stringify(variable)}`);
    threads = n;
  }
  const capped = capThreads(threads, flags.threads !== undefined ? '--threads' : 'RNNKIT_THREADS');
  if (capped.note) say(`rnnkit: ${capped.note}`);
  return capped.threads;
}

/** The backend the flags ask for; says why any faster one was passed over. */
export async function backendFrom(flags: BackendFlags, say: (line: string) => void = console.log): Promise<Backend> {
  const threads = threadsFrom(flags, say);
  const { backend, skipped } = await selectBackend({
    backend: flags.backend,
    threads,
    ...(flags.precision ? { precision: flags.precision } : {}),
  });
  for (const s of skipped) say(`rnnkit: ${s.name} backend not used: ${s.reason}`);
  return backend;
}
