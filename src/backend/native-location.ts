// Where the native addon comes from, in order: the prebuilt addon shipped in the npm package for this
// platform (prebuildify's layout, prebuilds/<platform>-<arch>/rnnkit[.<tag>...].node, the one node-gyp-build
// reads), else a local build (build/Release/rnnkit.node, made by the install script or npm run
// build:native). Unlike node-gyp-build, which prefers a local build and throws one generic error, each
// candidate is kept with the reason it was not used, for `rnnkit info` and the fallback's one-line reason.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type AddonKind = 'prebuilt' | 'local build';

export interface AddonCandidate {
  kind: AddonKind;
  path: string;
  /** Why it cannot be used before even trying to load it (a missing file, another C library), or null. */
  unusable: string | null;
}

/** The package root: this file is two levels below it as src/backend/*.ts and as dist/backend/*.js. */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../', import.meta.url));
}

/** The platform directory prebuildify writes for this process, e.g. prebuilds/linux-x64. */
export function prebuildDir(root: string = packageRoot()): string {
  return path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
}

export function localBuildPath(root: string = packageRoot()): string {
  return path.join(root, 'build', 'Release', 'rnnkit.node');
}

let cachedLibc: 'glibc' | 'musl' | null | undefined;

/** This process's C library on Linux (detect-libc's method: ldd's text, else Node's report header). */
function libc(): 'glibc' | 'musl' | null {
  if (cachedLibc !== undefined) return cachedLibc;
  if (process.platform !== 'linux') return (cachedLibc = null);
  let ldd = '';
  try {
    ldd = readFileSync('/usr/bin/ldd', 'latin1');
  } catch {
    // no ldd: ask Node's diagnostic report below (slower, ~20 ms)
  }
  if (ldd.includes('musl')) return (cachedLibc = 'musl');
  if (ldd.includes('GNU C Library') || ldd.includes('GLIBC')) return (cachedLibc = 'glibc');
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return (cachedLibc = report?.header?.glibcVersionRuntime ? 'glibc' : 'musl');
}

/** Why a prebuild's file-name tags (prebuildify's: napi, glibc/musl) rule it out here, or null. */
function tagProblem(file: string): string | null {
  const [name, ...tags] = file.slice(0, -'.node'.length).split('.');
  if (name !== 'rnnkit') return `not an rnnkit addon`;
  for (const tag of tags) {
    if (tag === 'napi') continue;
    if (tag === 'glibc' || tag === 'musl') {
      if (tag !== libc()) return `built for ${tag}, this system uses ${libc() ?? 'no Linux C library'}`;
      continue;
    }
    return `unknown tag ${JSON.stringify(tag)}`;
  }
  return null;
}

/** Every place the addon may be loaded from, in the order to try them. */
export function addonCandidates(root: string = packageRoot()): AddonCandidate[] {
  const dir = prebuildDir(root);
  const files = existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith('.node'))
        .sort()
    : [];
  const prebuilt: AddonCandidate[] =
    files.length > 0
      ? files.map((f) => ({ kind: 'prebuilt', path: path.join(dir, f), unusable: tagProblem(f) }))
      : [
          {
            kind: 'prebuilt',
            path: dir,
            unusable: `no prebuilt addon for ${process.platform}-${process.arch} (${dir} ${existsSync(dir) ? 'holds none' : 'does not exist'})`,
          },
        ];
  const local = localBuildPath(root);
  return [
    ...prebuilt,
    {
      kind: 'local build',
      path: local,
      unusable: existsSync(local) ? null : `not built (${local} does not exist; npm run build:native builds it)`,
    },
  ];
}
