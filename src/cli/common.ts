// Options shared by the commands that load a checkpoint.
import type { Command } from 'commander';
import { BACKEND_NAMES, selectBackend } from '../backend/index.js';
import { PRECISIONS, type PrecisionChoice } from '../backend/native.js';
import type { Backend, BackendName } from '../backend/types.js';
import { integer, oneOf } from './parse.js';

export interface BackendFlags {
  /** Unset: RNNKIT_BACKEND decides, else auto. */
  backend?: BackendName | 'auto';
  threads?: number;
  precision?: PrecisionChoice;
}

export function addBackendOptions(command: Command): Command {
  return command
    .option('--backend <name>', `compute backend: auto, ${BACKEND_NAMES.join(', ')} (default: env RNNKIT_BACKEND, else auto)`, oneOf(['auto', ...BACKEND_NAMES] as const))
    .option('--threads <n>', 'native threads (env RNNKIT_THREADS)', integer(1, 1024))
    .option('--precision <p>', `native matrix products: ${PRECISIONS.join(', ')}, auto = bf16 where the CPU has it (env RNNKIT_PRECISION; default fp32)`, oneOf([...PRECISIONS, 'auto'] as const));
}

/** The backend the flags ask for; says why any faster one was passed over. */
export async function backendFrom(flags: BackendFlags, say: (line: string) => void = console.log): Promise<Backend> {
  const threads = flags.threads ?? (process.env['RNNKIT_THREADS'] ? integer(1, 1024)(process.env['RNNKIT_THREADS']) : undefined);
  const { backend, skipped } = await selectBackend({ backend: flags.backend, threads, ...(flags.precision ? { precision: flags.precision } : {}) });
  for (const s of skipped) say(`rnnkit: ${s.name} backend not used: ${s.reason}`);
  return backend;
}
