// Option value parsers for commander: refuse anything that is not exactly the kind of number asked for.
import { InvalidArgumentError } from 'commander';
import { rangeText } from '../util/range.js';

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected ${rangeText(true, min, max)}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

export function number(min: number, max = Number.MAX_VALUE): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected ${rangeText(false, min, max)}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

export function oneOf<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
    return value as T;
  };
}

const DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$/;

/** A positive duration in seconds, written with units: 90s, 45m, 2h, 1h30m, 1.5h. */
export function duration(value: string): number {
  const match = DURATION.exec(value.trim());
  const [, h = '0', m = '0', s = '0'] = match ?? [];
  const seconds = Number(h) * 3600 + Number(m) * 60 + Number(s);
  if (!match || !(seconds > 0 && Number.isFinite(seconds)))
    throw new InvalidArgumentError(`expected a duration such as 90s, 45m, 2h or 1h30m, got ${JSON.stringify(value)}`);
  return seconds;
}
