// `rnnkit info`: every backend, whether it loaded and why not, its SIMD level and threads, the native
// backend's precisions (and why one is unavailable), and the choice.
import type { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, probeBackend, selectBackend } from '../backend/index.js';
import { NativeBackend } from '../backend/native.js';
import { type BackendFlags, addBackendOptions } from './common.js';

export function registerInfo(program: Command): void {
  addBackendOptions(program.command('info').description('show the compute backends and which one is used')).action(async (flags: BackendFlags) => {
    for (const name of BACKEND_NAMES) {
      const probe = await probeBackend(name, { threads: flags.threads });
      console.log(probe.loaded ? `${name.padEnd(10)} loaded      ${probe.info.simd}, ${probe.info.threads} thread${probe.info.threads === 1 ? '' : 's'}` : `${name.padEnd(10)} not loaded  ${probe.reason}`);
      if (probe.loaded && probe.backend instanceof NativeBackend) {
        const levels = probe.backend.precisions().map((p) => (p.available ? `${p.name} available` : `${p.name} not available (${p.reason})`));
        console.log(`${'precision'.padEnd(10)} ${levels.join('; ')}`);
      }
    }
    try {
      const { backend } = await selectBackend({ backend: flags.backend, threads: flags.threads, ...(flags.precision ? { precision: flags.precision } : {}) });
      console.log(`chosen: ${describeBackend(backend.info())}${flags.backend === 'auto' && !process.env['RNNKIT_BACKEND'] ? ' (the fastest that loads)' : ''}`);
    } catch (error) {
      console.log(`chosen: none (${(error as Error).message})`);
      process.exitCode = 1;
    }
  });
}
