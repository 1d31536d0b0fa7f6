/**
 * What `mlpipe init` writes about its source: the bundle name the source suggests, and the `source:`
 * value of the config (paths made relative to the config's folder, `${NAME}` references kept, a
 * warning for secrets written literally) with its comment.
 */
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { BUNDLE_NAME_MAX, checkName } from '../bundle/names.js';
import type { SourceSpec } from '../data/sources/types.js';
import type { OnBadRow } from '../data/type-chunks.js';
import type { DeclaredType } from '../values.js';

/** Checks a bundle name (the one rule: src/core/bundle/names.ts); ConfigError when it does not fit. */
export function checkBundleName(name: string): string {
  return checkName(name);
}

/** A valid bundle name made from any text (`Sales Data 2024` → `Sales-Data-2024`), or undefined when nothing is left. */
export function bundleNameFrom(text: string): string | undefined {
  const name = text
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[-.]+$/, '')
    .slice(0, BUNDLE_NAME_MAX);
  return name === '' ? undefined : name;
}

/** The file name without its data extensions: `data/sales.csv.gz` → `sales`. */
function stem(path: string): string {
  let name = basename(path.replace(/[\\/]+$/, ''));
  name = name.replace(/\.(gz|gzip)$/i, '');
  return name.replace(/\.[A-Za-z0-9]{1,8}$/, '');
}

/** The bundle name a source suggests: its file, its table, the last segment of its URL; else `<target>-model` (or `model`). */
export function defaultBundleName(spec: SourceSpec, target?: string): string {
  let candidate: string | undefined;
  switch (spec.kind) {
    case 'file':
      candidate = spec.path === '-' ? undefined : stem(spec.path);
      break;
    case 'sql':
      if (spec.table !== undefined) candidate = spec.table.split('.').pop();
      else {
        const path = sqlitePathOf(spec.url);
        candidate = path !== undefined ? stem(path) : databaseOf(spec.url);
      }
      break;
    case 'http':
      try {
        candidate = new URL(spec.url.replace(/\$\{[^}]*\}/g, 'x')).pathname.split('/').filter(Boolean).pop();
      } catch {
        candidate = undefined;
      }
      break;
    default:
      candidate = undefined;
  }
  return (candidate !== undefined ? bundleNameFrom(candidate) : undefined) ?? (target !== undefined ? bundleNameFrom(`${target}-model`) : undefined) ?? 'model';
}

/** The file of an SQLite URL (`sqlite:x.db`, `sqlite://x.db`, `x.db`), undefined for a server URL. */
function sqlitePathOf(url: string): string | undefined {
  const m = /^sqlite:(\/\/)?(.*)$/i.exec(url);
  if (m) return m[2] as string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  return /\.(db|sqlite|sqlite3)$/i.test(url) ? url : undefined;
}

function databaseOf(url: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/]*\/([^/?#]+)/i.exec(url);
  return m ? decodeURIComponent(m[1] as string) : undefined;
}

/** A path as the config (in `configDir`) must write it: absolute paths stay; relative ones are made relative to the config. */
function relativeToConfig(path: string, configDir: string, cwd: string): string {
  if (path === '-' || isAbsolute(path)) return path;
  const rel = relative(configDir, resolve(cwd, path));
  return (rel === '' ? '.' : rel).split(sep).join('/');
}

/** An SQL URL with a relative SQLite file rewritten against the config's folder; server URLs exactly as given. */
function sqlUrlForConfig(url: string, configDir: string, cwd: string): string {
  const m = /^(sqlite:(?:\/\/)?)(.*)$/i.exec(url);
  if (m) {
    const path = m[2] as string;
    if (path === '' || path === ':memory:' || isAbsolute(path)) return url;
    return `${m[1]}${relativeToConfig(path, configDir, cwd)}`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  return /\.(db|sqlite|sqlite3)$/i.test(url) ? relativeToConfig(url, configDir, cwd) : url;
}

const ENV_REFERENCE = /^(\$\{[A-Za-z_][A-Za-z0-9_]*\})+$/;

const SECRET_PARAM = /(pass|pwd|secret|token|key|auth|signature|sig|credential|session)/i;

/** A password, or a query parameter named like a credential, written literally in a URL (not as a `${NAME}` reference). */
export function literalSecret(url: string): boolean {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/@\s]*)@/i.exec(url);
  const userinfo = m?.[1] ?? '';
  const colon = userinfo.indexOf(':');
  const password = colon < 0 ? '' : userinfo.slice(colon + 1);
  if (password !== '' && !ENV_REFERENCE.test(password)) return true;
  const query = url.split('?')[1]?.split('#')[0] ?? '';
  return query.split('&').some((part) => {
    const eq = part.indexOf('=');
    return eq > 0 && SECRET_PARAM.test(part.slice(0, eq)) && part.slice(eq + 1) !== '' && !ENV_REFERENCE.test(part.slice(eq + 1));
  });
}

