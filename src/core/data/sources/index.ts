import type { Readable } from 'node:stream';
import { MlpipeError } from '../../errors.js';
import { FILE_FORMATS, TEXT_FORMATS, formatOfExtension } from '../formats.js';
import { datasetSource } from './dataset.js';
import { commandSource } from './command.js';
import { fileSource, stdinSource } from './file.js';
import { httpSource } from './http.js';
import { redactUrl } from './redact.js';
import { sqlSource } from './sql.js';
import type { FileSourceSpec, HttpPagination, HttpSourceSpec, RecordSource, SourceSpec, TextFormat } from './types.js';

/** What a source may need from the process: the environment (`${NAME}` in URLs, tokens) and standard input. */
export interface SourceContext {
  env: NodeJS.ProcessEnv;
  stdin?: Readable;
  /**
   * Text sources (files, stdin, a command's output): yield a row the reader cannot read in place, as a
   * malformed row, instead of ending the reading with a DataError (`mlpipe predict` makes it a bad row).
   */
  keepMalformedRows?: boolean;
}

/** True for a file spec that names an mlpipe (Arrow IPC) dataset, by `format` or extension. */
function isDatasetFile(spec: FileSourceSpec): boolean {
  if (spec.format !== undefined) return spec.format === 'arrow';
  return formatOfExtension(spec.path) === 'arrow' && !spec.path.toLowerCase().endsWith('.gz');
}

/**
 * Opens any source spec as a {@link RecordSource}: files (CSV/TSV/JSON/NDJSON, .gz, .xlsx, .parquet)
 * and `-`, a command's output, an SQL database, an HTTP JSON API, or an mlpipe `.arrow` dataset (read
 * batch by batch, with its stored column types and lineage). Nothing is read until `chunks` is iterated.
 */
export function openSource(spec: SourceSpec, ctx: SourceContext): RecordSource {
  switch (spec.kind) {
    case 'file':
      if (spec.path !== '-' && isDatasetFile(spec)) return datasetSource(spec.path);
      return fileSource(spec, { stdin: ctx.stdin, keepMalformedRows: ctx.keepMalformedRows });
    case 'stdin':
      if (!ctx.stdin) throw new MlpipeError('usage', 'reading "-" needs standard input');
      return stdinSource(spec, ctx.stdin, { keepMalformedRows: ctx.keepMalformedRows });
    case 'command':
      return commandSource(spec, { keepMalformedRows: ctx.keepMalformedRows });
    case 'sql':
      return sqlSource(spec, ctx.env);
    case 'http':
      return httpSource(spec, ctx.env);
  }
}

/** The command-line flags that shape a source (`mlpipe load`). */
export interface SourceFlags {
  format?: string;
  delimiter?: string;
  quote?: string;
  encoding?: string;
  /** false with `--no-header`. */
  header?: boolean;
  sheet?: string;
  range?: string;
  query?: string;
  table?: string;
  fromCommand?: string;
  method?: string;
  /** `--data`: a JSON body (text). */
  data?: string;
  /** `-H "Name: value"`, repeatable. */
  httpHeader?: string[];
  /** `--bearer-env VAR`: the token is read from this environment variable. */
  bearerEnv?: string;
  recordsPath?: string;
  paginate?: string;
  pageParam?: string;
  pageSize?: number;
  cursorPath?: string;
  maxRecords?: number;
  retries?: number;
  timeout?: number;
}

const SQL_URL = /^(postgres|postgresql|mysql|mariadb):\/\//i;
const SQL_FILE = /\.(db|sqlite|sqlite3)$/i;

