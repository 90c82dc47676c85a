// Vega-Lite → Vega → SVG, headless: vega's View with renderer 'none' renders SVG strings without a
// browser or canvas (text widths are estimated instead of measured, which is close enough for labels).
import { View, parse, type Spec } from 'vega';
import { type TopLevelSpec, compile } from 'vega-lite';

export interface Rendered {
  /** The compiled Vega spec (its data values are the series that were plotted). */
  vega: Spec;
  svg: string;
  /** Warnings from Vega-Lite's compiler and Vega's runtime (none expected). */
  warnings: string[];
}

type Logger = NonNullable<NonNullable<Parameters<typeof compile>[1]>['logger']>;

/** A logger for Vega-Lite and Vega that keeps warnings (for the caller to check) instead of printing them. */
class CollectingLogger implements Logger {
  #level = 0;
  constructor(readonly warnings: string[]) {}
  level(value?: number): number | Logger {
    if (value === undefined) return this.#level;
    this.#level = value;
    return this;
  }
  error(...args: unknown[]): this {
    throw new Error(`Vega: ${args.map(String).join(' ')}`);
  }
  warn(...args: unknown[]): this {
    this.warnings.push(args.map(String).join(' '));
    return this;
  }
  info(): this {
    return this;
  }
  debug(): this {
    return this;
  }
}

/** Compiles a Vega-Lite spec to Vega; warnings are appended to `warnings`. */
export function compileSpec(spec: TopLevelSpec, warnings: string[] = []): Spec {
  return compile(spec, { logger: new CollectingLogger(warnings) }).spec;
}

/** Renders a Vega-Lite spec to an SVG document string. */
export async function renderSvg(spec: TopLevelSpec): Promise<Rendered> {
  const warnings: string[] = [];
  const vega = compileSpec(spec, warnings);
  const view = new View(parse(vega), { renderer: 'none', logger: new CollectingLogger(warnings) });
  try {
    const svg = withHoverTitles(await view.toSVG());
    return { vega, svg, warnings };
  } finally {
    view.finalize();
  }
}

/**
 * Gives every plotted point a <title> holding the label Vega wrote for it ("step: 20; loss (bpc): 3.21;
 * series: validation"): browsers show it when the pointer rests on the point, in an SVG with no script.
 */
export function withHoverTitles(svg: string): string {
  return svg.replace(
    /<path aria-label="([^"]*)" role="graphics-symbol" aria-roledescription="point"([^>]*)\/>/g,
    '<path aria-label="$1" role="graphics-symbol" aria-roledescription="point"$2><title>$1</title></path>',
  );
}

/**
 * Renames every id in an SVG to `${prefix}-1`, `${prefix}-2`, … in order of appearance (and the url(#…) /
 * href="#…" references to them). Vega numbers its clip paths with a counter that runs across renders, so
 * this makes the output the same for the same input, and keeps ids unique when several SVGs share a page.
 */
export function prefixIds(svg: string, prefix: string): string {
  const ids = new Map<string, string>();
  for (const match of svg.matchAll(/\bid="([^"]+)"/g))
    if (!ids.has(match[1]!)) ids.set(match[1]!, `${prefix}-${ids.size + 1}`);
  const rename = (id: string): string => ids.get(id) ?? id;
  return svg
    .replace(/\bid="([^"]+)"/g, (_, id: string) => `id="${rename(id)}"`)
    .replace(/url\(#([^)]+)\)/g, (_, id: string) => `url(#${rename(id)})`)
    .replace(/\b((?:xlink:)?href)="#([^"]+)"/g, (_, attr: string, id: string) => `${attr}="#${rename(id)}"`);
}
