// The ctc task end to end on a toy language of two tones ('a' a low tone, 'b' a high one, silence between):
// training learns it (CER falls to 0 on held-out utterances), a resumed run continues bit for bit, the
// checkpoint alone transcribes (batched = one at a time), eval reports loss/CER/WER, and bad input gets one
// line and a documented exit code with nothing written.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { loadRecogniser } from '../src/tasks/ctc/model-file.js';
import { evaluateRecogniser, readUtterances } from '../src/tasks/ctc/recognise-files.js';
import { transcribe } from '../src/tasks/ctc/recognise.js';
import { minimumFrames } from '../src/tasks/ctc/task.js';
import { cli } from './cli-helpers.js';
import { toyDir } from './task-data.js';

const root = mkdtempSync(join(tmpdir(), 'rnnkit-ctc-'));
const train = toyDir(root, 'train', 48, 1),
  test = toyDir(root, 'test', 16, 2);
const small = ['--hidden', '24', '--layers', '1', '--batch', '8', '--warmup', '0', '--lr', '0.01', '--quiet'];

describe('the ctc task', () => {
  it('learns the toy language: CER 0 on held-out utterances, through train, eval and transcribe', async () => {
    const out = join(root, 'learned');
    const trained = await cli(
      'train',
      '--task',
      'ctc',
      train,
      ...small,
      '--steps',
      '300',
      '--eval-every',
      '100',
      '--backend',
      'wasm',
      '--out',
      out,
    );
    expect(trained.code, trained.err).toBe(0);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const validated = metrics.filter((m) => m.val_wer !== undefined);
    expect(validated.map((m) => m.step)).toEqual([100, 200, 300]);
    expect(validated.at(-1).val_cer).toBeLessThan(validated[0].val_cer + 1e-9);
    const score = JSON.parse((await cli('eval', out, test, '--json', '--backend', 'wasm')).out);
    expect(score.utterances).toBe(16);
    expect(score.cer).toBe(0);
    expect(score.wer).toBe(0);
    expect(score.loss).toBeLessThan(0.5);
    const beamed = JSON.parse((await cli('eval', out, test, '--json', '--beam', '4', '--backend', 'wasm')).out);
    expect(beamed).toEqual({ ...score, cer: 0, wer: 0 });
    const files = readFileSync(join(test, 'transcripts.tsv'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const said = await cli('transcribe', out, ...files.map(([f]) => join(test, f!)), '--backend', 'wasm');
    expect(said.code, said.err).toBe(0);
    expect(said.out.trim().split('\n')).toEqual(files.map(([f, text]) => `${join(test, f!)}\t${text}`));
  }, 120_000);

  it('transcribes with the checkpoint alone: batched equals one at a time; --json has score and word timings', async () => {
    const out = join(root, 'short');
    expect(
      (await cli('train', '--task', 'ctc', train, ...small, '--steps', '30', '--backend', 'reference', '--out', out))
        .code,
    ).toBe(0);
    const r = loadRecogniser(out, new ReferenceBackend());
    expect(r.alphabet.symbols).toEqual(['a', 'b']);
    expect(r.features).toMatchObject({ sampleRate: 16000, mels: 80, stack: 3 });
    const files = readdirSync(test)
      .filter((f) => f.endsWith('.wav'))
      .slice(0, 5)
      .map((f) => join(test, f));
    const utterances = readUtterances(r, files);
    const together = transcribe(r, utterances, { beam: 3 });
    const alone = utterances.map((u) => transcribe(r, [u], { beam: 3 })[0]!);
    expect(together.map((t) => t.text)).toEqual(alone.map((t) => t.text));
    together.forEach((t, i) => expect(t.score).toBeCloseTo(alone[i]!.score, 4));
    // Shallow fusion with weight 0 is the plain beam search (an untrained LM over the transcripts' characters).
    const lm = join(root, 'digits-lm');
    writeFileSync(join(root, 'lm.txt'), 'ab\nba\naab\nbba\n'.repeat(10));
    expect(
      (await cli('train', join(root, 'lm.txt'), '--steps', '0', '--backend', 'reference', '--quiet', '--out', lm)).code,
    ).toBe(0);
    const beamed = await cli('transcribe', out, ...files, '--beam', '3', '--backend', 'reference');
    const fused = await cli(
      'transcribe',
      out,
      ...files,
      '--beam',
      '3',
      '--lm',
      lm,
      '--lm-weight',
      '0',
      '--backend',
      'reference',
    );
    expect(fused.code, fused.err).toBe(0);
    expect(fused.out).toBe(beamed.out);
    expect(
      fused.out
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[1]),
    ).toEqual(together.map((t) => t.text));
    const json = await cli('transcribe', out, files[0]!, '--json', '--backend', 'reference');
    const line = JSON.parse(json.out);
    expect(Object.keys(line)).toEqual(['file', 'text', 'score', 'seconds', 'words']);
    expect(line.score).toBeLessThanOrEqual(0);
    for (const w of line.words) {
      expect(w.start).toBeGreaterThanOrEqual(0);
      expect(w.end).toBeGreaterThan(w.start);
      expect(w.end).toBeLessThanOrEqual(line.seconds + 0.03);
    }
  }, 60_000);

  it('a resumed run continues bit for bit', async () => {
    // A constant rate: the cosine schedule depends on the run's total steps, which the first part changes.
    const common = [
      'train',
      '--task',
      'ctc',
      train,
      ...small,
      '--hidden',
      '6',
      '--lr-schedule',
      'constant',
      '--eval-every',
      '4',
      '--backend',
      'wasm',
    ];
    const whole = join(root, 'whole'),
      parts = join(root, 'parts');
    expect((await cli(...common, '--steps', '10', '--out', whole)).code).toBe(0);
    expect((await cli(...common, '--steps', '7', '--out', parts)).code).toBe(0); // 6 batches an epoch: crosses one
    expect((await cli('train', '--resume', parts, '--steps', '10', '--backend', 'wasm', '--quiet')).code).toBe(0);
    expect(readFileSync(join(parts, 'model.safetensors'))).toEqual(readFileSync(join(whole, 'model.safetensors')));
  }, 60_000);

  it('eval agrees with the validation of the same utterances', async () => {
    const out = join(root, 'agree');
    expect(
      (
        await cli(
          'train',
          '--task',
          'ctc',
          train,
          ...small,
          '--steps',
          '20',
          '--val-frac',
          '0',
          '--backend',
          'reference',
          '--out',
          out,
        )
      ).code,
    ).toBe(0);
    const score = evaluateRecogniser(loadRecogniser(out, new ReferenceBackend()), test);
    const viaCli = JSON.parse((await cli('eval', out, test, '--json', '--backend', 'reference')).out);
    expect(viaCli).toEqual(score);
    expect(Number.isFinite(score.loss)).toBe(true);
  }, 60_000);

  it('counts the frames CTC needs (a blank between equal neighbours)', () => {
    expect(minimumFrames([])).toBe(0);
    expect(minimumFrames([1, 2, 3])).toBe(3);
    expect(minimumFrames([1, 1, 2, 2, 2])).toBe(8);
  });
});

describe('bad speech input: one line, a documented exit code, nothing written', () => {
  const emptyDir = (name: string): string => {
    const dir = join(root, name);
    mkdirSync(dir);
    return dir;
  };

  it.each([
    ['a directory without transcripts.tsv', () => emptyDir('none'), /transcripts\.tsv: no such file/],
    [
      'a WAV that is not audio',
      () => {
        const dir = emptyDir('notaudio');
        writeFileSync(join(dir, 'transcripts.tsv'), 'x.wav\tab\n');
        writeFileSync(join(dir, 'x.wav'), 'RIFF but not really');
        return dir;
      },
      /x\.wav: not a WAV file/,
    ],
  ])('train on %s', async (_, make, message) => {
    const out = join(root, `out-${Math.random().toString(36).slice(2)}`);
    const result = await cli(
      'train',
      '--task',
      'ctc',
      make(),
      '--steps',
      '1',
      '--warmup',
      '0',
      '--backend',
      'reference',
      '--out',
      out,
    );
    expect(result.code).toBe(1);
    expect(result.err).toMatch(message);
    expect(result.err.trim().split('\n')).toHaveLength(1);
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a checkpoint of another task, a WAV that is not audio, and --lm-weight without --lm', async () => {
    const lm = join(root, 'lm');
    writeFileSync(join(root, 'text.txt'), 'ab ba\n'.repeat(20));
    expect(
      (await cli('train', join(root, 'text.txt'), '--steps', '0', '--backend', 'reference', '--quiet', '--out', lm))
        .code,
    ).toBe(0);
    const wav = join(test, '0.wav');
    const other = await cli('transcribe', lm, wav, '--backend', 'reference');
    expect(other.code).toBe(1);
    expect(other.err).toMatch(/holds a model of task lm .* needs a model of task ctc/);
    const evalOther = await cli('eval', lm, test, '--backend', 'reference');
    expect(evalOther.code).toBe(1);
    const beamOnLm = await cli('eval', lm, join(root, 'text.txt'), '--beam', '4', '--backend', 'reference');
    expect(beamOnLm.code).toBe(2);
    expect(beamOnLm.err).toMatch(/--beam applies to a model of task seq2seq or ctc, not of task lm/);
    const out = join(root, 'short');
    const notAudio = await cli('transcribe', out, wav, join(root, 'text.txt'), '--backend', 'reference');
    expect(notAudio.code).toBe(1);
    expect(notAudio.out).toBe(''); // every file is read before anything is printed
    expect(notAudio.err).toMatch(/text\.txt: not a WAV file/);
    const usage = await cli('transcribe', out, wav, '--lm-weight', '0.5', '--backend', 'reference');
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/--lm-weight needs --lm DIR/);
    const noDir = await cli('train', '--task', 'ctc', '--backend', 'reference');
    expect(noDir.code).toBe(2);
    expect(noDir.err).toMatch(/--task ctc needs a speech directory/);
  }, 60_000);
});
