// `rnnkit train [FILE]`: train a character model, print progress, leave a checkpoint directory;
// `rnnkit train --resume DIR`: continue a run exactly where it stopped.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { Backend } from '../backend/types.js';
import { BUILTIN_CORPUS, readSource } from '../data/corpus.js';
import { invalidOption } from '../errors.js';
import { claimDefaultRunDir } from '../io/rundir.js';
import { POOLINGS } from '../model/classifier.js';
import { INIT_SCHEMES } from '../model/init.js';
import { SPAM_ASSASSIN } from '../tasks/classify/spam.js';
import { CMUDICT } from '../tasks/seq2seq/cmudict.js';
import { TOKEN_UNITS } from '../tasks/seq2seq/tokens.js';
import { TASK_DEFAULTS, resumeTraining, runTraining } from '../tasks/index.js';
import { TASK_NAMES, type TaskName } from '../tasks/task.js';
import {
  DEFAULT_TRAIN_CONFIG,
  LR_SCHEDULES,
  OPTIMIZERS,
  type ShapeOptions,
  optionName,
  validateTrainConfig,
  type TrainConfig,
  type TrainResult,
} from '../train/trainer.js';
import { refuseIneffective } from '../train/ineffective.js';
import { type BackendFlags, addBackendOptions, backendFrom } from './common.js';
import { duration, integer, number, oneOf } from './parse.js';
import { type OutputMode, TrainOutput } from './progress.js';

const d = DEFAULT_TRAIN_CONFIG;

