// Bundles the libraries rnnkit/web needs (src/vendor/*.ts: fft.js, wavefile) into self-contained ES modules
// over tsc's copies in dist/vendor, so the browser entry loads them from a plain static server (no bare
// package specifiers) and Node runs the same code. Run after `tsc -p tsconfig.build.json`.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build } from 'rolldown';

const root = join(import.meta.dirname, '..');
const sources = readdirSync(join(root, 'src/vendor')).filter((f) => f.endsWith('.ts'));
for (const source of sources) {
  await build({
    input: join(root, 'src/vendor', source),
    platform: 'neutral',
    // Both packages' "main" is the CommonJS build the sources default-import (as Node and tsc see them).
    resolve: { mainFields: ['main'] },
    output: { file: join(root, 'dist/vendor', `${basename(source, '.ts')}.js`), format: 'esm', sourcemap: true },
    logLevel: 'warn',
  });
}
