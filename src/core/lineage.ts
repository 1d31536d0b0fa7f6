import type { SourceLineage } from './data/sources/types.js';
import type { DeclaredType } from './values.js';

/** A row `mlpipe load --on-bad-row skip` left out, and why. */
export interface SkippedRow {
  /** 1-based row number in the source (across chunks). */
  row: number;
  /** Physical line in the source file, when known. */
  line?: number;
  column: string;
  message: string;
}

/**
 * Where a dataset came from; recorded in the dataset file and carried into the features folder, the
 * model folder and the bundle manifest. Never holds a secret: `source` URLs are redacted by the
 * sources (src/core/data/sources/redact.ts).
 */
export interface Lineage {
  /**
   * The source: a file (path, format, size, sha256), standard input, a command, a database (host,
   * database, query or table), an HTTP API (redacted URL, method, pages), a dataset read again (with
   * its own lineage as `parent`), or several sources combined (`concat`, `join` with `sources`).
   * Datasets written before issue 5 hold `{kind, path, format, bytes, sha256, parent}`, which is a
   * subset of this.
   */
  source: SourceLineage;
  rows: number;
  columns: number;
  /**
   * sha256 over the typed values, column by column in a canonical encoding (see
   * src/core/data/fingerprint.ts): equal data, equal fingerprint, whatever the source, the chunk
   * size or the load time.
   */
  fingerprint: string;
  /** ISO time the data was loaded. */
  loadedAt: string;
  mlpipeVersion: string;
  /** Rows left out by `onBadRow: skip`, when any. */
  skippedRows?: number;
  /** Column types the user declared (`types:` / `--types`, `datetime:dmy` included), when any. */
  types?: Record<string, DeclaredType>;
}

/** A short description of a source for people: its path, redacted URL, `postgres://host/db`, the command, or its kind. */
export function describeSource(source: SourceLineage | undefined): string {
  if (!source) return 'unknown source';
  switch (source.kind) {
    case 'postgres':
    case 'mysql':
      return `${source.kind}://${source.host ?? ''}/${source.database ?? ''}${source.table ? ` table ${source.table}` : source.query ? ' (query)' : ''}`;
    case 'http':
      return source.url ?? 'http';
    case 'command':
      return source.command ? `command: ${source.command}` : 'command';
    case 'join':
    case 'concat':
      return `${source.kind} of ${(source.sources ?? []).map((s) => describeSource(s)).join(', ')}`;
    default:
      return source.path ?? source.kind;
  }
}
