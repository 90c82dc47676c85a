// `rnnkit export DIR (--onnx FILE | --pytorch OUT_DIR) [--force]`: a run in another framework's terms.
import type { Command } from 'commander';
import { invalidOption } from '../errors.js';
import { exportOnnx } from '../export/onnx/index.js';
import { exportPytorch } from '../export/pytorch/export.js';
import { VERSION } from '../version.js';

interface ExportFlags {
  onnx?: string;
  pytorch?: string;
  force?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      'hand a run to another framework: an ONNX model (--onnx), or a PyTorch module with a DistributedDataParallel script that continues the run exactly (--pytorch)',
    )
    .argument('<dir>', 'run directory (written by rnnkit train)')
    .option('--onnx <file>', 'write an ONNX model (opset 17) to this file')
    .option(
      '--pytorch <out_dir>',
      'a directory with model.py, train_ddp.py (torchrun), the checkpoint, the training data and a README',
    )
    .option(
      '--force',
      'replace an existing ONNX file; write into a non-empty directory (over the files the export writes; others stay)',
    )
    .action((dir: string, flags: ExportFlags) => {
      if ((flags.onnx === undefined) === (flags.pytorch === undefined))
        throw invalidOption('export needs exactly one of --onnx FILE or --pytorch DIR');
      if (flags.onnx !== undefined) {
        exportOnnx(dir, flags.onnx, { force: flags.force ?? false, producerVersion: VERSION });
        console.log(`rnnkit: wrote ${flags.onnx}`);
        return;
      }
      const result = exportPytorch(dir, flags.pytorch!, { force: flags.force });
      console.log(
        `rnnkit: wrote ${result.files.join(', ')} into ${result.out} (the run at step ${result.step} of ${result.steps})`,
      );
      console.log(
        `rnnkit: continue it: torchrun --nproc_per_node P ${result.out}/train_ddp.py --steps N --out NEW_DIR  (see ${result.out}/README.md)`,
      );
    });
}
