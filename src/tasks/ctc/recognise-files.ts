// Transcription and evaluation of files on disk: WAV files (rnnkit transcribe) and speech data directories
// (rnnkit eval), read and then run through recognise.ts.
import { LogMel } from '../../audio/features.js';
import { readWav } from '../../audio/wav-file.js';
import { type Utterance, loadUtterances } from '../../speech/dataset.js';
import { errorRates } from '../../speech/metrics.js';
import { type SpeechScore, scoreSpeech } from './batch.js';
import { speechSet } from './data.js';
import type { Recogniser } from './model-file.js';
import { type DecodeOptions, transcribe, utteranceOf, workspaceFor } from './recognise.js';

/** The frames of each WAV file under the recogniser's feature settings. */
export function readUtterances(r: Recogniser, files: readonly string[]): Utterance[] {
  const extractor = new LogMel(r.features);
  return files.map((file) => utteranceOf(extractor, readWav(file, r.features.sampleRate), file));
}

/** Loss, CER and WER of a speech directory (transcripts.tsv and its WAV files), decoded greedily or as
 *  `options` say. */
export function evaluateRecogniser(
  r: Recogniser,
  dir: string,
  options: DecodeOptions = {},
): Omit<SpeechScore, 'hypotheses'> {
  const utterances = loadUtterances(dir, new LogMel(r.features));
  const set = speechSet(utterances, r.alphabet);
  const workspace = workspaceFor(r, utterances, Math.max(1, ...set.labels.map((l) => l.length)));
  let greedy: SpeechScore;
  try {
    greedy = scoreSpeech(workspace, set, r.alphabet);
  } finally {
    workspace.dispose();
  }
  if (!options.beam && !options.lm)
    return { loss: greedy.loss, cer: greedy.cer, wer: greedy.wer, utterances: greedy.utterances };
  const hypotheses = transcribe(r, utterances, options).map((t) => t.text);
  const rates = errorRates(utterances.map((u, i) => ({ reference: u.text, hypothesis: hypotheses[i]! })));
  return { loss: greedy.loss, ...rates };
}
