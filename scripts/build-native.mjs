#!/usr/bin/env node
// Builds the native addon (build/Release/rnnkit.node) with node-gyp (configure + build; other files
// under build/, such as build/wasm, are left alone). Run by `npm install` (the
// package's install script) and by `npm run build:native`.
//
// Installed from the npm package on a platform with a prebuilt addon (prebuilds/, scripts/prebuild.mjs)
// that loads, it compiles nothing and prints one line: the install script is then optional, and
// `npm install --ignore-scripts` gets the same native addon.
//
// Never fails the install: if the addon cannot be built (no compiler, no make, no Python, ...) it
// prints ONE line saying why and exits 0, and rnnkit uses the WebAssembly backend instead.
// RNNKIT_SKIP_NATIVE=1 skips the build.
//
// node-gyp is the one npm bundles: npm puts it on PATH for lifecycle scripts, sets npm_config_node_gyp
// to its script and passes nodedir (npm_config_nodedir), so the headers of the running Node are used
// offline. Outside npm we look for npm's copy next to this Node and pass --nodedir ourselves when the
// headers are installed (node_modules/.bin/node-gyp would try to download them).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const addon = path.join(root, 'build', 'Release', 'rnnkit.node');
const logFile = path.join(root, 'build', 'native-build.log');

function finish(line) {
  console.log(`rnnkit: ${line}`);
  process.exit(0);
}

function notBuilt(reason) {
  // Never leave an addon from an earlier build behind a message saying that none was built.
  rmSync(addon, { force: true });
  finish(`native addon not built (${reason}); the WebAssembly backend will be used.`);
}

/** The command that runs node-gyp, or null. */
function nodeGypCommand() {
  const script = process.env.npm_config_node_gyp;
  if (script && existsSync(script)) return { command: process.execPath, args: [script] };
  if (onPath('node-gyp')) return { command: 'node-gyp', args: [] };
  // Not run by npm: npm's bundled node-gyp next to this Node (<prefix>/lib/node_modules/npm/...).
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  for (const candidate of [
    path.join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ]) {
    if (existsSync(candidate)) return { command: process.execPath, args: [candidate] };
  }
  return null;
}

function onPath(program) {
  const exts = process.platform === 'win32' ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    for (const ext of exts) if (existsSync(path.join(dir, program + ext))) return true;
  }
  return false;
}

/** Extra node-gyp arguments: the headers of this Node when npm did not say where they are. */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

/** A short reason from node-gyp's output. */
function reasonFrom(output, status) {
  const lines = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const patterns = [
    /(?:g\+\+|c\+\+|cc|clang\+\+|make): (?:command )?not found/i,
    /No such file or directory/i,
    /Could not find any Python/i,
    /not found: make/i,
    /error:/i,
    /gyp ERR! stack Error: (.*)/,
  ];
  for (const pattern of patterns) {
    const line = lines.find((l) => pattern.test(l));
    if (line) return line.replace(/^gyp ERR! (stack )?/, '').slice(0, 160);
  }
  return `node-gyp exited with ${status === null ? 'a signal' : `code ${status}`}`;
}

// The library's own loader (dist/, shipped in the package) decides, so install and run time agree. A
// development checkout has no dist/ yet at install time and no prebuilds/: it builds. `npm run
// build:native` always builds.
const loader = path.join(root, 'dist', 'backend', 'native.js');
if (process.env.npm_lifecycle_event === 'install' && existsSync(loader) && existsSync(path.join(root, 'prebuilds'))) {
  const { findNativeAddon } = await import(pathToFileURL(loader).href);
  let origin = null;
  try {
    origin = findNativeAddon(root).origin;
  } catch {
    // no candidate loads: build one below
  }
  if (origin?.kind === 'prebuilt')
    finish(`using the prebuilt native addon ${path.relative(root, origin.path)}; nothing to build.`);
}

if (process.env.RNNKIT_SKIP_NATIVE === '1') {
  finish(
    existsSync(addon)
      ? 'RNNKIT_SKIP_NATIVE=1: native addon build skipped; the existing build/Release/rnnkit.node is kept.'
      : 'RNNKIT_SKIP_NATIVE=1: native addon build skipped; the WebAssembly backend will be used.',
  );
}

if (process.platform !== 'win32') {
  const compiler = process.env.CXX ? process.env.CXX.split(/\s+/)[0] : null;
  if (compiler ? !onPath(compiler) && !existsSync(compiler) : !onPath('c++') && !onPath('g++') && !onPath('clang++')) {
    notBuilt(`no C++ compiler found${compiler ? ` (CXX=${compiler})` : ''}`);
  }
  if (!onPath('make')) notBuilt('make not found');
}

const gyp = nodeGypCommand();
if (!gyp) notBuilt('node-gyp not found; run npm run build:native');

// `configure` + `build`, never `rebuild`: rebuild starts with `clean`, which deletes the whole build/
// directory, including build/wasm (the WebAssembly engine shipped in the package).
let output = '';
let result;
for (const step of ['configure', 'build']) {
  result = spawnSync(gyp.command, [...gyp.args, step, ...nodedirArgs()], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  output += `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error || result.status !== 0) break;
}
try {
  mkdirSync(path.dirname(logFile), { recursive: true });
  writeFileSync(logFile, output);
} catch {
  // the log is a convenience only
}

if (result.error) notBuilt(`could not run node-gyp: ${result.error.message}`);
if (result.status !== 0) notBuilt(`${reasonFrom(output, result.status)}; log: build/native-build.log`);
if (!existsSync(addon)) notBuilt('node-gyp succeeded but build/Release/rnnkit.node is missing');

try {
  createRequire(import.meta.url)(addon);
} catch (error) {
  notBuilt(`built but failed to load: ${String(error?.message ?? error).split('\n')[0]}`);
}
finish('native addon built (build/Release/rnnkit.node).');