/** The kind of source a `mlpipe load` argument names. */
export function sourceKindOf(arg: string): 'stdin' | 'sql' | 'http' | 'file' {
  if (arg === '-') return 'stdin';
  if (SQL_URL.test(arg) || /^sqlite:/i.test(arg) || SQL_FILE.test(arg)) return 'sql';
  if (/^https?:\/\//i.test(arg)) return 'http';
  return 'file';
}

function usage(flag: string, problem: string): MlpipeError {
  return new MlpipeError('usage', `${flag}: ${problem}`);
}

const FLAG_NAMES: Record<keyof SourceFlags, string> = {
  format: '--format',
  delimiter: '--delimiter',
  quote: '--quote',
  encoding: '--encoding',
  header: '--no-header',
  sheet: '--sheet',
  range: '--range',
  query: '--query',
  table: '--table',
  fromCommand: '--from-command',
  method: '--method',
  data: '--data',
  httpHeader: '--http-header',
  bearerEnv: '--bearer-env',
  recordsPath: '--records-path',
  paginate: '--paginate',
  pageParam: '--page-param',
  pageSize: '--page-size',
  cursorPath: '--cursor-path',
  maxRecords: '--max-records',
  retries: '--retries',
  timeout: '--timeout',
};

const FLAGS_FOR: Record<'stdin' | 'sql' | 'http' | 'file' | 'command', readonly (keyof SourceFlags)[]> = {
  file: ['format', 'delimiter', 'quote', 'encoding', 'header', 'sheet', 'range'],
  stdin: ['format', 'delimiter', 'quote', 'encoding', 'header'],
  command: ['fromCommand', 'format', 'delimiter', 'quote', 'encoding', 'header'],
  sql: ['query', 'table'],
  http: ['method', 'data', 'httpHeader', 'bearerEnv', 'recordsPath', 'paginate', 'pageParam', 'pageSize', 'cursorPath', 'maxRecords', 'retries', 'timeout'],
};

const KIND_WORDS: Record<'stdin' | 'sql' | 'http' | 'file' | 'command', string> = {
  file: 'a file',
  stdin: 'standard input',
  command: '--from-command',
  sql: 'an SQL source (postgres://…, mysql://…, sqlite:… or a .db file)',
  http: 'an HTTP source (http://… or https://…)',
};

function csvOptions(flags: SourceFlags) {
  for (const key of ['delimiter', 'quote'] as const) {
    const v = flags[key];
    if (v !== undefined && [...v].length !== 1) throw usage(FLAG_NAMES[key], `expected one character, got ${JSON.stringify(v)}`);
  }
  if (flags.encoding !== undefined) {
    try {
      new TextDecoder(flags.encoding);
    } catch {
      throw usage('--encoding', `unknown text encoding "${flags.encoding}" (utf-8, latin1, utf-16le, windows-1252 …)`);
    }
  }
  return {
    ...(flags.delimiter !== undefined ? { delimiter: flags.delimiter } : {}),
    ...(flags.quote !== undefined ? { quote: flags.quote } : {}),
    ...(flags.encoding !== undefined ? { encoding: flags.encoding } : {}),
    ...(flags.header === false ? { header: false } : {}),
  };
}

function textFormat(format: string | undefined, where: string): TextFormat | undefined {
  if (format === undefined) return undefined;
  const f = format.toLowerCase();
  if (!(TEXT_FORMATS as readonly string[]).includes(f)) throw usage('--format', `${where} can be ${TEXT_FORMATS.join(', ')}, not "${format}"`);
  return f as TextFormat;
}

function pagination(flags: SourceFlags): HttpPagination | undefined {
  if (flags.paginate === undefined) {
    for (const key of ['pageParam', 'pageSize', 'cursorPath'] as const) {
      if (flags[key] !== undefined) throw usage(FLAG_NAMES[key], 'only with --paginate');
    }
    return undefined;
  }
  switch (flags.paginate) {
    case 'page':
      if (flags.cursorPath !== undefined) throw usage('--cursor-path', 'only with --paginate cursor');
      return { type: 'page', ...(flags.pageParam !== undefined ? { param: flags.pageParam } : {}), ...(flags.pageSize !== undefined ? { size: flags.pageSize } : {}) };
    case 'offset':
      if (flags.cursorPath !== undefined) throw usage('--cursor-path', 'only with --paginate cursor');
      if (flags.pageSize === undefined) throw usage('--page-size', 'is needed with --paginate offset (records per request)');
      return { type: 'offset', ...(flags.pageParam !== undefined ? { param: flags.pageParam } : {}), limit: flags.pageSize };
    case 'cursor':
      if (flags.cursorPath === undefined) throw usage('--cursor-path', 'is needed with --paginate cursor (where the next cursor is in each response)');
      if (flags.pageParam === undefined) throw usage('--page-param', 'is needed with --paginate cursor (the query parameter that carries the cursor)');
      if (flags.pageSize !== undefined) throw usage('--page-size', 'not with --paginate cursor');
      return { type: 'cursor', cursorPath: flags.cursorPath, param: flags.pageParam };
    case 'link':
      for (const key of ['pageParam', 'pageSize', 'cursorPath'] as const) {
        if (flags[key] !== undefined) throw usage(FLAG_NAMES[key], 'not with --paginate link (the next URL comes from the Link header)');
      }
      return { type: 'link' };
    default:
      throw usage('--paginate', `expected one of page, offset, cursor, link, got "${flags.paginate}"`);
  }
}

function httpSpec(url: string, flags: SourceFlags, env: NodeJS.ProcessEnv): HttpSourceSpec {
  let body: unknown;
  if (flags.data !== undefined) {
    try {
      body = JSON.parse(flags.data);
    } catch {
      throw usage('--data', 'expected a JSON document (the POST body)');
    }
  }
  let method: 'GET' | 'POST' | undefined;
  if (flags.method !== undefined) {
    const m = flags.method.toUpperCase();
    if (m !== 'GET' && m !== 'POST') throw usage('--method', `expected GET or POST, got "${flags.method}"`);
    method = m;
  }
  if (method === 'GET' && body !== undefined) throw usage('--data', 'a body needs --method POST');
  if (body !== undefined) method = 'POST';
  let headers: Record<string, string> | undefined;
  for (const h of flags.httpHeader ?? []) {
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):\s*(.*)$/.exec(h);
    if (!m) throw usage('--http-header', `expected "Name: value", got ${JSON.stringify(h)}`);
    headers = { ...headers, [m[1]!]: m[2]!.trim() };
  }
  let bearerToken: string | undefined;
  if (flags.bearerEnv !== undefined) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(flags.bearerEnv)) throw usage('--bearer-env', `expected the name of an environment variable, got ${JSON.stringify(flags.bearerEnv)}`);
    if (env[flags.bearerEnv] === undefined) throw usage('--bearer-env', `the environment variable ${flags.bearerEnv} is not set`);
    bearerToken = `\${${flags.bearerEnv}}`;
  }
  const paging = pagination(flags);
  return {
    kind: 'http',
    url,
    ...(method ? { method } : {}),
    ...(body !== undefined ? { body } : {}),
    ...(headers ? { headers } : {}),
    ...(bearerToken ? { bearerToken } : {}),
    ...(flags.recordsPath !== undefined ? { recordsPath: flags.recordsPath } : {}),
    ...(paging ? { pagination: paging } : {}),
    ...(flags.retries !== undefined ? { retries: flags.retries } : {}),
    ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
    ...(flags.maxRecords !== undefined ? { maxRecords: flags.maxRecords } : {}),
  };
}

