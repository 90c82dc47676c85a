// `rnnkit bench`: the benchmark of src/bench on every backend that loads.
import type { Command } from 'commander';
import { BENCH_CONFIGS, formatBench, runBench } from '../bench/index.js';
import { BACKEND_NAMES } from '../backend/index.js';
import type { BackendName } from '../backend/types.js';
import { integer, oneOf } from './parse.js';

interface BenchFlags {
  quick?: boolean;
  json?: boolean;
  backend?: BackendName[];
  config?: string[];
  threads?: number;
}

const collect =
  <T>(parse: (v: string) => T) =>
  (value: string, previous: T[] | undefined): T[] => [...(previous ?? []), parse(value)];

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description(
      'measure training (C1–C4), classification (K1), sampling (S3), attention decoder (D1, D2), seq2seq (X1 training, X5 beam search), speech features (A1) and transcription (A2) speed on every backend that loads',
    )
    .option('--quick', 'short timing windows (about 30 seconds in all)')
    .option('--json', 'print one JSON object')
    .option('--backend <name>', 'only this backend (repeatable)', collect(oneOf(BACKEND_NAMES)))
    .option(
      '--config <name>',
      'only this configuration (repeatable)',
      collect(oneOf([...BENCH_CONFIGS.map((b) => b.name), 'K1', 'S3', 'D1', 'D2', 'X1', 'X5', 'A1', 'A2'])),
    )
    .option('--threads <n>', 'native and WebAssembly threads (wasm is also measured on 1)', integer(1, 1024))
    .action(async (flags: BenchFlags) => {
      const result = await runBench({
        quick: flags.quick,
        backends: flags.backend,
        configs: flags.config,
        threads: flags.threads,
        log: flags.json ? undefined : (line) => console.error(line),
      });
      console.log(flags.json ? JSON.stringify(result) : formatBench(result));
    });
}