export type Plain = Record<string, unknown>;

/** Drops undefined values, keeping key order. */
function defined(o: Plain): Plain {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/**
 * The `source:` value of the config: the source as given, with relative file paths made relative to
 * the config's folder and `${NAME}` references kept as written (nothing from the environment is
 * ever expanded into it). A plain file without options stays a plain path.
 */
export function sourceForConfig(spec: SourceSpec, load: { types?: Record<string, DeclaredType>; onBadRow?: OnBadRow; inferRows?: number; chunkRows?: number }, configDir: string, cwd: string): string | Plain {
  const loadOptions = defined({ types: load.types && Object.keys(load.types).length > 0 ? load.types : undefined, onBadRow: load.onBadRow, inferRows: load.inferRows, chunkRows: load.chunkRows });
  const csv = (s: { delimiter?: string; quote?: string; encoding?: string; header?: boolean }) => ({ delimiter: s.delimiter, quote: s.quote, encoding: s.encoding, header: s.header });
  let object: Plain;
  switch (spec.kind) {
    case 'file':
    case 'stdin': {
      const path = spec.kind === 'stdin' ? '-' : relativeToConfig(spec.path, configDir, cwd);
      object = defined({ path, format: spec.format, ...csv(spec), ...(spec.kind === 'file' ? { sheet: spec.sheet, range: spec.range } : {}) });
      if (Object.keys(object).length === 1 && Object.keys(loadOptions).length === 0) return path;
      break;
    }
    case 'command':
      object = defined({ command: spec.command, format: spec.format, ...csv(spec) });
      break;
    case 'sql':
      object = defined({ sql: sqlUrlForConfig(spec.url, configDir, cwd), query: spec.query, table: spec.table });
      break;
    case 'http':
      object = defined({
        http: spec.url,
        method: spec.method,
        body: spec.body,
        headers: spec.headers,
        bearerToken: spec.bearerToken,
        recordsPath: spec.recordsPath,
        pagination: spec.pagination,
        retries: spec.retries,
        timeoutMs: spec.timeoutMs,
        maxRecords: spec.maxRecords,
      });
      break;
  }
  return { ...object, ...loadOptions };
}

/** The source as loaded here: relative file paths against `cwd` (the config's paths are against its folder). */
export function absoluteSpec(spec: SourceSpec, cwd: string): SourceSpec {
  if (spec.kind === 'file' && spec.path !== '-' && !isAbsolute(spec.path)) return { ...spec, path: resolve(cwd, spec.path) };
  if (spec.kind === 'sql') {
    const path = sqlitePathOf(spec.url);
    if (path !== undefined && path !== '' && path !== ':memory:' && !isAbsolute(path)) {
      return { ...spec, url: /^sqlite:/i.test(spec.url) ? `sqlite:${resolve(cwd, path)}` : resolve(cwd, path) };
    }
  }
  return spec;
}

export function sourceComment(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'sql':
      return sqlitePathOf(spec.url) !== undefined ? 'an SQLite file, relative to this file' : '${NAME} in the URL is read from the environment when the pipeline runs';
    case 'http':
      return '${NAME} in the URL, headers and token is read from the environment when the pipeline runs';
    case 'command':
      return 'a shell command whose standard output is the data (run in the folder mlpipe runs in)';
    case 'stdin':
      return 'standard input';
    case 'file':
      return spec.path === '-' ? 'standard input' : isAbsolute(spec.path) ? 'an absolute path' : 'path: relative to this file';
  }
}
