// How an allowed range reads to a person: "an integer >= 0" rather than "from 0 to 9007199254740991".

/** "an integer from 1 to 64", "a number >= 0" (a maximum at or past 2^53 means none). */
export function rangeText(integer: boolean, min: number, max: number): string {
  return `${integer ? 'an integer' : 'a number'} ${max >= Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`}`;
}
