// The npm package as a user gets it: `npm pack` (whose prepack builds the prebuilt addons for linux-x64 and
// linux-arm64), then the tarball installed into a fresh project OFFLINE with install scripts disabled, and
// used from there: the CLI on the native prebuild, the installed types, an ESM program; then the same
// package with its prebuilds removed falls back to WebAssembly, saying why in one line.
//
// Offline: npm's cache holds the dependencies' tarballs (the checkout's `npm install` put them there) but
// not their registry metadata, so a bare `npm install --offline` cannot resolve version ranges
// (ENOTCACHED). The fresh project therefore gets a lockfile: the production entries of this checkout's
// package-lock.json (the versions rnnkit is tested with), and npm adds the tarball itself.
import { spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');
/** The tarball's size budget, the one the README states. */
const TARBALL_BUDGET_BYTES = 1.25 * 1024 * 1024;
const SETUP_TIMEOUT_MS = 15 * 60_000;
const platformDir = `${process.platform}-${process.arch}`;
const hasPrebuild = ['linux-x64', 'linux-arm64'].includes(platformDir);

let work: string;
let app: string;
let tarball: string;
let installSeconds: number;

function run(command: string, args: string[], cwd: string, timeout = 600_000) {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, RNNKIT_BACKEND: '', RNNKIT_THREADS: '', RNNKIT_SIMD: '' },
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.status ?? result.signal}) in ${cwd}:\n${output.slice(-4000)}`,
    );
  return { stdout: result.stdout, output };
}

function rnnkit(...args: string[]) {
  return run(process.execPath, [join(app, 'node_modules', '.bin', 'rnnkit'), ...args], app);
}

/** A copy of the checkout without build outputs, so that packing (which rebuilds dist/ and build/wasm/) never
 *  touches the files the other test files are using. */
function copyCheckout(to: string): void {
  const skip = new Set(['node_modules', 'dist', 'build', 'prebuilds', 'runs', '.git']);
  for (const entry of readdirSync(root)) {
    if (!skip.has(entry) && !entry.endsWith('.tgz')) cpSync(join(root, entry), join(to, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(to, 'node_modules'));
}

/** The fresh project's lockfile: every non-dev package of the checkout's lockfile. */
function productionLockfile(): object {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  const packages = Object.fromEntries(
    Object.entries(lock.packages).filter(([path, entry]) => path.startsWith('node_modules/') && !entry.dev),
  );
  return {
    name: 'app',
    lockfileVersion: 3,
    requires: true,
    packages: { '': { name: 'app', dependencies: { rnnkit: `file:${tarball}` } }, ...packages },
  };
}

function tarballFiles(): string[] {
  return run('tar', ['tzf', tarball], work)
    .stdout.trim()
    .split('\n')
    .map((f) => f.replace(/^package\//, ''));
}

describe.runIf(hasPrebuild)('the npm package, installed offline with install scripts disabled', () => {
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'rnnkit-package-'));
    const checkout = join(work, 'checkout');
    mkdirSync(checkout);
    copyCheckout(checkout);
    run('npm', ['pack', '--pack-destination', work], checkout);
    tarball = join(
      work,
      readdirSync(work).find((f) => f.endsWith('.tgz'))!,
    );

    app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'app', private: true, type: 'module', dependencies: { rnnkit: `file:${tarball}` } }),
    );
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(productionLockfile()));
    const started = Date.now();
    run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], app);
    installSeconds = (Date.now() - started) / 1000;
    console.log(
      `packed ${statSync(tarball).size} bytes; npm install --offline --ignore-scripts took ${installSeconds.toFixed(1)} s`,
    );
    writeFileSync(
      join(app, 'corpus.txt'),
      'It was the best of times, it was the worst of times, it was the age of wisdom. '.repeat(40),
    );
  }, SETUP_TIMEOUT_MS);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  }, 120_000); // a few hundred installed packages to delete

  it('holds what a user needs and nothing else, within its size budget', () => {
    const files = tarballFiles();
    for (const needed of [
      'package.json',
      'README.md',
      'LICENSE',
      'bin/rnnkit.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/cli/main.js',
      'dist/web/index.js',
      'dist/web/index.d.ts',
      'dist/web/worker.js',
      'dist/web/wasm-thread.js',
      'dist/vendor/fft.js', // fft.js and wavefile as bundled ES modules, for rnnkit/web
      'dist/vendor/wavefile.js',
      'dist/backend/wasm-thread-node.js',
      'build/wasm/rnnkit.wasm',
      'build/wasm/rnnkit.relaxed.wasm',
      'prebuilds/linux-x64/rnnkit.glibc.node',
      'prebuilds/linux-arm64/rnnkit.glibc.node',
      'binding.gyp',
      'native/addon.cc',
      'scripts/build-native.mjs',
      'python/lm/model.py',
      'python/lm/train_ddp.py',
      'python/lm/README.md',
      'python/common/rnnkit_ddp.py',
    ])
      expect(files, needed).toContain(needed);
    const unwanted = files.filter((f) =>
      /^(test|src|assembly|bench|\.ci|build\/Release|runs)\/|\.map$|_check\.cc$|check_random\.h$|\.debug\.wasm$|^tsconfig/.test(
        f,
      ),
    );
    expect(unwanted).toEqual([]);
    expect(statSync(tarball).size).toBeLessThan(TARBALL_BUDGET_BYTES);
    const manifest = JSON.parse(readFileSync(join(app, 'node_modules', 'rnnkit', 'package.json'), 'utf8'));
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(manifest.bin).toEqual({ rnnkit: 'bin/rnnkit.js' });
  });

  it('ships the arm64 prebuild as an AArch64 shared object (cross-built, not a copy of the x64 one)', () => {
    const elfMachine = (arch: string) =>
      readFileSync(join(app, 'node_modules', 'rnnkit', 'prebuilds', `linux-${arch}`, 'rnnkit.glibc.node')).readUInt16LE(
        18,
      );
    expect(elfMachine('x64')).toBe(62); // EM_X86_64
    expect(elfMachine('arm64')).toBe(183); // EM_AARCH64
  });

  it('rnnkit info loads the native prebuild, and nothing was compiled', () => {
    const { stdout } = rnnkit('info');
    const prebuild = join(app, 'node_modules', 'rnnkit', 'prebuilds', platformDir, 'rnnkit.glibc.node');
    expect(stdout).toMatch(/^native +loaded /m);
    expect(stdout).toContain(`addon       prebuilt: ${prebuild}`);
    expect(stdout).toMatch(
      /not used +local build: .*build\/Release\/rnnkit\.node not needed, the prebuilt addon loaded first/,
    );
    expect(stdout).toMatch(/^chosen: native /m);
    expect(existsSync(join(app, 'node_modules', 'rnnkit', 'build', 'Release'))).toBe(false);
  });

  it('the install script, when allowed to run, compiles nothing and prints one line', () => {
    const { stdout } = run('npm', ['rebuild', 'rnnkit', '--offline', '--foreground-scripts'], app);
    const ours = stdout.split('\n').filter((l) => l.startsWith('rnnkit:'));
    expect(ours).toEqual([
      `rnnkit: using the prebuilt native addon prebuilds/${platformDir}/rnnkit.glibc.node; nothing to build.`,
    ]);
    expect(existsSync(join(app, 'node_modules', 'rnnkit', 'build', 'Release'))).toBe(false);
  });

  it('rnnkit train runs on the prebuild', () => {
    const { output } = rnnkit('train', 'corpus.txt', '--steps', '50', '--out', 'runs/cli');
    expect(output).not.toMatch(/backend not used/);
    expect(output).toMatch(/^rnnkit: native \(/m);
    expect(output).toMatch(/done at step 50 of 50/);
  });

  it('rnnkit export --pytorch finds its Python templates in the installed package', () => {
    rnnkit('export', 'runs/cli', '--pytorch', 'runs/cli-pytorch');
    for (const name of [
      'model.py',
      'train_ddp.py',
      'rnnkit_ddp.py',
      'rnnkit_safetensors.py',
      'README.md',
      'trainer.safetensors',
      'text.txt',
    ])
      expect(existsSync(join(app, 'runs/cli-pytorch', name)), name).toBe(true);
  });

  it('a TypeScript file type-checks against the installed types, and a wrong call does not', () => {
    writeFileSync(
      join(app, 'use.ts'),
      [
        "import { type TrainEvent, loadModel, sample, selectBackend, train } from 'rnnkit';",
        "const handle = train({ file: 'corpus.txt', out: 'runs/ts', config: { cell: 'lstm', hidden: 32, steps: 10 } });",
        "for await (const event of handle) { const e: TrainEvent = event; if (e.type === 'step') console.log(e.metrics.loss.toFixed(3)); }",
        'const { backend } = await selectBackend();',
        'const { model, vocab } = loadModel((await handle.result).dir, backend);',
        "const text: string = sample(model, vocab, { length: 20, temperature: 0.8, prime: 'It' });",
        'console.log(text);',
        // Would pass unnoticed if the package had no types (everything `any`): each must be an error.
        '// @ts-expect-error: steps is a number',
        "train({ out: 'x', config: { steps: 'ten' } });",
        '// @ts-expect-error: no such export',
        "import('rnnkit').then((m) => m.noSuchFunction());",
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules', '@types')],
          skipLibCheck: false,
        },
        files: ['use.ts'],
      }),
    );
    run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app);
  });

  it('an ESM program trains and samples through the library on the native backend', () => {
    writeFileSync(
      join(app, 'use.mjs'),
      `
