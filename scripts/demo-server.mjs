#!/usr/bin/env node
// `npm run demo`: serves the demo page (demo/) and the package files it loads (dist/web, build/wasm) with the
// headers that make the page cross-origin isolated (COOP same-origin, COEP require-corp), which SharedArrayBuffer
// needs. `--no-isolation` leaves them out (the page then runs one thread); `--port N` (default 8080, 0 = any).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startStaticServer } from './static-server.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Starts the server on 127.0.0.1; resolves to it and the demo page's URL. */
export async function startDemoServer({ port = 8080, isolated = true } = {}) {
  const { server, url } = await startStaticServer({ root: ROOT, port, isolated, home: '/demo/' });
  return { server, url: `${url}demo/` };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const portAt = args.indexOf('--port');
  const port = portAt >= 0 ? Number(args[portAt + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`rnnkit demo: --port must be an integer from 0 to 65535, got ${args[portAt + 1]}`);
    process.exit(2);
  }
  if (
    !existsSync(new URL('../dist/web/index.js', import.meta.url)) ||
    !existsSync(new URL('../build/wasm/rnnkit.wasm', import.meta.url))
  ) {
    console.error('rnnkit demo: dist/web or build/wasm is missing; run npm run build first');
    process.exit(1);
  }
  const isolated = !args.includes('--no-isolation');
  startDemoServer({ port, isolated }).then(
    ({ url }) =>
      console.log(
        `rnnkit demo: ${url} (${isolated ? 'cross-origin isolated' : 'not cross-origin isolated: one thread'}; Ctrl-C stops)`,
      ),
    (error) => {
      console.error(`rnnkit demo: cannot listen on port ${port} (${error.message})`);
      process.exit(1);
    },
  );
}
