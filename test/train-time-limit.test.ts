// --time-limit stops a run as an interrupt does: after the step under way, with a checkpoint, a final line
// that says why and exit 0; --resume continues it to the same bits as a run never stopped. A duration that
// cannot be read is a usage error (exit 2) and nothing is written.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadTrainerState } from '../src/train/state.js';
import { cli, scratchDir } from './cli-helpers.js';

const { dir, file } = scratchDir('rnnkit-time-limit-');
const text = file(
  'text.txt',
  'Happy families are all alike; every unhappy family is unhappy in its own way. '.repeat(40),
);
const small = ['--hidden', '16', '--seq', '16', '--batch', '2', '--log-every', '1000000', '--sample-every', '0'];
const weights = (run: string): Buffer => readFileSync(join(run, 'model.safetensors'));

describe('rnnkit train --time-limit', () => {
  it('stops a run of 100,000,000 steps at the limit, saves it and says why; --resume continues it exactly', async () => {
    const limited = join(dir, 'limited');
    const stopped = await cli('train', text, ...small, '--steps', '100000000', '--time-limit', '2s', '--out', limited);
    expect(stopped.err).toBe('');
    expect(stopped.code).toBe(0);
    const step = loadTrainerState(limited).position.step;
    expect(step).toBeLessThan(100_000_000);
    expect(stopped.out).toContain(`rnnkit: saved the checkpoint at step ${step} in ${limited}`);
    expect(stopped.out).toMatch(new RegExp(`rnnkit: stopped at the time limit at step ${step} of 100000000 in `));
    expect(stopped.out).toContain(`rnnkit: continue with: rnnkit train --resume ${limited}`);

    const resumed = await cli('train', '--resume', limited, '--steps', String(step + 5), '--time-limit', '1h');
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.out).toMatch(new RegExp(`rnnkit: done at step ${step + 5} of ${step + 5} in `));
    const direct = join(dir, 'direct');
    expect((await cli('train', text, ...small, '--steps', String(step + 5), '--out', direct)).code).toBe(0);
    expect(Buffer.compare(weights(limited), weights(direct))).toBe(0);
  }, 120_000);

  it('--json: the done event says the time limit stopped the run', async () => {
    const out = join(dir, 'json');
    const { out: lines, code } = await cli(
      'train',
      text,
      ...small,
      '--steps',
      '100000000',
      '--time-limit',
      '1s',
      '--json',
      '--out',
      out,
    );
    expect(code).toBe(0);
    const events = lines
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events).toContainEqual(expect.objectContaining({ type: 'checkpoint', reason: 'time-limit' }));
    expect(events.at(-1)).toMatchObject({ type: 'done', interrupted: true, timeLimitReached: true });
  }, 120_000);

  it.each(['45', '0s', '-1m', 'soon', '1m30', '1s2h', ''])(
    'refuses %j: one line, exit 2, nothing written',
    async (value) => {
      const out = join(dir, `bad-${value}`);
      const { code, err } = await cli('train', text, '--time-limit', value, '--out', out);
      expect(code).toBe(2);
      const lines = err
        .trim()
        .split('\n')
        .filter((line) => line !== '(add --help for usage)');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/--time-limit.*expected a duration such as 90s, 45m, 2h or 1h30m, got /);
      expect(existsSync(out)).toBe(false);
    },
  );
});