/**
 * Turns `mlpipe load`'s `<source>` argument and flags into a source spec: `-` is standard input;
 * `postgres://`, `postgresql://`, `mysql://`, `mariadb://`, `sqlite:…` or a path ending .db/.sqlite/
 * .sqlite3 is SQL (needs `--query` or `--table`); `http://` / `https://` is an HTTP API; anything else
 * a file. With `--from-command` there is no argument. A flag that does not fit the source, or a bad
 * value, is a usage error (exit 2) naming the flag. `env` is only checked (`--bearer-env`), never
 * copied into the spec: secrets stay `${NAME}` references until the source expands them.
 */
export function parseSourceArgument(arg: string | undefined, flags: SourceFlags, env: NodeJS.ProcessEnv = {}): SourceSpec {
  if (arg !== undefined && flags.fromCommand !== undefined) throw usage('--from-command', 'give either a <source> argument or --from-command, not both');
  if (arg === undefined && flags.fromCommand === undefined) throw usage('<source>', 'give a source (a file, -, a database URL or an http(s) URL) or --from-command');
  const kind = arg === undefined ? 'command' : sourceKindOf(arg);
  const allowed = FLAGS_FOR[kind];
  for (const key of Object.keys(FLAG_NAMES) as (keyof SourceFlags)[]) {
    if (flags[key] === undefined || allowed.includes(key)) continue;
    if (key === 'header' && flags.header !== false) continue;
    const fitting = (Object.keys(FLAGS_FOR) as (keyof typeof FLAGS_FOR)[]).filter((k) => FLAGS_FOR[k].includes(key)).map((k) => KIND_WORDS[k]);
    throw usage(FLAG_NAMES[key], `only for ${fitting.join(' or ')}, not for ${KIND_WORDS[kind]}`);
  }
  switch (kind) {
    case 'command': {
      const command = flags.fromCommand as string;
      if (command.trim() === '') throw usage('--from-command', 'the command is empty');
      const format = textFormat(flags.format, 'a command\'s output');
      return { kind: 'command', command, ...(format ? { format } : {}), ...csvOptions(flags) };
    }
    case 'stdin': {
      const format = textFormat(flags.format, 'standard input');
      return { kind: 'stdin', ...(format ? { format } : {}), ...csvOptions(flags) };
    }
    case 'sql': {
      const a = arg as string;
      if (flags.query !== undefined && flags.table !== undefined) throw usage('--query', 'give --query or --table, not both');
      if (flags.query === undefined && flags.table === undefined) throw usage('--query', 'an SQL source needs --query <sql> or --table <name>');
      if (flags.query !== undefined && flags.query.trim() === '') throw usage('--query', 'the query is empty');
      return { kind: 'sql', url: a, ...(flags.query !== undefined ? { query: flags.query } : { table: flags.table as string }) };
    }
    case 'http':
      return httpSpec(arg as string, flags, env);
    case 'file': {
      let format: FileSourceSpec['format'];
      if (flags.format !== undefined) {
        const f = flags.format.toLowerCase();
        if (!(FILE_FORMATS as readonly string[]).includes(f)) throw usage('--format', `expected one of ${FILE_FORMATS.join(', ')}, got "${flags.format}"`);
        format = f as FileSourceSpec['format'];
      }
      if (flags.range !== undefined && !/^[A-Za-z]{1,3}[0-9]*(:[A-Za-z]{1,3}[0-9]*)?$/.test(flags.range)) {
        throw usage('--range', `expected an A1 range such as B2:F100, A1:D or B:F, got ${JSON.stringify(flags.range)}`);
      }
      return {
        kind: 'file',
        path: arg as string,
        ...(format ? { format } : {}),
        ...csvOptions(flags),
        ...(flags.sheet !== undefined ? { sheet: flags.sheet } : {}),
        ...(flags.range !== undefined ? { range: flags.range } : {}),
      };
    }
  }
}

/** How a source spec is named in messages before it is opened (URLs are shown as given: `${NAME}` unexpanded). */
export function specLabel(spec: SourceSpec): string {
  switch (spec.kind) {
    case 'file':
      return spec.path;
    case 'stdin':
      return 'stdin';
    case 'command':
      return `command: ${spec.command}`;
    case 'sql':
    case 'http':
      return redactUrl(spec.url);
  }
}
