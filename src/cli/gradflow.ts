// `rnnkit gradflow DIR`: ‖∂L/∂h_t‖ at every time step of one batch, for a checkpoint of the adding or copy
// task (e.g. at initialisation: train --steps 0), as a log-scale chart (DIR/gradflow.svg) and --json.
import { join } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../io/atomic.js';
import { type GradflowMeasurement, measureGradflow } from '../tasks/synthetic/gradflow.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { integer } from './parse.js';

interface GradflowFlags extends BackendFlags {
  json?: boolean;
  svg?: string;
  batch: number;
  seed: number;
  length?: number;
}

/** ‖∂L/∂h_1‖ / ‖∂L/∂h_T‖ of each layer: below 1 the gradient shrinks on its way back (vanishes). */
const ratios = (m: GradflowMeasurement): number[] =>
  m.state_grad_norms.map((layer) => layer[0]![0]! / layer[0]![m.steps - 1]!);

export function registerGradflow(program: Command): void {
  addBackendOptions(
    program
      .command('gradflow')
      .description(
        'measure ‖∂L/∂h_t‖ at every time step of one batch (adding or copy checkpoints): does the gradient reach the early steps?',
      )
      .argument(
        '<dir>',
        'checkpoint directory (of --task adding or copy; `train --steps 0` writes one at initialisation)',
      )
      .option('--json', 'print one JSON object instead of the summary')
      .option('--svg <file>', 'where to write the chart (default: DIR/gradflow.svg)')
      .option('--batch <n>', 'sequences in the batch', integer(1, 100_000), 32)
      .option('--seed <n>', "the batch's seed (the test stream: never a training batch)", integer(0), 1)
      .option(
        '--length <n>',
        "measure at this T (adding) or delay (copy) instead of the checkpoint's",
        integer(1, 99_980),
      ),
  ).action(async (dir: string, flags: GradflowFlags) => {
    const m = measureGradflow(dir, await backendFrom(flags), {
      batch: flags.batch,
      seed: flags.seed,
      ...(flags.length !== undefined ? { length: flags.length } : {}),
    });
    // Loaded only here: Vega takes about half a second to import.
    const { renderSvg } = await import('../report/render.js');
    const { standaloneSpec, stateGradientChart } = await import('../report/gradflow-charts.js');
    const profiles = m.state_grad_norms.flatMap((layer, l) =>
      layer.map((norms, d) => ({
        label: `layer ${l + 1}${layer.length > 1 ? (d === 0 ? ' forward' : ' backward') : ''}`,
        norms,
      })),
    );
    const title = `Gradient flow: ${m.cell}, ${m.task} ${m.task === 'adding' ? `T = ${m.length}` : `delay ${m.length}`}`;
    const chart = stateGradientChart(
      'gradflow',
      title,
      [`‖∂L/∂h_t‖ over a batch of ${m.batch} (seed ${m.seed}), log scale`, `loss ${m.loss.toPrecision(4)}`],
      '',
      profiles,
    );
    const svgPath = flags.svg ?? join(dir, 'gradflow.svg');
    writeFileAtomic(svgPath, (await renderSvg(standaloneSpec(chart))).svg);
    if (flags.json) {
      console.log(JSON.stringify({ ...m, ratio_first_to_last: ratios(m), svg: svgPath }));
      return;
    }
    console.log(`${title}: loss ${m.loss.toPrecision(4)} on a batch of ${m.batch}`);
    m.state_grad_norms.forEach((layer, l) => {
      const norms = layer[0]!,
        at = (t: number): string => norms[t - 1]!.toExponential(2);
      const marks = [m.steps, Math.ceil(m.steps / 2), 1];
      console.log(
        `layer ${l + 1}: ${marks.map((t) => `‖∂L/∂h_${t}‖ ${at(t)}`).join('  ')}  (first/last ${ratios(m)[l]!.toExponential(2)})`,
      );
    });
    console.log(`chart: ${svgPath}`);
  });
}
