// `rnnkit export DIR (--onnx FILE | --pytorch OUT_DIR) [--force]`: a run in another framework's terms.
import type { Command } from 'commander';
import { invalidOption } from '../errors.js';
import { exportPytorch } from '../export/pytorch/export.js';

interface ExportFlags {
  onnx?: string;
  pytorch?: string;
  force?: boolean;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("hand a run to another framework: --pytorch writes a PyTorch module and a DistributedDataParallel script that continues the run exactly")
    .argument('<dir>', 'run directory (written by rnnkit train)')
    .option('--onnx <file>', 'an ONNX model file')
    .option('--pytorch <out_dir>', 'a directory with model.py, train_ddp.py (torchrun), the checkpoint, the training data and a README')
    .option('--force', 'write into a non-empty directory (over the files the export writes; others stay)')
    .action((dir: string, flags: ExportFlags) => {
      if ((flags.onnx === undefined) === (flags.pytorch === undefined)) throw invalidOption('export needs exactly one of --onnx FILE or --pytorch DIR');
      if (flags.onnx !== undefined) throw invalidOption('export --onnx is not implemented yet');
      const result = exportPytorch(dir, flags.pytorch!, { force: flags.force });
      console.log(`rnnkit: wrote ${result.files.join(', ')} into ${result.out} (the run at step ${result.step} of ${result.steps})`);
      console.log(`rnnkit: continue it: torchrun --nproc_per_node P ${result.out}/train_ddp.py --steps N --out NEW_DIR  (see ${result.out}/README.md)`);
    });
}
