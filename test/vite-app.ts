// Builds a small app with Vite as a user of the package would: the app's files in a fresh directory whose
// node_modules/rnnkit links to this checkout, so that `import … from 'rnnkit/web'` goes through the package's
// exports map. Needs `npm run build` (dist/web, build/wasm).
import { existsSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Writes `files` (name → text) into a new app directory and builds it with Vite's defaults (no config file);
 *  returns the directory (the caller removes it) and the build's output in it. */
export async function buildViteApp(files: Record<string, string>): Promise<{ app: string; outDir: string }> {
  for (const file of ['dist/web/index.js', 'dist/web/worker.js', 'dist/web/wasm-thread.js', 'build/wasm/rnnkit.wasm'])
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run npm run build`);
  const app = mkdtempSync(join(tmpdir(), 'rnnkit-vite-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(ROOT, join(app, 'node_modules', 'rnnkit'), 'dir');
  writeFileSync(join(app, 'package.json'), '{ "name": "rnnkit-vite-app", "private": true, "type": "module" }\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(app, name), text);
  const outDir = join(app, 'dist');
  await build({ root: app, logLevel: 'silent', configFile: false, build: { outDir, emptyOutDir: true } });
  return { app, outDir };
}
