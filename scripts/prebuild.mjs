#!/usr/bin/env node
// Builds the prebuilt addons shipped in the npm package (run by `npm run build:prebuilds` and by `prepack`):
//   prebuilds/linux-x64/rnnkit.glibc.node and prebuilds/linux-arm64/rnnkit.glibc.node
// with prebuildify (N-API: one binary per platform/arch serves every Node >= 20; the addon picks its SIMD
// level at run time). The other architecture is cross-built with Debian's g++-<triple> (apt-get install
// g++-aarch64-linux-gnu on x86-64), as scripts/check-arm64.sh does. Offline: node-gyp is given this
// Node's installed headers (nodedir), never asked to download them.
//
// Builds run in a scratch copy, because prebuildify runs `node-gyp rebuild`, which deletes build/ (and with
// it build/wasm and the developer's build/Release). `--clean` only removes prebuilds/ (postpack: after
// packing, so that a stale prebuild never shadows a developer's fresh build/Release/rnnkit.node).
// `--arch=arm64` (or x64) builds that one only (scripts/check-arm64.sh).
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const prebuilds = path.join(root, 'prebuilds');

/** The architectures shipped, with their GNU triple (cross tools are `<triple>-g++` etc.) and ELF machine. */
const TARGETS = [
  { arch: 'x64', triple: 'x86_64-linux-gnu', elfMachine: 62 },
  { arch: 'arm64', triple: 'aarch64-linux-gnu', elfMachine: 183 },
];

function fail(message) {
  console.error(`rnnkit prebuild: ${message}`);
  process.exit(1);
}

function onPath(program) {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, program)));
}

/** npm's bundled node-gyp (npm sets npm_config_node_gyp for scripts; else the copy next to this Node). */
function nodeGypScript() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const candidates = [
    process.env.npm_config_node_gyp,
    path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c) => c && existsSync(c)) ?? fail('node-gyp not found (it comes with npm)');
}

/** The ELF e_machine field of a shared object (62 x86-64, 183 AArch64): proof the cross compiler was used. */
function elfMachine(file) {
  const header = Buffer.alloc(20);
  const fd = openSync(file, 'r');
  readSync(fd, header, 0, 20, 0);
  closeSync(fd);
  return header.readUInt16LE(18);
}

rmSync(prebuilds, { recursive: true, force: true });
if (process.argv.includes('--clean')) process.exit(0);
if (process.platform !== 'linux' || !TARGETS.some((t) => t.arch === process.arch)) {
  fail(`prebuilds are made on linux-x64 or linux-arm64, not ${process.platform}-${process.arch}`);
}
const nodedir = path.resolve(path.dirname(process.execPath), '..');
if (!existsSync(path.join(nodedir, 'include', 'node', 'node_api.h'))) {
  fail(`this Node's headers are not installed (${nodedir}/include/node/node_api.h); node-gyp would download them`);
}

// A scratch copy with what node-gyp needs: binding.gyp, the sources, and node-addon-api via node_modules.
const scratch = mkdtempSync(path.join(tmpdir(), 'rnnkit-prebuild-'));
for (const entry of ['binding.gyp', 'native', 'package.json'])
  cpSync(path.join(root, entry), path.join(scratch, entry), { recursive: true });
symlinkSync(path.join(root, 'node_modules'), path.join(scratch, 'node_modules'));

const only = process.argv.find((a) => a.startsWith('--arch='))?.slice('--arch='.length);
if (only && !TARGETS.some((t) => t.arch === only))
  fail(`--arch must be ${TARGETS.map((t) => t.arch).join(' or ')}, got ${only}`);
const prebuildify = createRequire(import.meta.url).resolve('prebuildify/bin.js');
try {
  for (const target of TARGETS.filter((t) => !only || t.arch === only)) {
    const cross = target.arch !== process.arch;
    const tool = (name) => (cross ? `${target.triple}-${name}` : name);
    if (!onPath(tool('g++'))) {
      fail(
        `${tool('g++')} not found (${cross ? `apt-get install g++-${target.triple.replaceAll('_', '-')}` : 'install a C++ compiler'})`,
      );
    }
    const started = Date.now();
    console.error(`rnnkit prebuild: linux-${target.arch}${cross ? ` (cross-built with ${tool('g++')})` : ''}`);
    const result = spawnSync(
      process.execPath,
      [
        prebuildify,
        '--napi',
        '--strip',
        `--strip-bin=${tool('strip')}`,
        '--tag-libc',
        '--libc=glibc',
        `--target=${process.version.slice(1)}`,
        `--arch=${target.arch}`,
        '--platform=linux',
        '--name=rnnkit',
        `--node-gyp=${nodeGypScript()}`,
        `--cwd=${scratch}`,
        `--out=${root}`,
      ],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: {
          ...process.env,
          npm_config_nodedir: nodedir, // this Node's headers: nothing downloaded
          npm_config_loglevel: 'warn',
          JOBS: 'max', // node-gyp: make -j<cores>
          ...(cross ? { CC: tool('gcc'), CXX: tool('g++'), AR: tool('ar'), LINK: tool('g++') } : {}),
        },
      },
    );
    if (result.status !== 0) {
      console.error(`${result.stdout}${result.stderr}`.trim().split('\n').slice(-40).join('\n'));
      fail(
        `linux-${target.arch}: prebuildify exited with ${result.status ?? result.signal} (node-gyp's last lines above)`,
      );
    }
    const file = path.join(prebuilds, `linux-${target.arch}`, 'rnnkit.glibc.node');
    if (!existsSync(file)) fail(`prebuildify finished but ${file} is missing`);
    if (elfMachine(file) !== target.elfMachine)
      fail(`${file} was not built for ${target.arch} (ELF machine ${elfMachine(file)})`);
    console.error(`rnnkit prebuild: ${path.relative(root, file)} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
