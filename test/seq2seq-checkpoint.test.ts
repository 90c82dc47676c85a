// An rnnkit seq2seq checkpoint IS test/fixtures/seq2seq_model.py's Seq2Seq: it loads with
// load_state_dict(strict=True) and gives rnnkit's loss. With PyTorch installed the test runs the check
// (test/fixtures/check_seq2seq_checkpoint.py) on a checkpoint written now; CI (no PyTorch) compares the
// checkpoint written now with the committed one that PyTorch loaded, and rnnkit's loss with PyTorch's
// recorded loss (regenerate: RNNKIT_WRITE_CHECKPOINT_FIXTURE=1 with PyTorch installed).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { Model } from '../src/model/model.js';
import { Seq2SeqWorkspace } from '../src/model/seq2seq.js';
import { saveTranslator } from '../src/tasks/seq2seq/model-file.js';
import { TokenVocabulary } from '../src/tasks/seq2seq/vocab.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const FIXTURE_DIR = join(FIXTURES, 'seq2seq-checkpoint');
const SCRIPT = join(FIXTURES, 'check_seq2seq_checkpoint.py');
// S = 4, B = 2 (lengths 4, 2); T = 3: pair 0 "<s> 4 5" → "4 5 </s>", pair 1 "<s> 6" → "6 </s>" (then padding).
const BATCH = {
  source: [1, 2, 3, 1, 2, 0, 4, 0],
  source_lengths: [4, 2],
  target_in: [1, 1, 4, 6, 5, 0],
  target_out: [4, 6, 5, 2, 2, 0],
};

const hasTorch = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

function writeCheckpoint(dir: string): number {
  const sourceVocab = TokenVocabulary.fromTexts(['abcd'], 'chars', 'source');
  const targetVocab = TokenVocabulary.fromTexts(['AA B CH'], 'words', 'target');
  const model = new Model(new ReferenceBackend(), {
    architecture: 'seq2seq',
    cell: 'gru',
    nonlinearity: 'tanh',
    hidden: 5,
    layers: 2,
    embed: 3,
    bidirectional: true,
    vocabSize: sourceVocab.size,
    outputs: targetVocab.size,
  });
  model.initialize(11);
  saveTranslator(dir, { model, sourceVocab, targetVocab, maxTargetLength: 3, lowercase: false });
  const ws = new Seq2SeqWorkspace(model, 4, 3, 2);
  ws.sourceIds.data.set(BATCH.source);
  ws.sourceLengths.data.set(BATCH.source_lengths);
  ws.targetIn.data.set(BATCH.target_in);
  ws.targetOut.data.set(BATCH.target_out.map((id) => (id === 0 ? -1 : id)));
  const { loss, tokens } = ws.forward(4, 3, 2, true);
  return loss / tokens;
}

const recorded = (): { names: string[]; loss: number; strict: boolean } =>
  JSON.parse(readFileSync(join(FIXTURE_DIR, 'pytorch.json'), 'utf8'));

test('the checkpoint rnnkit writes is the one PyTorch loaded strictly, and the loss is PyTorch’s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnnkit-s2s-ckpt-'));
  const loss = writeCheckpoint(dir);
  const bytes = readFileSync(join(dir, 'model.safetensors'));
  if (process.env['RNNKIT_WRITE_CHECKPOINT_FIXTURE'] === '1') {
    writeFileSync(join(FIXTURE_DIR, 'model.safetensors'), bytes);
    writeFileSync(join(FIXTURE_DIR, 'batch.json'), JSON.stringify(BATCH) + '\n');
    const run = spawnSync(
      '/usr/bin/python3',
      [SCRIPT, FIXTURE_DIR, join(FIXTURE_DIR, 'batch.json'), '--write-fixture', join(FIXTURE_DIR, 'pytorch.json')],
      { encoding: 'utf8' },
    );
    expect(run.status, run.stderr).toBe(0);
  }
  expect(Buffer.compare(bytes, readFileSync(join(FIXTURE_DIR, 'model.safetensors')))).toBe(0);
  const fixture = recorded();
  expect(fixture.strict).toBe(true);
  expect(loss).toBeCloseTo(fixture.loss, 5);
});

test.skipIf(!hasTorch)('PyTorch loads a checkpoint written now with strict=True (skipped: no PyTorch)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rnnkit-s2s-ckpt-'));
  const loss = writeCheckpoint(dir);
  const batch = join(dir, 'batch.json');
  writeFileSync(batch, JSON.stringify(BATCH));
  const run = spawnSync('/usr/bin/python3', [SCRIPT, dir, batch], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const result = JSON.parse(run.stdout) as { loss: number; names: string[] };
  expect(result.loss).toBeCloseTo(loss, 5);
  expect(result.names).toContain('bridge.weight');
});
