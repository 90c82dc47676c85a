// The renames of issue #15, made mechanically by the TypeScript language service (the same "rename symbol"
// an editor does: every reference, import and re-export follows), so that they can be re-run after merging
// branches that still use the old names. Run: node scripts/rename-names.mjs, then npx tsc -p
// tsconfig.test.json (the check) and npm run format. It edits src/ and test/ in place and prints what it did.
//   Model.p, Model.g          -> Model.paramTensors, Model.gradTensors (src/model/model.ts)
//   type F, type I            -> FloatSpan, IntSpan (src/backend/types.ts)
//   WasmBackend #x, #f, #i    -> #exports, #floatPointer, #intPointer (src/backend/wasm-backend.ts)
//   variables/parameters `be` -> backend, except where `backend` already appears in the same function
//                                (renaming there could capture it); those are listed, not renamed.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(import.meta.dirname, '..');
const config = ts.getParsedCommandLineOfConfigFile(
  path.join(root, 'tsconfig.test.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
);
const files = config.fileNames;
const texts = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));
const service = ts.createLanguageService({
  getScriptFileNames: () => files,
  getScriptVersion: () => '1',
  getScriptSnapshot: (f) => {
    const text = texts.get(f) ?? (ts.sys.fileExists(f) ? ts.sys.readFile(f) : undefined);
    return text === undefined ? undefined : ts.ScriptSnapshot.fromString(text);
  },
  getCurrentDirectory: () => root,
  getCompilationSettings: () => config.options,
  getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
  fileExists: ts.sys.fileExists,
  readFile: ts.sys.readFile,
  readDirectory: ts.sys.readDirectory,
});
const program = service.getProgram();

/** file -> [start, length, newText] */
const edits = new Map();
let renamedBe = 0;
function rename(file, position, newName, withPrefixAndSuffix = false) {
  const locations = service.findRenameLocations(file, position, false, false, {
    providePrefixAndSuffixTextForRename: withPrefixAndSuffix,
  });
  if (!locations) throw new Error(`cannot rename at ${file}:${position}`);
  for (const l of locations) {
    const list = edits.get(l.fileName) ?? [];
    const text = (l.prefixText ?? '') + newName + (l.suffixText ?? '');
    if (!list.some((e) => e[0] === l.textSpan.start)) list.push([l.textSpan.start, l.textSpan.length, text]);
    edits.set(l.fileName, list);
  }
}

/** The position of the declaration `name` (a class member, type alias) in `relative`. */
function declaration(relative, test) {
  const file = path.join(root, relative);
  const source = program.getSourceFile(file);
  let found;
  const visit = (node) => {
    if (!found && test(node)) found = node;
    ts.forEachChild(node, visit);
  };
  visit(source);
  if (!found) throw new Error(`not found in ${relative}`);
  return [file, found.name.getStart(source)];
}
const named = (kind, name) => (node) => node.kind === kind && node.name?.getText() === name;

const members = [
  ['src/model/model.ts', ts.SyntaxKind.PropertyDeclaration, 'p', 'paramTensors'],
  ['src/model/model.ts', ts.SyntaxKind.PropertyDeclaration, 'g', 'gradTensors'],
  ['src/backend/types.ts', ts.SyntaxKind.TypeAliasDeclaration, 'F', 'FloatSpan'],
  ['src/backend/types.ts', ts.SyntaxKind.TypeAliasDeclaration, 'I', 'IntSpan'],
  ['src/backend/wasm-backend.ts', ts.SyntaxKind.PropertyDeclaration, '#x', 'exports'],
  ['src/backend/wasm-backend.ts', ts.SyntaxKind.MethodDeclaration, '#f', 'floatPointer'],
  ['src/backend/wasm-backend.ts', ts.SyntaxKind.MethodDeclaration, '#i', 'intPointer'],
];
for (const [file, kind, from, to] of members) {
  let at;
  try {
    at = declaration(file, named(kind, from));
  } catch {
    console.log(`already renamed or absent: ${file} ${from}`);
    continue;
  }
  rename(...at, from.startsWith('#') ? `#${to}` : to);
  console.log(`${file}: ${from} -> ${from.startsWith('#') ? '#' : ''}${to}`);
}

// `be` -> `backend`, declaration by declaration.
const skipped = [];
/** Whether an identifier `backend` (not a property after a dot) occurs anywhere in `scope`. */
function mentionsBackend(scope) {
  let found = false;
  const visit = (node) => {
    if (ts.isIdentifier(node) && node.text === 'backend') {
      const parent = node.parent;
      if (!(ts.isPropertyAccessExpression(parent) && parent.name === node)) found = true;
    }
    if (!found) ts.forEachChild(node, visit);
  };
  visit(scope);
  return found;
}
for (const file of files) {
  const source = program.getSourceFile(file);
  const visit = (node) => {
    if (
      (ts.isParameter(node) || ts.isVariableDeclaration(node) || ts.isBindingElement(node)) &&
      ts.isIdentifier(node.name) &&
      node.name.text === 'be'
    ) {
      let scope = node.parent;
      while (scope && !ts.isFunctionLike(scope) && !ts.isSourceFile(scope)) scope = scope.parent;
      if (mentionsBackend(scope)) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        skipped.push(`${path.relative(root, file)}:${line + 1}`);
      } else {
        rename(file, node.name.getStart(source), 'backend', true);
        renamedBe++;
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}
console.log(`be -> backend: ${renamedBe} declarations`);
if (skipped.length) console.log(`be left where 'backend' is already used in the function: ${skipped.join(', ')}`);

for (const [file, list] of edits) {
  let text = texts.get(file) ?? readFileSync(file, 'utf8');
  for (const [start, length, replacement] of list.sort((a, b) => b[0] - a[0])) {
    text = text.slice(0, start) + replacement + text.slice(start + length);
  }
  writeFileSync(file, text);
}
console.log(`${[...edits.values()].reduce((n, l) => n + l.length, 0)} places in ${edits.size} files`);
