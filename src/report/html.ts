// The self-contained report page: inline CSS, the charts as inline SVG, the run's settings as a table and
// the final sample as escaped preformatted text. No scripts, fonts, images or links to anything outside.

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

export interface HtmlChart {
  id: string;
  title: string;
  caption: string;
  /** The chart's SVG, ids already made unique within the page. */
  svg: string;
}

export interface HtmlReport {
  title: string;
  subtitle: string;
  /** Headline numbers: label → value. */
  summary: [string, string][];
  charts: HtmlChart[];
  /** How the run started: command line, date, host, rnnkit version (empty when run.json does not say). */
  provenance: [string, string][];
  /** The settings that applied, by option name; null when there is no run.json. */
  config: [string, string][] | null;
  /** Samples generated while training (--sample-every), from metrics.jsonl. */
  trainingSamples: { step: number; text: string }[];
  sample: { text: string; note: string } | null;
  /** Why there is no sample, when there is none. */
  sampleMissing?: string;
  notes: string[];
  footer: string;
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1f; background: #f6f7f9; }
h1 { font-size: 22px; margin: 0 0 2px; }
h2 { font-size: 17px; margin: 32px 0 10px; }
h3 { font-size: 14px; margin: 14px 0 4px; }
.subtitle { color: #555; margin: 0 0 18px; }
.summary { display: flex; flex-wrap: wrap; gap: 10px; margin: 0; padding: 0; }
.summary div { background: white; border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 12px; min-width: 140px; }
.summary dt { font-size: 12px; color: #666; }
.summary dd { margin: 0; font-size: 15px; font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; }
figure { margin: 0; background: white; border: 1px solid #dde1e6; border-radius: 6px; padding: 8px; }
figure svg { display: block; width: 100%; height: auto; }
figcaption { color: #444; font-size: 13px; padding: 4px 8px 6px; }
table { border-collapse: collapse; background: white; border: 1px solid #dde1e6; }
td, th { text-align: left; padding: 3px 12px; border-bottom: 1px solid #eef0f3; font-size: 13px; vertical-align: top; }
th { font-weight: 500; color: #444; }
td { font-family: ui-monospace, Menlo, Consolas, monospace; }
pre.sample { background: white; border: 1px solid #dde1e6; border-radius: 6px; padding: 12px 14px; white-space: pre-wrap; word-break: break-word; font: 13px/1.5 ui-monospace, Menlo, Consolas, monospace; }
.note { color: #555; font-size: 13px; }
.notes { color: #8a4b00; }
footer { margin-top: 36px; color: #777; font-size: 12px; }
`;

export function renderHtml(r: HtmlReport): string {
  const e = escapeHtml;
  const parts: string[] = [];
  parts.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
  );
  parts.push(`<title>${e(r.title)}</title>`, `<style>${STYLE}</style>`, '</head>', '<body>');
  parts.push(`<h1>${e(r.title)}</h1>`, `<p class="subtitle">${e(r.subtitle)}</p>`);
  parts.push(
    '<dl class="summary">',
    ...r.summary.map(([k, v]) => `<div><dt>${e(k)}</dt><dd>${e(v)}</dd></div>`),
    '</dl>',
  );
  if (r.notes.length) parts.push('<ul class="notes">', ...r.notes.map((n) => `<li>${e(n)}</li>`), '</ul>');
  parts.push('<h2>Training</h2>', '<div class="charts">');
  for (const c of r.charts)
    parts.push(`<figure id="${e(c.id)}">`, c.svg, `<figcaption>${e(c.caption)}</figcaption>`, '</figure>');
  parts.push('</div>');
  if (r.trainingSamples.length) {
    parts.push(
      '<h2>Samples during training</h2>',
      '<p class="note">Temperature 0.8, seed --seed + the step, as printed while training.</p>',
    );
    for (const s of r.trainingSamples)
      parts.push(`<h3>step ${s.step.toLocaleString('en-US')}</h3>`, `<pre class="sample">${e(s.text)}</pre>`);
  }
  parts.push('<h2>Final sample</h2>');
  if (r.sample) parts.push(`<p class="note">${e(r.sample.note)}</p>`, `<pre class="sample">${e(r.sample.text)}</pre>`);
  else parts.push(`<p class="note">${e(r.sampleMissing ?? 'No sample.')}</p>`);
  parts.push('<h2>Configuration</h2>');
  const table = (rows: [string, string][]): string[] => [
    '<table>',
    '<tbody>',
    ...rows.map(([k, v]) => `<tr><th scope="row">${e(k)}</th><td>${e(v)}</td></tr>`),
    '</tbody>',
    '</table>',
  ];
  if (r.provenance.length)
    parts.push(
      ...table(r.provenance),
      '<p class="note">The settings in effect (those that did nothing in this run are left out):</p>',
    );
  if (r.config) {
    parts.push(...table(r.config));
  } else {
    parts.push('<p class="note">No run.json in this directory.</p>');
  }
  parts.push(`<footer>${e(r.footer)}</footer>`, '</body>', '</html>', '');
  return parts.join('\n');
}
