// `rnnkit report`: from a real short training run, report.svg parses as XML, report.html is self-contained
// and inlines the charts, the plotted points (in the Vega data and in the SVG) are metrics.jsonl's values,
// and bad inputs give errors that say what and where.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ReferenceBackend } from '../src/backend/reference.js';
import { main } from '../src/cli/main.js';
import { sample } from '../src/generate/sample.js';
import { loadModel } from '../src/io/checkpoint.js';
import { escapeHtml } from '../src/report/html.js';
import { type Report, buildReport, writeReport } from '../src/report/index.js';
import { prefixIds, renderSvg } from '../src/report/render.js';
import { HOVER_POINTS, MAX_POINTS, buildSeries, parseMetrics, thin } from '../src/report/series.js';
import { buildCharts, chartSpec } from '../src/report/charts.js';
import { runTraining } from '../src/tasks/index.js';
import { DEFAULT_TRAIN_CONFIG, type StepMetrics } from '../src/train/trainer.js';

const TEXT =
  'the quick brown fox jumps over the lazy dog. '.repeat(8) + 'pack my box with five dozen liquor jugs.\n'.repeat(5);
const SOURCE = 'corpus <b>"bold"</b> & <script>alert(1)</script>';
const tempDir = (): string => mkdtempSync(join(tmpdir(), 'rnnkit-report-'));

let dir: string;
let paths: { html: string; svg: string };
let lines: StepMetrics[];
let report: Report;

beforeAll(async () => {
  dir = tempDir();
  const config = {
    ...DEFAULT_TRAIN_CONFIG,
    hidden: 16,
    seq: 10,
    steps: 60,
    logEvery: 5,
    valFrac: 0.1,
    evalEvery: 20,
    saveEvery: 0,
    sampleEvery: 30,
    sampleLength: 40,
  };
  await runTraining({ text: TEXT, source: SOURCE, config, backend: new ReferenceBackend(), out: dir });
  paths = await writeReport(dir);
  report = await buildReport(dir);
  lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as StepMetrics);
}, 60_000);

afterEach(() => {
  vi.restoreAllMocks();
});

type XmlNode = Record<string, unknown>;
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', preserveOrder: true });

/** Every element named `tag` whose class attribute contains `cls`, in document order. */
function findAll(nodes: XmlNode[], tag: string, cls: string, out: XmlNode[] = []): XmlNode[] {
  for (const node of nodes) {
    const name = Object.keys(node).find((k) => k !== ':@');
    if (!name) continue;
    const attributes = (node[':@'] ?? {}) as Record<string, string>;
    if (name === tag && (attributes['@class'] ?? '').split(' ').includes(cls)) out.push(node);
    const children = node[name];
    if (Array.isArray(children)) findAll(children as XmlNode[], tag, cls, out);
  }
  return out;
}

const childPaths = (group: XmlNode): Record<string, string>[] =>
  ((group['g'] as XmlNode[]) ?? []).filter((c) => 'path' in c).map((c) => (c[':@'] ?? {}) as Record<string, string>);

/** "step: 5; loss (bpc): 3.22; series: train (step)" → { step: '5', ... } */
function ariaFields(label: string): Record<string, string> {
  return Object.fromEntries(
    label.split('; ').map((part) => [part.slice(0, part.indexOf(': ')), part.slice(part.indexOf(': ') + 2)]),
  );
}

/** Vega labels each point with its values as the axis formats them (6 significant digits or 6 decimals). */
function expectNumbersClose(actual: string[], expected: number[], what: string): void {
  expect(actual.length, `${what}: number of points`).toBe(expected.length);
  actual.forEach((text, i) => {
    const a = Number(text.replaceAll(',', ''));
    expect(Math.abs(a - expected[i]!), `${what}[${i}]: ${text} vs ${expected[i]}`).toBeLessThanOrEqual(
      1e-6 + 1e-5 * Math.abs(expected[i]!),
    );
  });
}

