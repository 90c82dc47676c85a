// train() for scripts and servers: one error path (bad options reject, never throw), leaving a `for await`
// loop stops and saves the run, so does a time limit; an already-aborted signal takes no step; unknown config
// keys are refused.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { runTraining } from '../src/tasks/index.js';
import { train } from '../src/train/handle.js';
import { loadTrainerState } from '../src/train/state.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from '../src/train/config.js';

const work = mkdtempSync(join(tmpdir(), 'rnnkit-handle-'));
const text = 'Happy families are all alike; every unhappy family is unhappy in its own way. '.repeat(40);
/** A run far longer than any test waits for: only stopping it ends it in time. */
const long = { hidden: 16, seq: 16, batch: 2, steps: 1_000_000, logEvery: 1, saveEvery: 0 };

async function drain(iterable: AsyncIterable<unknown>): Promise<unknown> {
  try {
    for await (const _ of iterable);
    return null;
  } catch (error) {
    return error;
  }
}

describe('train() rejects bad options through result and the iterator', () => {
  it.each([
    ['a missing out', { text }, /`out` \(the run directory\) is required/],
    [
      'a misspelt config key',
      { text, out: join(work, 'x'), config: { hiden: 5 } },
      /config has no setting "hiden" \(did you mean hidden\?\)/,
    ],
    ['a misspelt option', { text, outt: join(work, 'x') }, /train\(\) has no setting "outt" \(did you mean out\?\)/],
    ['an invalid setting', { text, out: join(work, 'x'), config: { lr: -1 } }, /lr must be/],
    [
      'a setting that would do nothing',
      { text, out: join(work, 'x'), config: { optimizer: 'sgd', beta1: 0.9 } },
      /--beta1 applies to --optimizer adam or adamw, not sgd/,
    ],
    [
      'a time limit that is not positive',
      { text, out: join(work, 'x'), timeLimitSeconds: 0 },
      /train\(\): timeLimitSeconds must be a positive number of seconds, got 0/,
    ],
    [
      'an unknown backend',
      { text, out: join(work, 'x'), backend: 'gpu' },
      /backend must be auto, native, wasm, reference; got "gpu"/,
    ],
  ])('%s', async (_what, options, message) => {
    let handle: ReturnType<typeof train> | undefined;
    expect(() => (handle = train(options as Parameters<typeof train>[0]))).not.toThrow();
    await expect(handle!.result).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: expect.stringMatching(message),
    });
    expect(String(await drain(handle!))).toMatch(message);
  });

  it('a failure in the worker also ends the iterator with the error', async () => {
    const handle = train({ text: 'aaaa', out: join(work, 'one-char') });
    expect(String(await drain(handle))).toMatch(/only 1 distinct character/);
    await expect(handle.result).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });
});

describe('leaving a for-await loop stops the run and saves it', () => {
  it.each(['break', 'throw'] as const)(
    '%s',
    async (how) => {
      const out = join(work, `leave-${how}`);
      const handle = train({ text, out, backend: 'reference', config: long });
      const leave = async (): Promise<void> => {
        for await (const event of handle) {
          if (event.type === 'step' && event.metrics.step >= 5) {
            if (how === 'break') break;
            throw new Error('the caller failed');
          }
        }
      };
      if (how === 'throw') await expect(leave()).rejects.toThrow('the caller failed');
      else await leave();
      const result = await handle.result;
      expect(result.interrupted).toBe(true);
      expect(result.steps).toBeLessThan(long.steps);
      expect(loadTrainerState(out).position.step).toBe(result.steps);
    },
    60_000,
  );
});

it('timeLimitSeconds stops the run as an abort does and says so', async () => {
  const out = join(work, 'time-limit');
  const handle = train({ text, out, config: long, timeLimitSeconds: 1 });
  const checkpoints = [];
  for await (const event of handle) if (event.type === 'checkpoint') checkpoints.push(event);
  const result = await handle.result;
  expect(result).toMatchObject({ interrupted: true, timeLimitReached: true });
  expect(result.steps).toBeLessThan(long.steps);
  expect(checkpoints.at(-1)).toMatchObject({ reason: 'time-limit', step: result.steps });
  expect(loadTrainerState(out).position.step).toBe(result.steps);
}, 60_000);

it('an already-aborted signal saves the initial checkpoint and takes no step', async () => {
  const out = join(work, 'pre-aborted');
  const handle = train({ text, out, config: long, signal: AbortSignal.abort() });
  const result = await handle.result;
  expect(result.interrupted).toBe(true);
  expect(result.steps).toBe(0);
  expect(loadTrainerState(out).position.step).toBe(0);
});

it.each([
  [{ hiden: 5 }, /config has no setting "hiden" \(did you mean hidden\?\)/],
  [{ dropout: 0.5 }, /--dropout applies between stacked recurrent layers/],
])('runTraining() refuses %j', async (extra, message) => {
  const config = { ...DEFAULT_TRAIN_CONFIG, ...extra } as unknown as TrainConfig;
  const out = join(work, 'run-training');
  await expect(runTraining({ text, config, backend: new ReferenceBackend(), out })).rejects.toThrow(message);
  expect(existsSync(out)).toBe(false);
});
