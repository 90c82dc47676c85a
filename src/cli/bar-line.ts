// The progress-bar line, fitted to the terminal's width. With line wrapping off (as the bar library sets it
// while it draws) a longer line would be cut at the right edge, losing the numbers; so the bar graphic goes
// first, then the percentage and labels, and only then is the line cut.

export interface BarFields {
  step: number;
  steps: number;
  /** The short-window training loss, already in `unit`; null until known. */
  train: number | null;
  /** The latest validation loss in `unit`; null until validated. */
  val: number | null;
  accuracy: number | null;
  unit: string;
  /** Tokens per second, formatted; "–" until known. */
  rate: string;
  /** Time left, formatted; "–" until known. */
  eta: string;
  /** Steps skipped for a non-finite loss or gradient (--skip-nonfinite). */
  skipped: number;
}

const MIN_BAR = 10;
const MAX_BAR = 40;

const value = (x: number | null, digits: number): string => (x === null || Number.isNaN(x) ? '–' : x.toFixed(digits));

function graphic(progress: number, size: number): string {
  const done = Math.round(progress * size);
  return '\u2588'.repeat(done) + '\u2591'.repeat(size - done);
}

/** The line for a terminal `width` columns wide (one column is left free so the cursor never wraps). */
export function barLine(f: BarFields, width: number): string {
  const room = Math.max(1, width - 1);
  const progress = f.steps > 0 ? Math.min(1, f.step / f.steps) : 1;
  const percent = `${Math.floor(progress * 100)}%`;
  const skipped = f.skipped ? [`${f.skipped.toLocaleString('en-US')} skipped`] : [];
  const accuracy = f.accuracy === null ? '' : `, accuracy ${value(f.accuracy, 4)}`;
  const inUnit = (x: number | null): string => (x === null || Number.isNaN(x) ? '–' : `${x.toFixed(4)} ${f.unit}`);
  const fields = [
    `train ${inUnit(f.train)}`,
    `val ${inUnit(f.val)}${accuracy}`,
    `${f.rate} tok/s`,
    `ETA ${f.eta}`,
    ...skipped,
  ].join(' | ');
  const head = `step ${f.step}/${f.steps}`;
  const withoutBar = `${head} ${percent} | ${fields}`;
  const barSize = Math.min(MAX_BAR, room - withoutBar.length - 1);
  if (barSize >= MIN_BAR) return `${head} ${graphic(progress, barSize)} ${percent} | ${fields}`;
  if (withoutBar.length <= room) return withoutBar;
  // Narrow: the unit once, three decimals, no separators.
  const compact = [
    `${f.step}/${f.steps}`,
    `train ${value(f.train, 3)}`,
    `val ${value(f.val, 3)} ${f.unit}${f.accuracy === null ? '' : ` acc ${value(f.accuracy, 3)}`}`,
    `${f.rate} tok/s`,
    `ETA ${f.eta}`,
    ...skipped,
  ].join(' ');
  return compact.slice(0, room);
}