/** The plotted points of one chart's SVG: for each symbol mark, its fields from the aria-label Vega writes. */
function symbolPoints(svg: string): Record<string, string>[] {
  const tree = xml.parse(svg) as XmlNode[];
  const groups = findAll(tree, 'g', 'mark-symbol').filter((g) =>
    ((g[':@'] as Record<string, string>)['@class'] ?? '').includes('role-mark'),
  );
  return groups.flatMap((g) => childPaths(g).map((p) => ariaFields(p['@aria-label'] ?? '')));
}

function lineCount(svg: string): number {
  const tree = xml.parse(svg) as XmlNode[];
  return findAll(tree, 'g', 'mark-line').reduce((n, g) => n + childPaths(g).length, 0);
}

describe('rnnkit report on a real run', () => {
  it('writes report.html and report.svg in the run directory and returns their paths', () => {
    expect(paths).toEqual({ html: join(dir, 'report.html'), svg: join(dir, 'report.svg') });
    expect(existsSync(paths.html) && existsSync(paths.svg)).toBe(true);
    // The same inputs give the same report (the sample is seeded, nothing depends on the clock).
    expect(readFileSync(paths.svg, 'utf8')).toBe(report.svg);
    expect(readFileSync(paths.html, 'utf8')).toBe(report.html);
    expect(report.charts.map((c) => c.id)).toEqual(['loss-step', 'loss-time', 'grad-norm', 'lr', 'tokens-per-s']);
    for (const c of [...report.charts.map((c) => c.rendered), report.combined]) expect(c.warnings).toEqual([]);
  });

  it('report.svg is well-formed SVG with every chart in it', () => {
    const svg = readFileSync(paths.svg, 'utf8');
    expect(XMLValidator.validate(svg)).toBe(true);
    const tree = xml.parse(svg) as XmlNode[];
    const root = tree.find((n) => 'svg' in n)!;
    expect((root[':@'] as Record<string, string>)['@xmlns']).toBe('http://www.w3.org/2000/svg');
    for (const title of ['Loss against step', 'Loss against wall time', 'Gradient norm', 'Learning rate', 'Speed'])
      expect(svg).toContain(`>${title}<`);
    for (const axis of ['step', 'wall time (s)', 'loss (bpc)', 'gradient norm', 'learning rate', 'tokens/s'])
      expect(svg).toContain(`>${escapeHtml(axis)}<`);
    for (const legend of ['train (step)', 'train (smoothed)', 'validation']) expect(svg).toContain(`>${legend}<`);
    // 12 logged steps, 3 of them validations: every point is a symbol in the combined figure too.
    const points = symbolPoints(svg);
    expect(points.length).toBe(2 * (2 * lines.length + 3) + 3 * lines.length);
  });

  it('report.html is self-contained and inlines the charts as SVG', () => {
    const html = readFileSync(paths.html, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|@import|@font-face/i);
    expect(html).not.toMatch(/\ssrc\s*=/i);
    expect(html).not.toMatch(/href\s*=\s*(?!["']?#)/i);
    expect(html).not.toMatch(/url\((?!#)/i);
    // The only URLs are the SVG and XLink namespace names, which are identifiers, never fetched.
    const withoutNamespaces = html.replace(/xmlns(:xlink)?="http:\/\/www\.w3\.org\/(2000\/svg|1999\/xlink)"/g, '');
    expect(withoutNamespaces).not.toMatch(/https?:\/\//i);
    const inline = [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);
    expect(inline.length).toBe(5);
    report.charts.forEach((c, i) => {
      expect(inline[i]).toBe(prefixIds(c.rendered.svg, c.id));
      expect(XMLValidator.validate(inline[i]!)).toBe(true);
    });
    // Ids are unique across the page (Vega numbers clip paths from 1 in each render).
    const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('plots exactly the series in metrics.jsonl, in the Vega data and as one SVG mark per point', () => {
    const validated = lines.filter((l) => l.val_loss !== undefined);
    expect(lines.length).toBe(60); // every step is recorded, whatever --log-every (5 here) prints
    expect(lines.map((l) => l.step)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(validated.map((l) => l.step)).toEqual([20, 40, 60]);
    // The inline data Vega-Lite compiled into the Vega spec.
    const data = (name: string) =>
      (report.combined.vega.data ?? []).find((d) => d.name === name) as { values: Record<string, unknown>[] };
    const loss = data('loss').values;
    const bySeries = (name: string) => loss.filter((p) => p['series'] === name);
    // A language model's losses are plotted in bits per character, training and validation alike.
    expect(report.series.lossUnit).toBe('bpc');
    expect(bySeries('train (step)').map((p) => [p['step'], p['elapsed_s'], p['loss']])).toEqual(
      lines.map((l) => [l.step, l.elapsed_s, l.loss / Math.LN2]),
    );
    expect(bySeries('train (smoothed)').map((p) => [p['step'], p['loss']])).toEqual(
      lines.map((l) => [l.step, l.smooth_loss / Math.LN2]),
    );
    expect(bySeries('validation').map((p) => [p['step'], p['loss']])).toEqual(
      validated.map((l) => [l.step, l.val_loss! / Math.LN2]),
    );
    expect(data('gradNorm').values.map((p) => [p['step'], p['value']])).toEqual(
      lines.map((l) => [l.step, l.grad_norm]),
    );
    expect(data('lr').values.map((p) => [p['step'], p['value']])).toEqual(lines.map((l) => [l.step, l.lr]));
    expect(data('tokensPerS').values.map((p) => [p['step'], p['value']])).toEqual(
      lines.map((l) => [l.step, l.tokens_per_s]),
    );
    for (const c of report.charts) expect(c.rendered.vega.data?.find((d) => 'values' in d)).toBeDefined();

    // What was drawn: one symbol per point, labelled with its values; one line per series.
    const [lossStep, lossTime, grad, lr, speed] = report.charts.map((c) => c.rendered.svg) as [
      string,
      string,
      string,
      string,
      string,
    ];
    for (const [svg, x, xOf] of [
      [lossStep, 'step', (l: StepMetrics) => l.step],
      [lossTime, 'wall time (s)', (l: StepMetrics) => l.elapsed_s],
    ] as const) {
      const points = symbolPoints(svg);
      for (const [name, rows, y] of [
        ['train (step)', lines, (l: StepMetrics) => l.loss / Math.LN2],
        ['train (smoothed)', lines, (l: StepMetrics) => l.smooth_loss / Math.LN2],
        ['validation', validated, (l: StepMetrics) => l.val_loss! / Math.LN2],
      ] as const) {
        const drawn = points.filter((p) => p['series'] === name);
        expectNumbersClose(
          drawn.map((p) => p[x]!),
          rows.map(xOf),
          `${name} ${x}`,
        );
        expectNumbersClose(
          drawn.map((p) => p['loss (bpc)']!),
          rows.map(y),
          `${name} loss against ${x}`,
        );
      }
      expect(points.length).toBe(2 * lines.length + validated.length);
      expect(lineCount(svg)).toBe(3);
    }
    for (const [svg, title, pick] of [
      [grad, 'gradient norm', (l: StepMetrics) => l.grad_norm],
      [lr, 'learning rate', (l: StepMetrics) => l.lr],
      [speed, 'tokens/s', (l: StepMetrics) => l.tokens_per_s],
    ] as const) {
      const points = symbolPoints(svg);
      expectNumbersClose(
        points.map((p) => p['step']!),
        lines.map((l) => l.step),
        `${title} step`,
      );
      expectNumbersClose(
        points.map((p) => p[title]!),
        lines.map(pick),
        title,
      );
      expect(lineCount(svg)).toBe(1);
    }
  });

  it('shows the configuration as a table and the final sample as escaped text', () => {
    const html = report.html;
    const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as Record<string, unknown>;
    // The options as typed, only those that acted: the default rnn-tanh, Adagrad, constant schedule.
    expect(html).toContain('<tr><th scope="row">--hidden</th><td>16</td></tr>');
    expect(html).toContain('<tr><th scope="row">--eval-every</th><td>20</td></tr>');
    expect(html).toContain('<tr><th scope="row">--nonlinearity</th><td>tanh</td></tr>');
    expect(html).toContain('<tr><th scope="row">--eps</th><td>1e-10 (PyTorch&#39;s default)</td></tr>'); // Adagrad's
    expect(html).toContain('<tr><th scope="row">--weight-decay</th><td>0 (PyTorch&#39;s default)</td></tr>');
    for (const absent of [
      '--beta1',
      '--momentum',
      '--alpha',
      '--decay-rate',
      '--pool',
      '--dropout',
      '--decay-every',
      '--max-len',
      'evalEvery',
    ])
      expect(html).not.toContain(`<th scope="row">${absent}</th>`);
    expect(html).toContain(
      `<tr><th scope="row">backend</th><td>${escapeHtml(String((run['backend'] as Record<string, unknown>)['name']))}, SIMD `,
    );
    // How it started (runTraining from a library call: no command line).
    const started = run['started'] as Record<string, string>;
    expect(html).toContain(`<tr><th scope="row">started</th><td>${started['date']}</td></tr>`);
    expect(html).toContain(`<tr><th scope="row">host</th><td>${escapeHtml(started['host']!)}</td></tr>`);
    expect(html).toContain(`<tr><th scope="row">rnnkit</th><td>${started['rnnkit']}</td></tr>`);
    // The text source is user input: it appears escaped, never as markup.
    expect(html).toContain(`<td>${escapeHtml(SOURCE)}</td>`);
    expect(html).not.toContain('<b>');
    const { model, vocab } = loadModel(dir, new ReferenceBackend());
    const expected = sample(model, vocab, { length: 300, temperature: 0.8, seed: 1 });
    expect(report.sample).toBe(expected);
    expect(expected.length).toBe(300);
    expect(html).toContain(`<pre class="sample">${escapeHtml(expected)}</pre>`);
    expect(html).toMatch(/best validation<\/dt><dd>[\d.]+ bpc at step (20|40|60)</);
    expect(html).toMatch(/train loss \(last 60 steps\)<\/dt><dd>[\d.]+ bpc</);
  });

  it('every plotted point has a hover title with its values; samples taken while training are shown', () => {
    const [lossStep] = report.charts.map((c) => c.rendered.svg);
    const points = [
      ...lossStep!.matchAll(
        /<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="point"[^>]*><title>([^<]*)<\/title><\/path>/g,
      ),
    ];
    expect(points.length).toBe(2 * lines.length + 3);
    for (const [, label, title] of points) expect(title).toBe(label);
    expect(points[0]![2]).toMatch(/^step: 1; loss \(bpc\): [\d.]+; series: train \(step\)$/);
    const samples = lines.filter((l) => l.sample !== undefined);
    expect(samples.map((l) => [l.step, l.sample!.length])).toEqual([
      [30, 40],
      [60, 40],
    ]);
    for (const l of samples)
      expect(report.html).toContain(`<h3>step ${l.step}</h3>\n<pre class="sample">${escapeHtml(l.sample!)}</pre>`);
  });

  it('runs as `rnnkit report DIR`, printing the two paths', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    expect(await main(['node', 'rnnkit', 'report', dir])).toBe(0);
    expect(log.mock.calls.map((c) => c[0])).toEqual([join(dir, 'report.html'), join(dir, 'report.svg')]);
  });
});

describe('rnnkit report on bad input', () => {
  const copyRun = (): string => {
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });
    rmSync(join(copy, 'report.html'));
    rmSync(join(copy, 'report.svg'));
    return copy;
  };

  it('names the line of a malformed metrics.jsonl and writes nothing', async () => {
    const copy = copyRun();
    const metrics = join(copy, 'metrics.jsonl');
    const original = readFileSync(metrics, 'utf8').split('\n');
    const broken = [...original];
    broken[2] = broken[2]!.slice(0, 30); // a torn line
    writeFileSync(metrics, broken.join('\n'));
    await expect(writeReport(copy)).rejects.toThrow(`${metrics}:3: not valid JSON`);
    expect(existsSync(join(copy, 'report.html')) || existsSync(join(copy, 'report.svg'))).toBe(false);

    const missing = [...original];
    missing[1] = JSON.stringify({ ...(JSON.parse(missing[1]!) as object), grad_norm: undefined });
    writeFileSync(metrics, missing.join('\n'));
    await expect(writeReport(copy)).rejects.toThrow(/metrics\.jsonl:2: field grad_norm is missing/);

    const wrongType = [...original];
    wrongType[4] = JSON.stringify({ ...(JSON.parse(wrongType[4]!) as object), lr: 'fast' });
    writeFileSync(metrics, wrongType.join('\n'));
    await expect(writeReport(copy)).rejects.toThrow(/metrics\.jsonl:5: field lr must be a number >= 0, got "fast"/);

    const backwards = [original[1], original[0], ...original.slice(2)];
    writeFileSync(metrics, backwards.join('\n'));
    await expect(writeReport(copy)).rejects.toThrow(/metrics\.jsonl:2: step 1 does not follow step 2/);

    writeFileSync(metrics, '');
    await expect(writeReport(copy)).rejects.toThrow(/no steps logged yet/);
  });

  it('refuses a missing directory and a directory that is not a run', async () => {
    const nowhere = join(tempDir(), 'no-such-run');
    await expect(writeReport(nowhere)).rejects.toThrow(`${nowhere}: no such directory`);
    const empty = tempDir();
    await expect(writeReport(empty)).rejects.toThrow(
      `${join(empty, 'metrics.jsonl')}: not found (is this a run directory written by rnnkit train?)`,
    );
    const error = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['node', 'rnnkit', 'report', nowhere])).toBe(1);
    expect(error.mock.calls.map((c) => c[0])).toEqual([`rnnkit: ${nowhere}: no such directory`]);
  });

  it('plots around non-finite values (logged as null) and thins very long runs, keeping the last step', () => {
    const rows = parseMetrics(
      [
        '{"step":1,"epoch":0,"loss":3,"smooth_loss":3,"grad_norm":1,"lr":0.1,"tokens_per_s":100,"elapsed_s":0.1}',
        '{"step":2,"epoch":0,"loss":null,"smooth_loss":3,"grad_norm":null,"lr":0.1,"tokens_per_s":100,"elapsed_s":0.2,"skipped_steps":1}',
        '{"step":3,"epoch":0,"loss":2,"smooth_loss":2.9,"grad_norm":2,"lr":0.1,"tokens_per_s":null,"elapsed_s":0.3,"val_loss":2.5,"val_bpc":3.6,"skipped_steps":1}',
        '',
      ].join('\n'),
      'metrics.jsonl',
    );
    const s = buildSeries(rows);
    expect(s.gradNorm.map((p) => p.step)).toEqual([1, 3]);
    expect(s.loss.filter((p) => p.series === 'train (step)').map((p) => p.step)).toEqual([1, 3]);
    expect(s.tokensPerS.map((p) => p.step)).toEqual([1, 2]);
    expect(s.nonFinite.map((p) => p.step)).toEqual([2]);
    const items = Array.from({ length: 2 * MAX_POINTS + 5 }, (_, i) => i);
    const thinned = thin(items);
    expect(thinned.stride).toBe(3);
    expect(thinned.items.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(thinned.items.at(-1)).toBe(items.at(-1));
    expect(thin([1, 2, 3])).toEqual({ items: [1, 2, 3], stride: 1 });
  });

  it('a long run: undotted lines get at most HOVER_POINTS invisible hover points per series, each with a title', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      step: i + 1,
      epoch: 0,
      loss: 3 - i / 1000,
      smooth_loss: 3,
      grad_norm: 1,
      lr: 0.1,
      tokens_per_s: 100,
      elapsed_s: i / 10,
      ...(i % 100 === 99 ? { val_loss: 2.5 } : {}),
    }));
    const series = buildSeries(rows, MAX_POINTS, 'nats');
    expect(series.loss.filter((p) => p.series === 'train (step)' && p.hover).length).toBeLessThanOrEqual(
      HOVER_POINTS + 1,
    );
    const [lossStep] = buildCharts(series);
    const svg = (await renderSvg(chartSpec(lossStep!, series))).svg;
    const titles = [...svg.matchAll(/<title>([^<]*)<\/title>/g)].map((m) => m[1]!);
    // 2 × 201 hover points for the training lines, 10 dots for validation (few enough to be drawn).
    expect(titles.length).toBe(2 * 201 + 10);
    expect(titles).toContain('step: 1,000; loss (nats): 2.001; series: train (step)');
  }, 30_000);
});