/** A word as a POSIX shell reads it back: quoted when it holds anything but safe characters. */
const shellWord = (word: string): string => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`);
const SHAPE_KEYS = ['cell', 'nonlinearity', 'hidden', 'layers', 'embed', 'bidirectional'] as const;
/** Options that mean something for one task only. */
const TASK_ONLY: Record<string, readonly TaskName[]> = {
  seq: ['lm'],
  sampleEvery: ['lm'],
  sampleLength: ['lm'],
  initFrom: ['lm'],
  pool: ['classify'],
  maxLen: ['classify'],
  bidirectional: ['classify', 'seq2seq', 'ctc'],
  sourceTokens: ['seq2seq'],
  targetTokens: ['seq2seq'],
  labelSmoothing: ['seq2seq'],
  stack: ['ctc'],
  length: ['adding'],
  delay: ['copy'],
};
/** Tasks that generate their data from the seed (no FILE). */
const GENERATED: readonly TaskName[] = ['adding', 'copy'];
/** Options that may accompany --resume: everything else comes from the checkpoint. */
const RESUME_OPTIONS = new Set([
  'steps',
  'timeLimit',
  'backend',
  'threads',
  'precision',
  'resume',
  'quiet',
  'json',
  'report',
]);

type TrainFlags = TrainConfig &
  BackendFlags & {
    out?: string;
    force?: boolean;
    initFrom?: string;
    resume?: string;
    quiet?: boolean;
    json?: boolean;
    report?: boolean;
    timeLimit?: number;
  };

/** `invocation`: the words after `rnnkit`, recorded in run.json as the command line. */
export function registerTrain(program: Command, invocation: string[] = []): void {
  const command = program
    .command('train')
    .description(`train a character-level model on FILE (default: the built-in ${BUILTIN_CORPUS} corpus)`)
    .argument(
      '[file]',
      `lm: a UTF-8 text file (default: the built-in ${BUILTIN_CORPUS}); classify: JSON Lines or TSV examples (default: the built-in ${SPAM_ASSASSIN}); seq2seq: TSV source<TAB>target or JSON Lines {"source","target"} pairs (default: the built-in ${CMUDICT}, spelling → pronunciation); ctc: a directory with transcripts.tsv and WAV files`,
    )
    .option(
      '--task <name>',
      `what to learn: ${TASK_NAMES.join(', ')} (character language model, sequence classification)`,
      oneOf(TASK_NAMES),
      d.task,
    )
    .option('--cell <cell>', 'recurrent cell: rnn, lstm or gru', oneOf(['rnn', 'lstm', 'gru'] as const), d.cell)
    .option('--nonlinearity <f>', 'rnn nonlinearity: tanh or relu', oneOf(['tanh', 'relu'] as const), d.nonlinearity)
    .option('--hidden <n>', 'hidden units per layer', integer(1, 65536), d.hidden)
    .option('--layers <n>', 'stacked recurrent layers', integer(1, 64), d.layers)
    .option('--embed <n>', 'embedding size; 0 = one-hot input', integer(0, 65536), d.embed)
    .option(
      '--bidirectional',
      'classify, seq2seq (the encoder), ctc: every layer also reads each sequence backwards (outputs concatenated; seq2seq and ctc: the default)',
      d.bidirectional,
    )
    .option('--no-bidirectional', 'seq2seq: a unidirectional encoder; ctc: forward layers only')
    .option(
      '--stack <n>',
      'ctc: log-mel frames concatenated into one input frame, one in n kept (10 ms each)',
      integer(1, 16),
      d.stack,
    )
    .option(
      '--pool <how>',
      `classify: ${POOLINGS.join(', ')} — the final states, or the mean or maximum over each sequence's steps`,
      oneOf(POOLINGS),
      d.pool,
    )
    .option('--source-tokens <unit>', 'seq2seq: the source side as chars or words', oneOf(TOKEN_UNITS), d.sourceTokens)
    .option('--target-tokens <unit>', 'seq2seq: the target side as chars or words', oneOf(TOKEN_UNITS), d.targetTokens)
    .option(
      '--label-smoothing <e>',
      'seq2seq: label smoothing ε of the training loss, in [0, 1)',
      number(0, 1),
      d.labelSmoothing,
    )
    .option('--max-len <n>', 'classify: keep the first n characters of each input (default: 1000)', integer(1))
    .option('--dropout <p>', 'dropout between recurrent layers while training, in [0, 1)', number(0, 1), d.dropout)
    .option('--seq <n>', 'time steps per chunk (truncated BPTT length)', integer(1, 100_000), d.seq)
    .option('--batch <n>', 'parallel streams per step', integer(1, 100_000), d.batch)
    .option(
      '--steps <n>',
      "the run's total optimizer steps; 0 writes the initialised checkpoint and exits",
      integer(0),
      d.steps,
    )
    .option('--optimizer <name>', `optimizer: ${OPTIMIZERS.join(', ')}`, oneOf(OPTIMIZERS), d.optimizer)
    .option('--lr <x>', 'learning rate', number(0, 1e6), d.lr)
    .option('--momentum <x>', 'SGD momentum', number(0, 1), d.momentum)
    .option('--nesterov', 'Nesterov momentum (with --optimizer sgd --momentum > 0)', d.nesterov)
    .option(
      '--weight-decay <x>',
      "L2 penalty (decoupled for adamw); default: PyTorch's (0.01 for adamw, else 0)",
      number(0, 1e6),
    )
    .option('--alpha <x>', "RMSprop's decay (char-rnn's 0.95; PyTorch's default is 0.99)", number(0, 1), d.alpha)
    .option('--beta1 <x>', "Adam's β1", number(0, 1), d.beta1)
    .option('--beta2 <x>', "Adam's β2", number(0, 1), d.beta2)
    .option('--eps <x>', "the optimizer's epsilon (default: PyTorch's for it)", number(0, 1))
    .option(
      '--lr-schedule <name>',
      `learning-rate schedule: ${LR_SCHEDULES.join(', ')}`,
      oneOf(LR_SCHEDULES),
      d.lrSchedule,
    )
    .option('--warmup <n>', 'steps of linear warm-up (any schedule)', integer(0), d.warmup)
    .option('--decay-rate <x>', 'step schedule: multiply the rate by x ...', number(0, 1), d.decayRate)
    .option('--decay-every <n>', '... every n epochs ...', integer(1), d.decayEvery)
    .option('--decay-after <n>', '... from epoch n on (char-rnn)', integer(0), d.decayAfter)
    .option('--clip-value <x>', 'clip each gradient element to ±x; 0 = off', number(0), d.clipValue)
    .option('--clip-norm <x>', 'clip the global gradient norm to x; 0 = off', number(0), d.clipNorm)
    .option(
      '--skip-nonfinite',
      'skip (and count) steps whose loss or gradient is NaN/Inf instead of stopping (100 in a row stop the run)',
      d.skipNonfinite,
    )
    .option(
      '--val-frac <f>',
      'validation share in [0, 1): lm, the last fraction f of the text; classify, seq2seq, ctc: a fraction f of the examples (seq2seq: not with the built-in cmudict, whose split is fixed)',
      number(0, 1),
      d.valFrac,
    )
    .option('--eval-every <n>', 'validate every n steps (and at the end)', integer(1), d.evalEvery)
    .option('--patience <n>', 'stop after n validations without improvement; 0 = never', integer(0), d.patience)
    .option(
      '--init <scheme>',
      "initialisation: pytorch (uniform ±1/sqrt(H)), randn (min-char-rnn's randn·0.01), identity (ReLU RNN: W_hh = I, biases 0, the IRNN) or orthogonal (W_hh's gate blocks orthogonal)",
      oneOf(INIT_SCHEMES),
      d.init,
    )
    .option('--length <n>', 'adding: steps per sequence (T)', integer(0), d.length)
    .option('--delay <n>', 'copy: blanks between the 10 symbols and their recall (T)', integer(0), d.delay)
    .option(
      '--gradflow-every <n>',
      'measure ‖∂L/∂h_t‖ at every step t of a training batch every n steps (gradflow.jsonl, shown by rnnkit report); 0 = never',
      integer(0),
      d.gradflowEvery,
    )
    .option('--seed <n>', 'random seed', integer(0), d.seed)
    .option('--log-every <n>', 'print and record metrics every n steps', integer(1), d.logEvery)
    .option(
      '--sample-every <n>',
      'print a short sample (temperature 0.8, seed --seed + the step) every n steps; 0 = never',
      integer(0),
      2000,
    )
    .option('--sample-length <n>', 'characters in those samples', integer(1, 100_000), d.sampleLength)
    .option('--quiet', 'plain log lines instead of a progress bar')
    .option('--json', 'one JSON object per line (every event but the progress-bar ticks), for scripts')
    .option('--report', 'write report.html and report.svg (rnnkit report) at the end')
    .option(
      '--save-every <n>',
      'save the checkpoint every n steps; 0 = only at the end (and on Ctrl-C)',
      integer(0),
      d.saveEvery,
    )
    .option('--out <dir>', 'run directory, new or empty (default: runs/<time>, and runs/latest points to it)')
    .option(
      '--force',
      "replace the run in --out (deletes its files; a directory holding files that are not rnnkit's is refused even so)",
    )
    .option(
      '--time-limit <duration>',
      'stop at this wall-clock time since the command started (90s, 45m, 2h, 1h30m) as Ctrl-C does: after the current step, saving the checkpoint (continue with --resume)',
      duration,
    )
    .option('--init-from <dir>', "start from a checkpoint's weights; its shape and vocabulary are used")
    .option(
      '--resume <dir>',
      'continue the run saved in dir with its own settings (only --steps, --time-limit, --backend, --threads, --precision may be given)',
    );
  addBackendOptions(command).action(async (file: string | undefined, flags: TrainFlags, cmd: Command) => {
    // The limit counts from here: reading the data and loading the backend take part of it.
    const deadline = flags.timeLimit === undefined ? undefined : Date.now() + flags.timeLimit * 1000;
    const explicit = (key: string): boolean => cmd.getOptionValueSource(key) === 'cli';
    if (flags.quiet && flags.json) throw invalidOption('--quiet and --json exclude each other');
    const mode: OutputMode = flags.json ? 'json' : flags.quiet || !process.stdout.isTTY ? 'lines' : 'bar';
    const output = new TrainOutput(mode);
    const abort = new AbortController();
    const commandLine = ['rnnkit', ...invocation].map(shellWord).join(' ');
    const stop = (): void => {
      output.say('rnnkit: interrupted; saving the checkpoint');
      abort.abort();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      let result: TrainResult;
      let backend: Backend;
      if (flags.resume) {
        const refused = Object.keys(flags).filter((key) => explicit(key) && !RESUME_OPTIONS.has(key));
        if (file || refused.length)
          throw invalidOption(
            `--resume takes every setting from the checkpoint; remove ${file ? 'the FILE argument' : optionName(refused[0]!)}`,
          );
        backend = await backendFrom(flags, (line) => output.say(line));
        const steps = explicit('steps') ? flags.steps : undefined;
        result = await resumeTraining({
          dir: flags.resume,
          backend,
          steps,
          signal: abort.signal,
          deadline,
          onEvent: (e) => output.event(e),
        });
      } else {
        const task = flags.task;
        const misplaced = Object.keys(TASK_ONLY).find((key) => explicit(key) && !TASK_ONLY[key]!.includes(task));
        if (misplaced)
          throw invalidOption(
            `${optionName(misplaced)} applies to --task ${TASK_ONLY[misplaced]!.join(' or --task ')}, not --task ${task}`,
          );
        const explicitShape: Partial<ShapeOptions> = {};
        for (const key of SHAPE_KEYS) if (explicit(key)) Object.assign(explicitShape, { [key]: flags[key] });
        const defaults = TASK_DEFAULTS[task];
        const config = Object.fromEntries(
          Object.keys(d)
            .concat('weightDecay', 'eps')
            .map((k) => {
              const key = k as keyof TrainConfig;
              return [k, explicit(k) ? flags[key] : key in defaults ? defaults[key] : (flags[key] ?? d[key])];
            }),
        ) as unknown as TrainConfig;
        // Every check that needs no data, before anything is printed or written.
        validateTrainConfig({ ...config });
        if (flags.report && config.steps === 0)
          throw invalidOption('--report with --steps 0: no step would be logged, so there would be nothing to plot');
        // With --init-from the checkpoint decides the shape; runTraining checks the settings in effect.
        if (!flags.initFrom) refuseIneffective(config, (key) => explicit(key));
        const generated = GENERATED.includes(task);
        if (task === 'ctc' && !file)
          throw invalidOption('--task ctc needs a speech directory: rnnkit train --task ctc DIR (DIR/transcripts.tsv)');
        if (generated && file)
          throw invalidOption(`--task ${task} generates its sequences from --seed; remove the FILE argument`);
        const builtin =
          task === 'lm' ? BUILTIN_CORPUS : generated ? task : task === 'seq2seq' ? CMUDICT : SPAM_ASSASSIN;
        const source = file ? resolve(file) : builtin;
        const text = task === 'lm' ? readSource(source) : undefined;
        backend = await backendFrom(flags, (line) => output.say(line));
        // The default directory is claimed only once the data has been read: bad input leaves nothing behind.
        const data = generated
          ? `the ${task} problem (${task === 'adding' ? `--length ${config.length}` : `--delay ${config.delay}`}, generated from --seed ${config.seed})`
          : (file ?? `the built-in ${builtin} corpus`);
        const out = (): string => {
          const dir = flags.out ?? claimDefaultRunDir();
          const what = {
            lm: '',
            classify: 'a classifier ',
            seq2seq: 'a sequence-to-sequence model ',
            ctc: 'a speech recogniser ',
            adding: '',
            copy: '',
          }[task];
          output.header = `rnnkit: training ${what}on ${data}; writing ${dir}`;
          return dir;
        };
        result = await runTraining({
          text,
          source: generated ? undefined : source,
          config,
          backend,
          out,
          command: commandLine,
          force: flags.force,
          initFrom: flags.initFrom,
          explicitShape,
          signal: abort.signal,
          deadline,
          onEvent: (e) => output.event(e),
        });
      }
      output.finish(result);
      if (flags.report) {
        // Loaded only when asked for: Vega takes about half a second to import.
        const { writeReport } = await import('../report/index.js');
        const paths = await writeReport(result.dir, { backend });
        output.say(`rnnkit: report: ${paths.html} and ${paths.svg}`);
      }
    } finally {
      output.stop();
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  });
}
