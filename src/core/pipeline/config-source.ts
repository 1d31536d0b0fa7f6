/**
 * pipeline.yaml's `source:` and `combine:` after schema validation: each item as a source spec (relative
 * paths resolved against the config's folder), and what the schema cannot say (query or table, a
 * join's keys, load options that agree across a list), each problem with its path and line.
 */
import { isAbsolute } from 'node:path';
import type { SourceSpec } from '../data/sources/types.js';
import { dict, ownValue } from '../records/dict.js';
import type { DeclaredType } from '../values.js';
import type { ConfigLocation, PipelineSource } from './config.js';

/** Throws a ConfigError naming the config path and its line. */
export type Fail = (path: (string | number)[], message: string) => never;

/** `sqlite:rel.db`, `sqlite://rel.db` or `rel.db` resolved against the config's folder; other URLs as written. */
function resolveSqlUrl(url: string, rel: (p: string) => string): string {
  const m = /^sqlite:(\/\/)?(.*)$/i.exec(url);
  if (m) {
    const path = m[2] as string;
    if (path === '' || path === ':memory:' || isAbsolute(path)) return url;
    return `sqlite:${rel(path)}`;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return url;
  return /\.(db|sqlite|sqlite3)$/i.test(url) ? rel(url) : url;
}

const LOAD_OPTION_KEYS = ['types', 'onBadRow', 'inferRows', 'chunkRows'] as const;

/** One validated `source:` item as a spec (relative paths resolved). */
function sourceSpec(item: unknown, path: (string | number)[], rel: (p: string) => string, fail: Fail): SourceSpec {
  if (typeof item === 'string') return { kind: 'file', path: rel(item) };
  const o = item as Record<string, unknown>;
  const pick = (...keys: string[]) => Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
  if (typeof o.sql === 'string') {
    if (o.query !== undefined && o.table !== undefined) fail([...path, 'table'], 'give query or table, not both');
    if (o.query === undefined && o.table === undefined) fail([...path, 'sql'], 'an SQL source needs query: or table:');
    return { kind: 'sql', url: resolveSqlUrl(o.sql, rel), ...pick('query', 'table') } as SourceSpec;
  }
  if (typeof o.http === 'string') {
    if (o.body !== undefined && o.method === 'GET') fail([...path, 'body'], 'a body needs method: POST');
    const { http, ...rest } = pick('http', 'method', 'body', 'headers', 'bearerToken', 'recordsPath', 'pagination', 'retries', 'timeoutMs', 'maxRecords');
    return { kind: 'http', url: http, ...(rest.body !== undefined && rest.method === undefined ? { method: 'POST' } : {}), ...rest } as SourceSpec;
  }
  if (typeof o.command === 'string') {
    return { kind: 'command', ...pick('command', 'format', 'delimiter', 'quote', 'encoding', 'header') } as SourceSpec;
  }
  const spec = { kind: 'file', ...pick('path', 'format', 'delimiter', 'quote', 'encoding', 'header', 'sheet', 'range') } as SourceSpec & { path: string };
  spec.path = rel(spec.path);
  return spec;
}

/** Builds the validated `source:` (and `combine:`), checking what the schema cannot say, each with its path and line. */
export function pipelineSource(
  cfg: Record<string, unknown>,
  rel: (p: string) => string,
  fail: Fail,
  locate: (path: (string | number)[]) => ConfigLocation,
): PipelineSource {
  const list = Array.isArray(cfg.source);
  const items: unknown[] = list ? (cfg.source as unknown[]) : [cfg.source];
  const combine = cfg.combine as { how: 'concat' | 'inner' | 'left'; on?: string[] } | undefined;
  if (combine && items.length < 2) fail(['combine'], 'combines a list of two or more sources (source: [..., ...])');
  if (!combine && items.length > 1) fail(['source'], 'several sources need combine: {how: concat} or {how: inner|left, on: [key, ...]}');
  if (combine?.how === 'concat' && combine.on !== undefined) fail(['combine', 'on'], 'only with how: inner or left (a join)');
  if (combine && combine.how !== 'concat' && combine.on === undefined) fail(['combine', 'on'], `is required with how: ${combine.how} (the key columns)`);
  const itemPath = (i: number): (string | number)[] => (list ? ['source', i] : ['source']);
  const sources = items.map((item, i) => sourceSpec(item, itemPath(i), rel, fail));
  // Load options may be written on any item of a list; they apply to the combined table and must agree.
  const options: Partial<Pick<PipelineSource, (typeof LOAD_OPTION_KEYS)[number]>> = {};
  const setBy = dict<number>();
  items.forEach((item, i) => {
    if (item === null || typeof item !== 'object') return;
    const o = item as Record<string, unknown>;
    for (const key of LOAD_OPTION_KEYS) {
      const value = o[key];
      if (value === undefined) continue;
      if (key === 'types') {
        const types = (options.types ??= dict());
        for (const [column, type] of Object.entries(value as Record<string, DeclaredType>)) {
          if (ownValue(types, column) !== undefined && types[column] !== type) fail([...itemPath(i), 'types', column], `conflicts with the type ${types[column]} given for "${column}" by source[${setBy[`types.${column}`]}]`);
          types[column] = type;
          setBy[`types.${column}`] = i;
        }
        continue;
      }
      if (options[key] !== undefined && options[key] !== value) fail([...itemPath(i), key], `conflicts with ${JSON.stringify(options[key])} given by source[${setBy[key]}]: load options apply to the combined table`);
      (options as Record<string, unknown>)[key] = value;
      setBy[key] = i;
    }
  });
  const first = sources[0]!;
  return {
    sources,
    ...(combine ? { combine: combine.how === 'concat' ? { how: 'concat' } : { how: combine.how, on: combine.on as string[] } } : {}),
    ...options,
    ...(first.kind === 'file' ? { path: first.path } : {}),
    keyLocations: items.map((_, i) => {
      const at = locate(itemPath(i));
      return { path: `${at.path}.on`, ...(at.line !== undefined ? { line: at.line } : {}) };
    }),
  };
}
