// Speech data directories (src/speech/dataset.ts): transcripts.tsv and the WAV files it names, loaded into
// model frames; malformed lines and missing or broken files refused naming the line or the file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogMel } from '../src/audio/features.js';
import { encodeWav16 } from '../src/audio/wav.js';
import { loadUtterances, readTranscripts } from '../src/speech/dataset.js';

const tone = (hz: number, seconds: number): Float32Array =>
  Float32Array.from({ length: seconds * 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / 16000));

function dataDir(tsv: string, files: Record<string, Uint8Array>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rnnkit-speech-'));
  writeFileSync(join(dir, 'transcripts.tsv'), tsv);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  return dir;
}

describe('speech data directories', () => {
  it('loads each utterance as normalised, stacked frames with its text', () => {
    const dir = dataDir('a.wav\tone  two\n\nb.wav\tnine\n', {
      'a.wav': encodeWav16(tone(440, 1), 16000),
      'b.wav': encodeWav16(tone(880, 0.5), 16000),
    });
    const utterances = loadUtterances(dir, new LogMel());
    expect(utterances.map((u) => [u.file, u.text, u.frames, u.seconds])).toEqual([
      ['a.wav', 'one two', 33, 1],
      ['b.wav', 'nine', 16, 0.5],
    ]);
    expect(utterances[0]!.features.length).toBe(33 * 240);
  });

  it('refuses a malformed line, an empty file and a missing or broken WAV, naming it', () => {
    expect(() => readTranscripts(dataDir('a.wav one\n', {}))).toThrow(
      /transcripts\.tsv:1: expected file<TAB>text, got "a\.wav one"/,
    );
    expect(() => readTranscripts(dataDir('\n\n', {}))).toThrow(/transcripts\.tsv: no utterances/);
    expect(() => loadUtterances(dataDir('gone.wav\tone\n', {}), new LogMel())).toThrow(/gone\.wav: no such file/);
    expect(() => loadUtterances(dataDir('bad.wav\tone\n', { 'bad.wav': new Uint8Array(10) }), new LogMel())).toThrow(
      /bad\.wav: not a WAV file/,
    );
  });
});
