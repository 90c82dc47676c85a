// What `rnnkit train` prints: a progress bar on a terminal (cli-progress), plain lines when stdout is not a
// terminal or with --quiet, one JSON object per line with --json. Losses are shown in one unit throughout:
// bits per character for language models, nats for classifiers.
import cliProgress from 'cli-progress';
import { describeBackend } from '../backend/index.js';
import type { TrainEvent, TrainResult } from '../train/trainer.js';
import { type BarFields, barLine } from './bar-line.js';

export type OutputMode = 'bar' | 'lines' | 'json';

const WRAP_ON = '\x1b[?7h';
const WRAP_OFF = '\x1b[?7l';

const count = (n: number): string => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

/** What to try with a trained model of each task (generated tasks: score a fresh test set). */
const NEXT_COMMAND: Record<string, string> = { lm: 'sample', classify: 'predict', seq2seq: 'translate' };

export class TrainOutput {
  private bars: cliProgress.MultiBar | null = null;
  private bar: cliProgress.SingleBar | null = null;
  private steps = 0;
  /** What the bar shows besides the step (losses in the display's unit). */
  private fields: Omit<BarFields, 'step'> = {
    steps: 0,
    train: null,
    val: null,
    accuracy: null,
    unit: 'bpc',
    rate: '–',
    eta: '–',
    skipped: 0,
  };
  private startStep = 0;
  private readonly started = performance.now();
  /** Language models show bits per character, the adding problem its squared error, other tasks nats: training and validation alike. */
  private unit: 'bpc' | 'nats' | 'mse' = 'bpc';
  private barStarted = 0;
  /** True while the bar library has line wrapping off on a terminal. */
  private wrapOff = false;

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
    // The bar library turns line wrapping off while it draws; lines above the bar get it back, or a
    // terminal narrower than a line would cut it.
    else if (this.bars) this.bars.log(this.wrapOff ? `${WRAP_ON}${message}\n${WRAP_OFF}` : `${message}\n`);
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
        // The language model in bits per character, the adding problem's squared error as it is, others in nats.
        this.unit = e.task === 'lm' ? 'bpc' : e.task === 'adding' ? 'mse' : 'nats';
        if (e.step > 0) this.say(`rnnkit: resuming ${e.dir} at step ${e.step} of ${e.steps}`);
        this.say(
          `rnnkit: ${describeBackend(e.backend)} | ${count(e.parameters)} parameters | ${e.perStep} | ` +
            `${count(e.trainSize)} training ${e.unit}${e.valSize ? ` + ${count(e.valSize)} for validation` : ''} | vocabulary ${e.vocabSize}`,
        );
        for (const note of e.notes) this.say(`rnnkit: ${note}`);
        this.fields = { ...this.fields, steps: e.steps, unit: this.unit };
        if (this.mode === 'bar') {
          const options: cliProgress.Options = {
            format: (_options, params) => barLine({ ...this.fields, step: params.value }, params.maxWidth),
            hideCursor: true,
            clearOnComplete: false,
            ...this.barOptions,
          };
          this.bars = new cliProgress.MultiBar(options);
          this.wrapOff =
            ((options.stream as { isTTY?: boolean } | undefined) ?? process.stderr).isTTY === true &&
            options.linewrap !== true;
          this.bar = this.bars.create(e.steps, e.step);
          this.barStarted = performance.now();
        }
        break;
      case 'progress':
        Object.assign(this.fields, {
          train: Number.isNaN(e.loss) ? null : this.inUnit(e.loss),
          rate: count(e.tokens_per_s),
          eta: this.timeLeft(e.step),
        });
        this.bar?.update(e.step);
        break;
      case 'step': {
        const m = e.metrics;
        if (this.bar) {
          if (m.step === this.steps) {
            this.fields.eta = '0s'; // the last step may come between ticks
            this.bar.update(m.step);
          }
        } else {
          const val = m.val_loss === undefined ? '' : `  val ${this.lossText(m.val_loss)}`;
          const accuracy =
            (m.val_accuracy === undefined ? '' : `  val-accuracy ${m.val_accuracy.toFixed(4)}`) +
            (m.val_cer === undefined ? '' : `  val-cer ${m.val_cer.toFixed(4)}`) +
            (m.val_wer === undefined ? '' : `  val-wer ${m.val_wer.toFixed(4)}`) +
            (m.val_per === undefined ? '' : `  val-per ${m.val_per.toFixed(4)}`);
          const skipped = m.skipped_steps ? `  skipped ${count(m.skipped_steps)}` : '';
          console.log(
            `step ${String(m.step).padStart(String(this.steps).length)}/${this.steps}  loss ${this.lossText(m.loss)}  smoothed ${this.lossText(m.smooth_loss)}${val}${accuracy}` +
              `  lr ${m.lr.toPrecision(3)}  grad-norm ${m.grad_norm.toFixed(3)}  ${count(m.tokens_per_s)} tok/s${skipped}`,
          );
        }
        break;
      }
      case 'validation': {
        const metrics = Object.entries(e.metrics);
        const accuracy = e.metrics['accuracy'];
        Object.assign(this.fields, { val: this.inUnit(e.loss), accuracy: accuracy ?? null });
        this.bar?.update(e.step);
        // The loss in the display's unit first (bpc is then not repeated), then the task's other metrics.
        const listed = metrics
          .filter(([name]) => name !== 'bpc')
          .map(([name, value]) => `, ${name} ${value.toFixed(4)}`)
          .join('');
        if (this.bars)
          this.say(`step ${e.step}: validation ${this.lossText(e.loss)}${listed}${e.best ? ' (best so far)' : ''}`);
        break;
      }
      case 'sample':
        this.say(`--- sample at step ${e.step} ---\n${e.text}\n---`);
        break;
      case 'warning':
        this.say(`rnnkit: ${e.message}`);
        break;
      case 'skipped':
        // The first skip is described; the count of all of them is on the progress line (and the final line).
        if (e.skippedSteps === 1)
          this.say(
            `rnnkit: step ${e.step}: loss ${e.loss}, gradient norm ${e.gradNorm}; step skipped (further skips are counted on the progress line)`,
          );
        this.fields.skipped = e.skippedSteps;
        this.bar?.update(e.step);
        break;
      case 'checkpoint':
        if (e.reason === 'interrupted' || e.reason === 'time-limit')
          this.say(`rnnkit: saved the checkpoint at step ${e.step} in ${e.dir}`);
        break;
    }
  }

  /** A loss in nats, in the display's unit. */
  private inUnit(loss: number): number {
    return this.unit === 'bpc' ? loss / Math.LN2 : loss;
  }

  /** A loss in nats, in the display's unit, naming it. */
  private lossText(loss: number): string {
    return `${this.inUnit(loss).toFixed(4)} ${this.unit}`;
  }

  /** The time left at the speed so far; "–" until a step of this session has been timed. */
  private timeLeft(step: number): string {
    const done = step - this.startStep;
    if (done <= 0) return '–';
    return duration((((performance.now() - this.barStarted) / 1000) * (this.steps - step)) / done);
  }

  stop(): void {
    this.wrapOff = false;
    // A redraw first: it prints the lines said since the last one, which stop() alone would drop.
    this.bars?.update();
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
    const why = result.timeLimitReached
      ? 'stopped at the time limit'
      : result.interrupted
        ? 'stopped (interrupted)'
        : result.stoppedEarly
          ? 'stopped early (no validation improvement)'
          : 'done';
    const best =
      result.bestValLoss !== null
        ? `, best validation ${this.lossText(result.bestValLoss)} (in ${result.dir}/best)`
        : '';
    const skipped = result.skippedSteps
      ? `, ${count(result.skippedSteps)} step${result.skippedSteps === 1 ? '' : 's'} skipped (non-finite)`
      : '';
    console.log(
      `rnnkit: ${why} at step ${result.steps} of ${result.config.steps} in ${duration(seconds)} (${count(tokensPerS)} tok/s, ${shape}, ${count(result.parameterCount)} parameters)${skipped}${best}; checkpoint: ${result.dir}`,
    );
    if (result.interrupted) console.log(`rnnkit: continue with: rnnkit train --resume ${result.dir}`);
    else console.log(`rnnkit: try: rnnkit ${NEXT_COMMAND[result.task] ?? 'eval'} ${result.dir}`);
  }
}
