// The Python files `rnnkit export --pytorch` writes are real files shipped in the package (python/<task>/),
// found from here both in src/ (tests) and in dist/ (the installed package): both are three levels below
// the package root.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON_DIR = fileURLToPath(new URL('../../../python/', import.meta.url));

/** The .py and .md files of python/common/ and of the task's folder: name → text. Throws (an installation
 *  fault) when one is missing. */
export function templateFiles(task: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const folder of ['common', task]) {
    const dir = join(PYTHON_DIR, folder);
    if (!existsSync(dir))
      throw new Error(`the PyTorch templates ${folder}/ are missing from this installation (${dir})`);
    const names = readdirSync(dir)
      .filter((name) => /\.(py|md)$/.test(name))
      .sort(); // not __pycache__
    for (const name of names) files.set(name, readFileSync(join(dir, name), 'utf8'));
  }
  return files;
}

/** `{{key}}` → values[key]; a key without a value is a bug in the caller. */
export function fillIn(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
    if (!(key in values)) throw new Error(`template value ${key} is missing`);
    return String(values[key]);
  });
}
