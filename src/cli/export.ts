// `rnnkit export DIR (--onnx FILE | --pytorch DIR) [--force]`: a checkpoint in another format.
import type { Command } from 'commander';
import { createRequire } from 'node:module';
import { invalidOption } from '../errors.js';
import { exportOnnx } from '../export/onnx/index.js';

interface ExportFlags {
  onnx?: string;
  pytorch?: string;
  force?: boolean;
}

const packageVersion = (): string => (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write a checkpoint in another format: an ONNX file (--onnx) or a PyTorch module (--pytorch)')
    .argument('<dir>', 'checkpoint directory (a run directory)')
    .option('--onnx <file>', 'write an ONNX model (opset 17) to this file')
    .option('--pytorch <dir>', 'write a PyTorch module and its weights into this directory')
    .option('--force', 'replace an existing output')
    .action((dir: string, flags: ExportFlags) => {
      if ((flags.onnx === undefined) === (flags.pytorch === undefined)) throw invalidOption('give exactly one of --onnx FILE or --pytorch DIR');
      if (flags.pytorch !== undefined) throw invalidOption('--pytorch is not implemented yet');
      exportOnnx(dir, flags.onnx!, { force: flags.force ?? false, producerVersion: packageVersion() });
      console.log(`wrote ${flags.onnx}`);
    });
}
