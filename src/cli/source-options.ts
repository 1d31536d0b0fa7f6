/** The command-line options of reading a source, in one place for every command that reads one. */
import { type Command, Option } from 'commander';
import type { SourceFlags as SourceSpecFlags } from '../core/data/sources/index.js';
import type { DeclaredType } from '../core/values.js';
import type { CliContext } from './context.js';
import { collect, columnTypes, integer, onBadRowOption, oneOf } from './parse.js';

/** The options of {@link sourceOptions}: what the core turns into a source spec, and how to load it. */
export interface SourceFlags extends SourceSpecFlags {
  types?: Record<string, DeclaredType>;
  onBadRow?: 'error' | 'skip';
  inferRows?: number;
  chunkRows?: number;
}

function method(value: string): string {
  return oneOf(['GET', 'POST'] as const)(value.toUpperCase());
}

/** How to load, from the source flags, and the process's stdin and environment (load, init). */
export function loadingOptions(opts: SourceFlags, ctx: CliContext) {
  return { types: opts.types, onBadRow: opts.onBadRow, inferRows: opts.inferRows, chunkRows: opts.chunkRows, stdin: ctx.io.stdin, env: ctx.io.env };
}

/** What `<source>` can be, in `--help`. */
export const SOURCE_ARGUMENT =
  'a file (.csv .tsv .json .ndjson .jsonl .xlsx .parquet .arrow, optionally .gz), - for stdin, a database URL (postgres://, mysql://, mariadb://, sqlite:path, or a .db/.sqlite file) or an http(s):// URL; omit it with --from-command';

/**
 * The options that say what to read and how, shared by every command that reads a source (`load`,
 * `run`, `init`, `bundles retrain` and `predict`): the format and CSV dialect, a spreadsheet's sheet and
 * range, an SQL query or table, a command, an HTTP API's request and paging, and the chunk size.
 */
export function readingOptions(command: Command): Command {
  return command
    .option('--format <format>', 'input format, overriding the extension (csv, tsv, json, ndjson, xlsx, parquet, arrow)')
    .option('--delimiter <char>', 'CSV delimiter (default: sniffed from the header)')
    .option('--quote <char>', 'CSV quote character (default ")')
    .option('--encoding <name>', 'text encoding (default utf-8; latin1, utf-16le, windows-1252 …)')
    // --header (hidden) is defined first so that --no-header gives `header: false` and nothing else a default.
    .addOption(new Option('--header').hideHelp())
    .option('--no-header', 'the first line is data: columns are named column_1, column_2 …')
    .option('--sheet <name>', 'spreadsheet: the sheet to read (default: the first)')
    .option('--range <A1:B2>', 'spreadsheet: the cell range to read, e.g. B2:F100')
    .option('--query <sql>', 'SQL source: the query to run')
    .option('--table <name>', 'SQL source: the table to read')
    .option('--from-command <cmd>', 'run a shell command and read its standard output (NDJSON unless --format)')
    .option('--records-path <path>', 'HTTP: where the records are in each response (dotted path or JSON Pointer)')
    .option('--method <method>', 'HTTP: GET or POST (default GET; POST with --data)', method)
    .option('--data <json>', 'HTTP: JSON body to POST')
    .option('-H, --http-header <"Name: value">', 'HTTP: a request header (repeatable); ${NAME} is read from the environment', collect)
    .option('--bearer-env <VAR>', 'HTTP: send Authorization: Bearer <the value of $VAR>')
    .option('--paginate <kind>', 'HTTP: page, offset, cursor or link', oneOf(['page', 'offset', 'cursor', 'link'] as const))
    .option('--page-param <name>', 'HTTP: the query parameter of the page number, offset or cursor')
    .option('--page-size <n>', 'HTTP: records per page (page, offset)', integer(1))
    .option('--cursor-path <path>', 'HTTP: where the next cursor is in a response (--paginate cursor)')
    .option('--max-records <n>', 'HTTP: stop after this many records', integer(1))
    .option('--retries <n>', 'HTTP: retries on 429, 5xx and network errors (default 4)', integer(0, 20))
    .option('--timeout <ms>', 'HTTP: per-request timeout in milliseconds (default 30000)', integer(1))
    .option('--chunk-rows <n>', 'rows per chunk: memory is bounded by it (default 10000)', integer(1, 1_000_000));
}

/** {@link readingOptions} and how to type the rows into a dataset: `mlpipe load`'s, `run <source>`'s, `init`'s. */
export function sourceOptions(command: Command): Command {
  return readingOptions(command)
    .option('--types <col=type,...>', 'declared column types (number, integer, boolean, category, datetime, text; datetime:dmy or datetime:mdy also fix the order of dates like 03/05/2024), e.g. zip=category', columnTypes)
    .addOption(onBadRowOption(['error', 'skip'] as const, 'a value that contradicts its column type: stop (error, default) or leave the row out and count it (skip)'))
    .option('--infer-rows <n>', 'infer column types from the first n rows only (default: every row)', integer(1));
}

