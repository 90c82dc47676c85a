// rnnkit/web must run in a browser: no module it loads (the entry and its Web Worker, followed through every
// runtime import) may import a Node built-in or a package, or use Node-only globals. Libraries come in
// through src/vendor: the build replaces each of those files by the library bundled as an ES module.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const ENTRIES = ['src/web/index.ts', 'src/web/worker.ts'];
/** Runtime imports and re-exports (`import type` / `export type` are erased by the compiler). */
const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
const NODE_GLOBALS = /\b(?:process\.|Buffer\.|require\(|__dirname|__filename|setImmediate\()/;
const VENDOR = join(ROOT, 'src/vendor');

/** Every source file the entries load at run time, with the specifiers each imports. */
function graph(entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const text = readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(IMPORT)].map((m) => (m[1] ?? m[2])!);
    seen.set(file, specifiers);
    // A vendor file's package import is bundled by the build (checked below on dist/vendor), not loaded.
    if (dirname(file) === VENDOR) return;
    for (const s of specifiers) if (s.startsWith('.')) visit(resolve(dirname(file), s.replace(/\.js$/, '.ts')));
  };
  entries.forEach((entry) => visit(join(ROOT, entry)));
  return seen;
}

describe('rnnkit/web', () => {
  const files = graph(ENTRIES);

  it('loads a real module graph (the walk follows imports)', () => {
    const names = [...files.keys()].map((f) => relative(ROOT, f));
    expect(names).toContain('src/backend/wasm-backend.ts');
    expect(names).toContain('src/model/stack.ts');
    expect(names).toContain('src/io/safetensors.ts');
    expect(names).toContain('src/tasks/classify/predict.ts'); // classifier prediction in the page
    expect(names).toContain('src/tasks/classify/classifier-file.ts');
    expect(names).toContain('src/tasks/seq2seq/translate.ts'); // translation in the page
    expect(names).toContain('src/tasks/ctc/recognise.ts'); // speech recognition in the page …
    expect(names).toContain('src/audio/wav.ts'); // … from WAV bytes
    expect(names).toContain('src/audio/features.ts');
    expect(names).toContain('src/vendor/fft.ts'); // the libraries, through src/vendor
    expect(names).toContain('src/vendor/wavefile.ts');
    expect(names.length).toBeGreaterThan(20);
  });

  it('imports no Node built-in and no package, in any module it loads (but src/vendor)', () => {
    const bad = [...files]
      .filter(([file]) => dirname(file) !== VENDOR)
      .flatMap(([file, specifiers]) =>
        specifiers.filter((s) => !s.startsWith('.')).map((s) => `${relative(ROOT, file)} imports ${s}`),
      );
    expect(bad).toEqual([]);
  });

  it('the built dist/vendor files (npm run build) import nothing', () => {
    const vendored = readdirSync(VENDOR).map((f) => `dist/vendor/${f.replace(/\.ts$/, '.js')}`);
    const bad = vendored.flatMap((file) => {
      const specifiers = [...readFileSync(join(ROOT, file), 'utf8').matchAll(IMPORT)].map((m) => m[1] ?? m[2]);
      return specifiers.map((s) => `${file} imports ${s}`);
    });
    expect(vendored).toContain('dist/vendor/fft.js');
    expect(bad).toEqual([]);
  });

  it('uses no Node-only global (process, Buffer, require, __dirname, setImmediate)', () => {
    const bad = [...files.keys()]
      .filter((file) => NODE_GLOBALS.test(readFileSync(file, 'utf8').replace(/\/\/.*|\/\*[\s\S]*?\*\//g, '')))
      .map((f) => relative(ROOT, f));
    expect(bad).toEqual([]);
  });

  it('the checker sees a Node import where there is one (src/index.ts reaches node:fs)', () => {
    const specifiers = [...graph(['src/index.ts']).values()].flat();
    expect(specifiers.some((s) => s.startsWith('node:'))).toBe(true);
  });
});