import { loadModel, sample, selectBackend, train } from 'rnnkit';
const handle = train({ file: 'corpus.txt', out: 'runs/esm', config: { cell: 'gru', hidden: 32, steps: 30 } });
let trainedOn = null, steps = 0;
for await (const event of handle) {
  if (event.type === 'start') trainedOn = event.backend.name;
  if (event.type === 'step') steps = event.metrics.step;
}
const result = await handle.result;
const { backend } = await selectBackend();
const { model, vocab } = loadModel(result.dir, backend);
const text = sample(model, vocab, { length: 40, temperature: 0.8, prime: 'It was', seed: 1 });
console.log(JSON.stringify({ trainedOn, sampledOn: backend.name, steps, text }));
`,
    );
    const report = JSON.parse(run(process.execPath, ['use.mjs'], app).stdout.trim().split('\n').at(-1)!);
    expect(report).toMatchObject({ trainedOn: 'native', sampledOn: 'native', steps: 30 });
    expect(report.text.startsWith('It was')).toBe(true);
    expect([...report.text].length).toBeGreaterThanOrEqual(40);
  });

  /** Runs `check` with the package's prebuilds/ moved away, as on a platform without a prebuild. */
  function withoutPrebuilds(check: () => void): void {
    const prebuilds = join(app, 'node_modules', 'rnnkit', 'prebuilds');
    renameSync(prebuilds, `${prebuilds}.removed`);
    try {
      check();
    } finally {
      renameSync(`${prebuilds}.removed`, prebuilds);
    }
  }

  it('with the prebuild removed, falls back to WebAssembly with a one-line reason', () =>
    withoutPrebuilds(() => {
      const info = rnnkit('info').stdout;
      const nativeLines = info.split('\n').filter((l) => l.startsWith('native'));
      expect(nativeLines).toHaveLength(1);
      expect(nativeLines[0]).toMatch(
        new RegExp(
          `^native +not loaded +rnnkit native addon not available: prebuilt: no prebuilt addon for ${platformDir} \\(.*prebuilds/${platformDir} does not exist\\); local build: not built \\(.*build/Release/rnnkit\\.node does not exist`,
        ),
      );
      expect(info).toMatch(/^chosen: wasm /m);
      const trained = rnnkit('train', 'corpus.txt', '--steps', '50', '--out', 'runs/wasm').output;
      expect(trained.split('\n').filter((l) => /backend not used/.test(l))).toEqual([
        expect.stringMatching(
          /^rnnkit: native backend not used: rnnkit native addon not available: prebuilt: no prebuilt addon/,
        ),
      ]);
      expect(trained).toMatch(/^rnnkit: wasm \(/m);
      expect(trained).toMatch(/done at step 50 of 50/);
    }));

  it(
    'with the prebuild removed, the install script builds the addon from the shipped sources, and it loads',
    () =>
      withoutPrebuilds(() => {
        const { stdout } = run('npm', ['rebuild', 'rnnkit', '--offline', '--foreground-scripts'], app);
        expect(stdout.split('\n').filter((l) => l.startsWith('rnnkit:'))).toEqual([
          'rnnkit: native addon built (build/Release/rnnkit.node).',
        ]);
        const rebuilt = rnnkit('info').stdout;
        expect(rebuilt).toContain(
          `addon       local build: ${join(app, 'node_modules', 'rnnkit', 'build', 'Release', 'rnnkit.node')}`,
        );
        expect(rebuilt).toMatch(/not used +prebuilt: no prebuilt addon for /);
        expect(rebuilt).toMatch(/^chosen: native /m);
      }),
    600_000,
  ); // a full compile: 30 s on an idle machine, several minutes on a busy one
});
