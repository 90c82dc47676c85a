// `rnnkit info`: every backend, whether it loaded and why not, its SIMD level and threads, and the choice.
import type { Command } from 'commander';
import { BACKEND_NAMES, describeBackend, probeBackend, selectBackend } from '../backend/index.js';
import { type BackendFlags, addBackendOptions, threadsFrom } from './common.js';

export function registerInfo(program: Command): void {
  addBackendOptions(program.command('info').description('show the compute backends and which one is used')).action(async (given: BackendFlags) => {
    const flags = { ...given, threads: threadsFrom(given, console.log) };
    for (const name of BACKEND_NAMES) {
      const probe = await probeBackend(name, { threads: flags.threads });
      console.log(probe.loaded ? `${name.padEnd(10)} loaded      ${probe.info.simd}, ${probe.info.threads} thread${probe.info.threads === 1 ? '' : 's'}` : `${name.padEnd(10)} not loaded  ${probe.reason}`);
    }
    try {
      const { backend } = await selectBackend({ backend: flags.backend, threads: flags.threads });
      console.log(`chosen: ${describeBackend(backend.info())}${flags.backend === 'auto' && !process.env['RNNKIT_BACKEND'] ? ' (the fastest that loads)' : ''}`);
    } catch (error) {
      console.log(`chosen: none (${(error as Error).message})`);
      process.exitCode = 1;
    }
  });
}
