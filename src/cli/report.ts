// `rnnkit report DIR`: write DIR/report.html and DIR/report.svg, print their paths.
import type { Command } from 'commander';
import { BACKEND_NAMES, selectBackend } from '../backend/index.js';
import type { BackendName } from '../backend/types.js';
import { oneOf } from './parse.js';

interface ReportFlags {
  backend: BackendName;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description(
      'write report.html (self-contained) and report.svg for a run: loss against step and wall time, learning rate, gradient norm, speed, the settings and a final sample',
    )
    .argument('<dir>', 'run directory (written by rnnkit train)')
    .option(
      '--backend <name>',
      `backend that generates the final sample: ${BACKEND_NAMES.join(', ')} (reference gives the same sample on every machine; native is faster for large models)`,
      oneOf(BACKEND_NAMES),
      'reference',
    )
    .action(async (dir: string, flags: ReportFlags) => {
      const { backend } = await selectBackend({ backend: flags.backend });
      // Loaded here, not at start-up: Vega takes about half a second to import, which other commands need not pay.
      const { writeReport } = await import('../report/index.js');
      const paths = await writeReport(dir, { backend });
      console.log(paths.html);
      console.log(paths.svg);
    });
}
