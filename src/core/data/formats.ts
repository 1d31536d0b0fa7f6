/**
 * The file formats mlpipe reads, declared once: the names `--format` and pipeline.yaml's `format:`
 * take, and the extensions each is recognized by. The readers (sources/file.ts, files.ts) and the
 * config schema (pipeline/config.ts) import them from here.
 */
import { extname } from 'node:path';

/** Text formats a file, standard input or a command's output can be in. */
export const TEXT_FORMATS = ['csv', 'tsv', 'json', 'ndjson'] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];

/** Every file format: the text ones, spreadsheets, Parquet, and `arrow` (a dataset written by `mlpipe load`). */
export const FILE_FORMATS = [...TEXT_FORMATS, 'xlsx', 'parquet', 'arrow'] as const;
export type FileFormat = (typeof FILE_FORMATS)[number];

/** The extensions (lower case, without the dot) each format is recognized by; `.gz` is looked through. */
const FORMAT_EXTENSIONS: Readonly<Record<FileFormat, readonly string[]>> = {
  csv: ['csv', 'txt'],
  tsv: ['tsv', 'tab'],
  json: ['json'],
  ndjson: ['ndjson', 'jsonl'],
  xlsx: ['xlsx', 'xlsm'],
  parquet: ['parquet', 'pq'],
  arrow: ['arrow', 'feather', 'ipc'],
};

/** The format a path's extension names (`.gz` looked through, any case), or undefined. */
export function formatOfExtension(path: string): FileFormat | undefined {
  let name = path.toLowerCase();
  if (name.endsWith('.gz')) name = name.slice(0, -3);
  const ext = extname(name).slice(1);
  if (ext === '') return undefined;
  return FILE_FORMATS.find((f) => FORMAT_EXTENSIONS[f].includes(ext));
}
