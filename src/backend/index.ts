// Backend selection: native if the addon loads and passes a self-check, else wasm, else reference.
// `backend` (option) or RNNKIT_BACKEND forces one; forcing one that cannot load is an error naming why.
import { availableParallelism } from 'node:os';
import { RnnkitError, invalidOption } from '../errors.js';
import { type PrecisionChoice, NativeBackend, loadNativeBackend } from './native.js';
import { ReferenceBackend } from './reference.js';
import type { Backend, BackendInfo, BackendName } from './types.js';
import { loadWasmBackend } from './wasm.js';

export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'reference'];

export interface BackendOptions {
  backend?: BackendName | 'auto';
  threads?: number;
  /** The native backend's matrix-product precision (default: RNNKIT_PRECISION, else fp32). bf16 needs native. */
  precision?: PrecisionChoice;
  /** For tests: where the native addon is looked for. */
  nativeAddonPath?: string;
}

export type BackendProbe =
  | { name: BackendName; loaded: true; info: BackendInfo; backend: Backend }
  | { name: BackendName; loaded: false; reason: string };

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function probeBackend(name: BackendName, options: BackendOptions = {}): Promise<BackendProbe> {
  try {
    let backend: Backend;
    if (name === 'native') {
      const native = loadNativeBackend({
        addonPath: options.nativeAddonPath,
        threads: options.threads,
        precision: options.precision,
      });
      native.selfCheck();
      backend = native;
    } else if (name === 'wasm') {
      // Every core by default, as native; where workers cannot start it runs one thread (threadsReason).
      backend = await loadWasmBackend({ threads: options.threads ?? availableParallelism() });
    } else {
      backend = new ReferenceBackend();
    }
    return { name, loaded: true, info: backend.info(), backend };
  } catch (error) {
    return { name, loaded: false, reason: reasonOf(error) };
  }
}

/** The explicit option, else RNNKIT_BACKEND, else auto; a name that is not a backend is an error. */
export function requestedBackend(options: BackendOptions): BackendName | 'auto' {
  const requested = options.backend ?? (process.env['RNNKIT_BACKEND'] || 'auto');
  if (requested !== 'auto' && !BACKEND_NAMES.includes(requested as BackendName)) {
    throw invalidOption(
      `backend must be auto, ${BACKEND_NAMES.join(', ')}; got ${JSON.stringify(requested)}${options.backend ? '' : ' from RNNKIT_BACKEND'}`,
    );
  }
  return requested as BackendName | 'auto';
}

export interface SelectedBackend {
  backend: Backend;
  /** Why faster backends were passed over (empty when the first choice loaded). */
  skipped: { name: BackendName; reason: string }[];
  /** Set when the threads asked for were more than the cores, and so capped. */
  threadsNote?: string;
}

/** Threads asked for (1 to 1024), capped at the cores of this machine: more threads than cores only wait for
 *  each other (1,023 of them ran 3× slower). `note` says so when the cap applies. */
export function capThreads(
  threads: number | undefined,
  what = 'threads',
): { threads: number | undefined; note?: string } {
  if (
    threads !== undefined &&
    (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > 1024)
  ) {
    throw invalidOption(`${what} must be an integer from 1 to 1024, got ${String(threads)}`);
  }
  const cores = availableParallelism();
  if (threads === undefined || threads <= cores) return { threads };
  return { threads: cores, note: `${what} ${threads} is more than the ${cores} cores of this machine; using ${cores}` };
}

export async function selectBackend(options: BackendOptions = {}): Promise<SelectedBackend> {
  const { threads, note } = capThreads(options.threads);
  options = { ...options, threads };
  const requested = requestedBackend(options);
  const skipped: SelectedBackend['skipped'] = [];
  for (const name of requested === 'auto' ? BACKEND_NAMES : [requested]) {
    const probe = await probeBackend(name, options);
    if (probe.loaded) {
      if (bf16Asked(options) && !(probe.backend instanceof NativeBackend)) {
        const native = skipped.find((s) => s.name === 'native');
        throw new RnnkitError(
          'ERR_BACKEND_UNAVAILABLE',
          `precision bf16 needs the native backend${native ? ` (${native.reason})` : ''}`,
        );
      }
      return { backend: probe.backend, skipped, ...(note ? { threadsNote: note } : {}) };
    }
    if (requested !== 'auto')
      throw new RnnkitError('ERR_BACKEND_UNAVAILABLE', `the ${name} backend cannot be used: ${probe.reason}`);
    skipped.push({ name, reason: probe.reason });
  }
  throw new RnnkitError('ERR_BACKEND_UNAVAILABLE', 'no backend could be loaded');
}

function bf16Asked(options: BackendOptions): boolean {
  return (options.precision ?? process.env['RNNKIT_PRECISION']) === 'bf16';
}

export function describeBackend(info: BackendInfo): string {
  const precision = info.precision === 'bf16' ? ', bf16' : '';
  return `${info.name} (${info.simd}, ${info.threads} thread${info.threads === 1 ? '' : 's'}${precision})`;
}

export type { Backend, BackendInfo, BackendName } from './types.js';
