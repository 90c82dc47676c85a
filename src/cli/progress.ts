// What `rnnkit train` prints: a progress bar on a terminal (cli-progress), plain lines when stdout is not a
// terminal or with --quiet, one JSON object per line with --json.
import cliProgress from 'cli-progress';
import { describeBackend } from '../backend/index.js';
import type { TrainEvent, TrainResult } from '../train/trainer.js';

export type OutputMode = 'bar' | 'lines' | 'json';

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

/** What to try with a trained model of each task (generated tasks: score a fresh test set). */
const NEXT_COMMAND: Record<string, string> = { lm: 'sample', classify: 'predict' };

export class TrainOutput {
  private bars: cliProgress.MultiBar | null = null;
  private bar: cliProgress.SingleBar | null = null;
  private steps = 0;
  private valMetric = '–';
  private startStep = 0;
  private readonly started = performance.now();
  /** Language models show bits per character, classifiers the loss in nats: training and validation alike. */
  private bpc = true;
  private barStarted = 0;

  /** Said when the run starts (after every check passed), before anything else. */
  header: string | null = null;

  /** `barOptions`: for tests, another stream for the bar (with noTTYOutput). */
  constructor(
    private readonly mode: OutputMode,
    private readonly barOptions: cliProgress.Options = {},
  ) {}

  /** A line for people (in --json mode, an object with a message). */
  say(message: string): void {
    if (this.mode === 'json') console.log(JSON.stringify({ type: 'message', message }));
    else if (this.bars) this.bars.log(`${message}\n`);
    else console.log(message);
  }

  event(e: TrainEvent): void {
    if (e.type === 'start' && this.header) this.say(this.header);
    if (this.mode === 'json') {
      if (e.type !== 'progress') console.log(JSON.stringify(e)); // display ticks; the step events carry the data
      return;
    }
    switch (e.type) {
      case 'start':
        this.steps = e.steps;
        this.startStep = e.step;
        this.bpc = e.task === 'lm';
        if (e.step > 0) this.say(`rnnkit: resuming ${e.dir} at step ${e.step} of ${e.steps}`);
        this.say(
          `rnnkit: ${describeBackend(e.backend)} | ${count(e.parameters)} parameters | ${e.perStep} | ` +
            `${count(e.trainSize)} training ${e.unit}${e.valSize ? ` + ${count(e.valSize)} for validation` : ''} | vocabulary ${e.vocabSize}`,
        );
        for (const note of e.notes) this.say(`rnnkit: ${note}`);
        if (this.mode === 'bar') {
          this.bars = new cliProgress.MultiBar(
            { format: 'step {value}/{total} {bar} {percentage}% | train {loss} | val {valMetric} | {rate} tok/s | ETA {timeLeft}', hideCursor: true, clearOnComplete: false, ...this.barOptions },
            cliProgress.Presets.shades_classic,
          );
          this.bar = this.bars.create(e.steps, e.step, { loss: '–', valMetric: this.valMetric, rate: '–', timeLeft: '–' });
          this.barStarted = performance.now();
        }
        break;
      case 'progress':
        this.bar?.update(e.step, { loss: Number.isNaN(e.loss) ? '–' : this.inUnit(e.loss), rate: count(e.tokens_per_s), timeLeft: this.timeLeft(e.step) });
        break;
      case 'step': {
        const m = e.metrics;
        if (this.bar) {
          if (m.step === this.steps) this.bar.update(m.step, { timeLeft: '0s' }); // the last step may come between ticks
        } else {
          const [key, value] = Object.entries(m).find(([k]) => k.startsWith('val_') && k !== 'val_loss') ?? [];
          const val = key ? `  ${key.replace('_', '-')} ${(value as number).toFixed(4)}` : '';
          console.log(`step ${String(m.step).padStart(String(this.steps).length)}/${this.steps}  loss ${m.loss.toFixed(4)}  smooth ${m.smooth_loss.toFixed(4)}${val}  lr ${m.lr.toPrecision(3)}  grad-norm ${m.grad_norm.toFixed(3)}  ${count(m.tokens_per_s)} tok/s`);
        }
        break;
      }
      case 'validation': {
        const metrics = Object.entries(e.metrics);
        const accuracy = e.metrics['accuracy'];
        this.valMetric = `${this.inUnit(e.loss)}${accuracy === undefined ? '' : `, accuracy ${accuracy.toFixed(4)}`}`;
        this.bar?.update({ valMetric: this.valMetric });
        const listed = metrics.map(([name, value]) => `, ${name} ${value.toFixed(4)}`).join('');
        if (this.bars) this.say(`step ${e.step}: validation loss ${e.loss.toFixed(4)}${listed}${e.best ? ' (best so far)' : ''}`);
        break;
      }
      case 'sample':
        this.say(`--- sample at step ${e.step} ---\n${e.text}\n---`);
        break;
      case 'warning':
        this.say(`rnnkit: ${e.message}`);
        break;
      case 'skipped':
        this.say(`rnnkit: step ${e.step}: loss ${e.loss}, gradient norm ${e.gradNorm}; step skipped (${e.skippedSteps} so far)`);
        break;
      case 'checkpoint':
        if (e.reason === 'interrupted') this.say(`rnnkit: saved the checkpoint at step ${e.step} in ${e.dir}`);
        break;
    }
  }

  /** A loss in nats, in the display's unit, naming it. */
  private inUnit(loss: number): string {
    return this.bpc ? `${(loss / Math.LN2).toFixed(4)} bpc` : `${loss.toFixed(4)} nats`;
  }

  /** The time left at the speed so far; "–" until a step of this session has been timed. */
  private timeLeft(step: number): string {
    const done = step - this.startStep;
    if (done <= 0) return '–';
    return duration((((performance.now() - this.barStarted) / 1000) * (this.steps - step)) / done);
  }

  stop(): void {
    this.bars?.stop();
    this.bars = null;
    this.bar = null;
  }

  /** The closing lines: why it ended, time, throughput, best validation, where the checkpoint is. */
  finish(result: TrainResult): void {
    this.stop();
    const seconds = (performance.now() - this.started) / 1000;
    const tokensPerS = result.tokensProcessed / seconds;
    if (this.mode === 'json') {
      console.log(JSON.stringify({ type: 'done', ...result, seconds, tokens_per_s: tokensPerS }));
      return;
    }
    const { cell, nonlinearity, hidden, layers } = result.config;
    const shape = `${cell}${cell === 'rnn' ? `-${nonlinearity}` : ''} ${layers}×${hidden}`;
    const why = result.interrupted ? 'stopped (interrupted)' : result.stoppedEarly ? 'stopped early (no validation improvement)' : 'done';
    const bestValue = result.task === 'lm' ? `bpc ${((result.bestValLoss ?? 0) / Math.LN2).toFixed(4)}` : `loss ${(result.bestValLoss ?? 0).toFixed(4)}`;
    const best = result.bestValLoss !== null ? `, best validation ${bestValue} (in ${result.dir}/best)` : '';
    console.log(`rnnkit: ${why} at step ${result.steps} of ${result.config.steps} in ${duration(seconds)} (${count(tokensPerS)} tok/s, ${shape}, ${count(result.parameterCount)} parameters)${best}; checkpoint: ${result.dir}`);
    if (result.interrupted) console.log(`rnnkit: continue with: npx rnnkit train --resume ${result.dir}`);
    else console.log(`rnnkit: try: npx rnnkit ${NEXT_COMMAND[result.task] ?? 'eval'} ${result.dir}`);
  }
}
