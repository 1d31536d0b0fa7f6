import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { sha256File } from '../fs-util.js';
import type { Table } from '../table.js';
import type { ColumnType } from '../values.js';
import { mlpipeVersion } from '../version.js';
import { buildTable } from './build.js';
import { fingerprintTable, readDataset, writeDataset } from './dataset.js';
import type { Lineage } from '../lineage.js';
import { type DatasetProfile, profileTable } from './profile.js';
import { type SourceFormat, detectFormat, readRawFile } from './read.js';

/** Options of {@link loadSource}. */
export interface LoadOptions {
  /** A file path (CSV, TSV, JSON, NDJSON, an mlpipe `.arrow` dataset, optionally `.gz`) or `-` for stdin. */
  source: string;
  /** Format name overriding the extension. */
  format?: string;
  /** CSV delimiter (default: sniffed). */
  delimiter?: string;
  /** Declared column types that replace inference. */
  types?: Record<string, ColumnType>;
  /** Standard input, for source `-`. */
  stdin?: Readable;
}

/** A loaded, typed table with its lineage, profile and any warnings. */
export interface LoadResult {
  table: Table;
  lineage: Lineage;
  profile: DatasetProfile;
  warnings: string[];
}

/**
 * Reads any supported source into a typed table, inferring column types, and describes where it came
 * from. Throws NotFoundError / DataError (naming file, row, column) for bad input.
 */
export async function loadSource(options: LoadOptions): Promise<LoadResult> {
  const { source } = options;
  const format: SourceFormat | undefined = source === '-' && !options.format ? undefined : detectFormat(source, options.format);
  let table: Table;
  let warnings: string[] = [];
  let sourceInfo: Lineage['source'];
  if (format === 'arrow') {
    const dataset = await readDataset(source);
    table = dataset.table;
    sourceInfo = { kind: 'dataset', path: source, format: 'arrow', parent: dataset.lineage };
  } else {
    const raw = await readRawFile(source, { format, delimiter: options.delimiter, stdin: options.stdin });
    warnings = raw.warnings;
    table = buildTable(raw, { types: options.types });
    sourceInfo = source === '-' ? { kind: 'stdin', format: raw.format } : { kind: 'file', path: source, format: raw.format };
  }
  if (sourceInfo.kind !== 'stdin' && source !== '-') {
    const st = await stat(source);
    sourceInfo.bytes = st.size;
    sourceInfo.sha256 = await sha256File(source);
  }
  const lineage: Lineage = {
    source: sourceInfo,
    rows: table.rowCount,
    columns: table.columns.length,
    fingerprint: fingerprintTable(table),
    loadedAt: new Date().toISOString(),
    mlpipeVersion: mlpipeVersion(),
  };
  return { table, lineage, profile: profileTable(table), warnings };
}

/** {@link loadSource}, then writes the dataset file atomically to `out`. */
export async function loadToDataset(options: LoadOptions & { out: string }): Promise<LoadResult> {
  const result = await loadSource(options);
  await writeDataset(options.out, result.table, result.lineage);
  return result;
}
