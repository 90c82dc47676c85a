// `rnnkit info`: every backend, whether it loaded and why not, its SIMD level and threads, the native
// backend's precisions (and why one is unavailable) and which addon file loaded (and why each other
// candidate was not used), and the choice.
import type { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, probeBackend, requestedBackend, selectBackend } from '../backend/index.js';
import { NativeBackend } from '../backend/native.js';
import { WasmBackend } from '../backend/wasm-backend.js';
import { type BackendFlags, addBackendOptions, threadsFrom } from './common.js';

export function registerInfo(program: Command): void {
  addBackendOptions(program.command('info').description('show the compute backends and which one is used')).action(
    async (given: BackendFlags) => {
      const requested = requestedBackend(given); // a bad RNNKIT_BACKEND is a usage error before anything is printed
      const flags = { ...given, threads: threadsFrom(given, console.log) };
      for (const name of BACKEND_NAMES) {
        const probe = await probeBackend(name, { threads: flags.threads });
        console.log(
          probe.loaded
            ? `${name.padEnd(10)} loaded      ${probe.info.simd}, ${probe.info.threads} thread${probe.info.threads === 1 ? '' : 's'}`
            : `${name.padEnd(10)} not loaded  ${probe.reason}`,
        );
        if (probe.loaded && probe.backend instanceof NativeBackend) {
          const levels = probe.backend
            .precisions()
            .map((p) => (p.available ? `${p.name} available` : `${p.name} not available (${p.reason})`));
          console.log(`${'precision'.padEnd(10)} ${levels.join('; ')}`);
        }
        if (probe.loaded && probe.backend instanceof WasmBackend)
          console.log(`           threads     ${probe.backend.threadsReason}`);
        const origin = probe.loaded && probe.backend instanceof NativeBackend ? probe.backend.origin : null;
        if (origin) {
          console.log(`           addon       ${origin.kind}: ${origin.path}`);
          for (const other of origin.others) console.log(`           not used    ${other.kind}: ${other.reason}`);
        }
      }
      try {
        const { backend } = await selectBackend({
          backend: flags.backend,
          threads: flags.threads,
          ...(flags.precision ? { precision: flags.precision } : {}),
        });
        console.log(
          `chosen: ${describeBackend(backend.info())}${requested === 'auto' ? ' (the fastest that loads)' : ''}`,
        );
      } catch (error) {
        console.log(`chosen: none (${(error as Error).message})`);
        process.exitCode = 1;
      }
    },
  );
}
