// Deletes from a production node_modules what node never loads: documentation, source maps, TypeScript
// sources and declarations, packages' own tests, examples and benchmarks, and the ES-module builds of
// packages whose `main`/`exports` name only their CommonJS build (@aws-sdk, @smithy). Run by the
// Dockerfile's build stage (node prune.mjs <node_modules>); the stage then starts the CLI with what is
// left, and test/image.test.ts serves predictions from it. Plain node, no dependencies: the base has no npm.
import { readdirSync, readFileSync, rmSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root) {
  console.error('usage: node prune.mjs <node_modules>');
  process.exit(2);
}

/** Files no package loads at run time. LICENSE files stay. */
const FILE_RE = /(\.(md|markdown|map|ts|mts|cts|tsbuildinfo)|^(readme|changelog|history|changes|authors|contributing)(\.[a-z]+)?)$/i;
/** Folders directly inside a package (never deeper: `lib/doc/` may be code) that hold no run-time code. */
const PACKAGE_DIRS = new Set(['test', 'tests', '__tests__', 'docs', 'doc', 'example', 'examples', 'benchmark', 'benchmarks', 'bench', 'coverage', '.github', 'dist-types']);

let removed = 0;
let bytes = 0;

function size(path) {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const e of readdirSync(path)) total += size(join(path, e));
  return total;
}

function remove(path) {
  bytes += size(path);
  removed++;
  rmSync(path, { recursive: true, force: true });
}

/** A package's `main` and `exports`: what node resolves (not `module`, `browser`, `react-native`). */
function nodeEntries(dir) {
  try {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return JSON.stringify([pkg.main ?? '', pkg.exports ?? '', pkg.types ?? '']);
  } catch {
    return undefined;
  }
}

function pruneFiles(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) pruneFiles(path);
    else if (e.isFile() && FILE_RE.test(e.name)) remove(path);
  }
}

function prunePackage(dir) {
  const entries = nodeEntries(dir);
  if (entries === undefined) return;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const path = join(dir, e.name);
    if (e.name === 'node_modules') pruneModules(path);
    // Only when package.json does not point into the folder.
    else if (PACKAGE_DIRS.has(e.name) && !entries.includes(`${e.name}/`)) remove(path);
    else if (e.name === 'dist-es' && !entries.includes('dist-es')) remove(path);
  }
}

function pruneModules(dir) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || e.name === '.bin') continue;
    const path = join(dir, e.name);
    if (e.name.startsWith('@')) {
      for (const s of readdirSync(path, { withFileTypes: true })) if (s.isDirectory()) prunePackage(join(path, s.name));
    } else prunePackage(path);
  }
}

const before = size(root);
pruneModules(root);
pruneFiles(root);
const after = size(root);
console.log(`prune: ${root}: ${(before / 1e6).toFixed(1)} MB → ${(after / 1e6).toFixed(1)} MB (${removed} files and folders, ${(bytes / 1e6).toFixed(1)} MB removed)`);
