/**
 * The import rules of docs/architecture.md, checked on the code: layers point down only (cli → core and
 * the server's start files for `serve`; server → core; core never imports the server, the CLI or
 * Express, and never prints or exits), and what a fast `mlpipe --help` and the server load at start
 * stays free of the heavy packages (danfojs-node never, the database drivers, the chart renderer, the
 * spreadsheet and Parquet readers only when a command needs them: they are imported lazily).
 */
import { expect } from 'chai';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from '../src/test-helpers/fixtures.js';

const SRC = join(ROOT, 'src');

/** Every source file (not tests, not test helpers) under `dir`, relative to src/. */
function sources(dir: string): string[] {
  return readdirSync(join(SRC, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.includes('test-helpers'))
    .map((f) => join(dir, f));
}

/** A file's imports: static (`import … from`, `export … from`) and dynamic (`import('…')`), each with its specifier. */
function importsOf(file: string): { spec: string; dynamic: boolean }[] {
  const text = readFileSync(join(SRC, file), 'utf8');
  const found: { spec: string; dynamic: boolean }[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?!type\b)(?:[^'"]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) found.push({ spec: m[1]!, dynamic: false });
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ spec: m[1]!, dynamic: true });
  return found;
}

/** A relative specifier as a path under src/ (`.js` → `.ts`), or the bare package name. */
function target(from: string, spec: string): { file?: string; pkg?: string } {
  if (spec.startsWith('.')) return { file: relative(SRC, resolve(SRC, dirname(from), spec)).replace(/\.js$/, '.ts') };
  if (spec.startsWith('node:')) return {};
  const parts = spec.split('/');
  return { pkg: spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0] };
}

/** The packages and files loaded, through static imports only, when `entry` is imported. */
function staticClosure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const { spec, dynamic } of importsOf(file)) {
      if (dynamic) continue;
      const t = target(file, spec);
      if (t.pkg) packages.add(t.pkg);
      if (t.file) todo.push(t.file);
    }
  }
  return { files, packages };
}

describe('architecture: the import rules of docs/architecture.md hold in the code', () => {
  it('core never imports the server, the CLI or Express, and never prints or exits', () => {
    const broken: string[] = [];
    for (const file of sources('core')) {
      for (const { spec } of importsOf(file)) {
        const t = target(file, spec);
        if (t.file?.startsWith('server/') || t.file?.startsWith('cli/') || t.pkg === 'express') broken.push(`${file} imports ${spec}`);
      }
      const text = readFileSync(join(SRC, file), 'utf8');
      if (/\bprocess\.exit\(|\bconsole\.(log|error|warn|info)\(/.test(text)) broken.push(`${file} prints or exits`);
    }
    expect(broken).to.deep.equal([]);
  });

  it('inside core the arrows point down: features/ and models/ never import data/ or pipeline/; nothing outside pipeline/ imports pipeline/; the server never imports pipeline/', () => {
    const broken: string[] = [];
    for (const dir of ['core', 'server', 'cli']) {
      for (const file of sources(dir)) {
        for (const { spec } of importsOf(file)) {
          const t = target(file, spec).file;
          if (t === undefined) continue;
          const lower = file.startsWith('core/features/') || file.startsWith('core/models/');
          if (lower && (t.startsWith('core/data/') || t.startsWith('core/pipeline/'))) broken.push(`${file} imports ${spec}`);
          if (file.startsWith('core/') && !file.startsWith('core/pipeline/') && t.startsWith('core/pipeline/')) broken.push(`${file} imports ${spec}`);
          if (file.startsWith('server/') && t.startsWith('core/pipeline/')) broken.push(`${file} imports ${spec}`);
        }
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('the server never imports the CLI; the CLI reaches the server only through the files serve starts it with', () => {
    const serveEntry = new Set(['server/start.ts', 'server/cluster.ts', 'server/options.ts', 'server/timeouts.ts']);
    const broken: string[] = [];
    for (const file of sources('server')) {
      for (const { spec } of importsOf(file)) if (target(file, spec).file?.startsWith('cli/')) broken.push(`${file} imports ${spec}`);
    }
    for (const file of sources('cli')) {
      for (const { spec } of importsOf(file)) {
        const t = target(file, spec).file;
        if (t?.startsWith('server/') && !serveEntry.has(t)) broken.push(`${file} imports ${spec}`);
      }
    }
    expect(broken).to.deep.equal([]);
  });

  it('mlpipe --help loads no heavy package, and the server loads neither danfojs-node nor the CLI', () => {
    const heavy = ['danfojs-node', 'express', 'pg', 'mysql2', 'better-sqlite3', 'vega', 'vega-lite', 'exceljs', 'hyparquet', 'hyparquet-writer', 'apache-arrow', '@aws-sdk/client-s3', 'prom-client', 'pino'];
    const cli = staticClosure('cli/main.ts');
    expect(cli.files.size, 'the scan follows the imports').to.be.greaterThan(10);
    expect([...cli.packages].filter((p) => heavy.includes(p))).to.deep.equal([]);
    const server = staticClosure('server/start.ts');
    expect(server.packages.has('express'), 'the scan follows the imports').to.equal(true);
    expect([...server.packages].filter((p) => ['danfojs-node', 'commander', 'vega', 'exceljs'].includes(p))).to.deep.equal([]);
    expect([...server.files].filter((f) => f.startsWith('cli/'))).to.deep.equal([]);
  });

  it('the scanner reads static and dynamic imports and resolves them', () => {
    expect(staticClosure('cli/main.ts').packages.has('commander')).to.equal(true);
    expect(importsOf('cli/commands/serve.ts').some((i) => i.dynamic && i.spec.endsWith('server/start.js'))).to.equal(true);
    expect(target('core/predictor/predictor.ts', '../records/flatten.js').file).to.equal('core/records/flatten.ts');
    expect(target('core/x.ts', '@aws-sdk/client-s3/dist').pkg).to.equal('@aws-sdk/client-s3');
  });
});
