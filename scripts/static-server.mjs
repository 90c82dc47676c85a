// A static file server (sirv) on 127.0.0.1 for pages that use rnnkit/web: with `isolated`, the headers that make
// a page cross-origin isolated (COOP same-origin, COEP require-corp), which SharedArrayBuffer, and so the
// WebAssembly backend's threads, need. Serves the demo (demo-server.mjs) and the bundled apps of the tests.
import { createServer } from 'node:http';
import sirv from 'sirv';

/** Serves `root`; `home`, when given, is where `/` redirects. Resolves to the server and its base URL. */
export function startStaticServer({ root, port = 0, isolated = true, home }) {
  const files = sirv(root, {
    dev: true, // no caching: a rebuilt file is served as it is now
    dotfiles: false,
    setHeaders(res) {
      if (isolated) {
        res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
        res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      }
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    },
  });
  const server = createServer((req, res) => {
    if (home && (req.url === '/' || req.url === '/index.html')) {
      res.writeHead(302, { Location: home });
      return res.end();
    }
    files(req, res, () => {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${server.address().port}/` }));
  });
}
