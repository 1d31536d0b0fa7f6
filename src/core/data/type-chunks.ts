import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { interruptible } from '../abort.js';
import { DataError, InterruptedError } from '../errors.js';
import type { Lineage, SkippedRow } from '../lineage.js';
import { type Column, type Table, emptyColumn, setCell } from '../table.js';
import { CellError, type DeclaredType, dateOrderPattern, dayMonthDate, scanDayMonthSpan, splitDeclaredType, toCell } from '../values.js';
import { SpellingCounter, type SpellingResult } from '../spellings.js';
import { mlpipeVersion } from '../version.js';
import { fastColumns } from './fast-columns.js';
import { Fingerprinter } from './fingerprint.js';
import { DEFAULT_DISTINCT_CAP, TypeInferrer, type TypedChunk } from './infer.js';
import { type DatasetProfile, PROFILE_DISTINCT_CAP, ProfileAccumulator } from './profile.js';
import { type RawValue, type RecordSource, type TextRows, chunkRowCount, textRowsValue } from './sources/types.js';
import { Spool, type SpoolColumn, spoolColumn, spoolSpanColumn, spooledValue } from './spool.js';
import type { DatasetSchema, TableSink } from './table-sinks.js';
import { dict, ownValue } from '../records/dict.js';

/** What to do with a row whose value contradicts its column's type. */
export type OnBadRow = 'error' | 'skip';

/** Rows per chunk when nothing else is said (`--chunk-rows`, `chunkRows:`). */
const DEFAULT_CHUNK_ROWS = 10_000;

/** How many skipped rows are described one by one (the rest are only counted). */
const SKIPPED_EXAMPLES = 5;

/** Where a load is: reading the source (pass 1), or typing and writing (pass 2, `total` known). */
export interface LoadProgress {
  phase: 'read' | 'write';
  rows: number;
  total?: number;
}

/** Options of {@link streamLoad}. */
export interface StreamLoadOptions {
  /**
   * Declared column types; they win over the source's own and over inference. `datetime:mdy` and
   * `datetime:dmy` also fix the order of numeric dates; a plain `datetime` learns it from the values.
   */
  types?: Record<string, DeclaredType>;
  /** `error` (default): a contradicting value stops the load. `skip`: the row is left out and counted. */
  onBadRow?: OnBadRow;
  /** Infer column types from the first N rows only (default: every row). */
  inferRows?: number;
  /** Rows per chunk read from the source, spooled and written as one Arrow record batch (default 10000). */
  chunkRows?: number;
  /** The spool file is created beside this path (default: in the system's temporary folder). */
  spoolNear?: string;
  /** Called after every chunk of each pass. */
  onProgress?: (p: LoadProgress) => void;
  /** Distinct values remembered per column by inference and by the profile (default 100000). */
  distinctCap?: number;
  /** Declared types for columns the source does not have are ignored instead of refused (the sides of a join). */
  typesMayBeAbsent?: boolean;
  /** Stops the load (an InterruptedError), cleaning up as after any error, also while waiting for the source. */
  signal?: AbortSignal;
}

/**
 * For a numeric date with the year last refused by a datetime column without a day/month order:
 * how to give it one. Empty for any other value.
 */
function dayMonthHint(raw: unknown): string {
  if (typeof raw !== 'string' || !scanDayMonthSpan(raw, 0, raw.length, dayMonthDate())) return '';
  return ': a numeric date needs the column\'s day/month order, which its values do not decide (or contradict); declare the type datetime:dmy or datetime:mdy';
}

/** Counts the spellings of column `column` of rows as spans. */
function countSpellings(counter: SpellingCounter, spans: TextRows, column: number): void {
  const { text, rowCount: n, width, starts, ends, escaped } = spans;
  for (let i = 0, k = column; i < n; i++, k += width) {
    const escapedValue = escaped === undefined ? undefined : escaped.get(k);
    if (escapedValue !== undefined) counter.addSpan(escapedValue, 0, escapedValue.length);
    else counter.addSpan(text, starts[k] as number, ends[k] as number);
  }
}

/** A warning for a boolean column that wrote a truth value in more than one way, naming the spelling kept. */
function mixedSpellingWarning(source: string, name: string, result: SpellingResult): string | undefined {
  if (result.mixed.length === 0 || !result.spellings) return undefined;
  const parts = result.mixed.map(({ value, spellings }) => {
    const seen = spellings.map((s) => `${JSON.stringify(s.spelling)} ×${s.count}`).join(', ');
    return `${value} is written ${seen}`;
  });
  const { true: t, false: f } = result.spellings;
  return `${source}: column ${JSON.stringify(name)}: ${parts.join('; ')}; the most frequent spelling of each is kept: predictions of this column answer ${JSON.stringify(t)} and ${JSON.stringify(f)}`;
}

/** What {@link streamLoad} produced (the data itself went to the sink). */
export interface StreamLoadResult {
  schema: DatasetSchema;
  rows: number;
  lineage: Lineage;
  profile: DatasetProfile;
  /** The source's warnings (renamed headers, renamed join columns …), then the types' (a day/month order assumed). */
  warnings: string[];
  /** Rows left out by `onBadRow: skip`: how many, and the first few with their row numbers. */
  skipped: { count: number; first: SkippedRow[] };
}

/**
 * Loads a source in two passes with memory bounded by the chunk size, not the source size.
 *
 * Pass 1 reads the source chunk by chunk, feeds one {@link TypeInferrer} per column (only the first
 * `inferRows` rows, and only columns whose type is not declared) and spools the raw rows to a
 * temporary file, column by column (a CSV chunk as its text and the spans of its values), with the
 * typed values inference computed on the way. Then each column's type is the user's declared type,
 * else the source's own (database and Parquet column types), else the inferred one.
 *
 * Pass 2 reads the spool back chunk by chunk, converts every value with the shared {@link toCell}
 * (a contradicting value is a DataError naming source, row, line and column, or with `onBadRow: skip`
 * the row is dropped and counted), and feeds each typed chunk to the profile, the fingerprint and the
 * sink. Work of pass 1 is not done again where that gives the same result: a column inferred over a
 * whole chunk takes the values inference computed for its type (they are what `toCell` gives, and
 * none can be refused), a category or text column takes its strings as they are, and with
 * `onBadRow: error` a category or text column's profile takes the counts inference made of every
 * value. The spool is always deleted; on any error the sink is aborted (no partial dataset).
 */
export async function streamLoad(source: RecordSource, sink: TableSink, options: StreamLoadOptions = {}): Promise<StreamLoadResult> {
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  const inferRows = options.inferRows ?? Number.POSITIVE_INFINITY;
  const userTypes = options.types ?? {};
  const onBadRow = options.onBadRow ?? 'error';
  const loadedAt = new Date().toISOString();
  const spool = await Spool.create(options.spoolNear ?? join(tmpdir(), 'mlpipe-load'));
  let started = false;
  try {
    // Pass 1: read, infer, spool.
    let names: string[] = [];
    const inferrers: (TypeInferrer | undefined)[] = [];
    // Boolean columns, and columns that may turn out boolean: how they spell their values (a declared
    // boolean column over every row, an inferred one while inference can still make it boolean).
    const spellingCounters: (SpellingCounter | undefined)[] = [];
    let rows = 0;
    for await (const chunk of interruptible(source.chunks(chunkRows), options.signal)) {
      if (chunk.columns.length > names.length) {
        const declared = source.declaredTypes();
        for (let j = names.length; j < chunk.columns.length; j++) {
          const name = chunk.columns[j] as string;
          // A column declared a plain `datetime` is inferred too: for the order of its numeric dates.
          const infer = ownValue(userTypes, name) === 'datetime' || (ownValue(userTypes, name) === undefined && ownValue(declared, name) === undefined);
          inferrers[j] = infer ? new TypeInferrer(options.distinctCap ?? DEFAULT_DISTINCT_CAP) : undefined;
          const declaredBoolean = (ownValue(userTypes, name) ?? ownValue(declared, name)) === 'boolean';
          spellingCounters[j] = infer || declaredBoolean ? new SpellingCounter() : undefined;
        }
        names = chunk.columns.slice();
      }
      const n = chunkRowCount(chunk);
      const inferUpTo = Math.min(n, Math.max(0, inferRows - rows));
      const { spans } = chunk;
      if (spans && n > 0) {
        // Rows as spans of a text (CSV): inferred column by column on the text, spooled as the text.
        const spooled: SpoolColumn[] = [];
        for (let j = 0; j < names.length; j++) {
          const inferrer = inferrers[j];
          let typed: TypedChunk | undefined;
          if (inferrer && inferUpTo === n) typed = inferrer.addSpans(spans, j);
          else if (inferrer) for (let i = 0; i < inferUpTo; i++) inferrer.add(textRowsValue(spans, i * spans.width + j));
          const counter = spellingCounters[j];
          if (counter && (!inferrer || inferrer.mayBeBoolean)) countSpellings(counter, spans, j);
          spooled.push(spoolSpanColumn(j, typed));
        }
        await spool.write({ rowCount: n, columns: spooled, spans, ...(chunk.lines ? { lines: chunk.lines } : {}) });
      } else if (n > 0) {
        // Column by column: each column's values are inferred and spooled together.
        const spooled: SpoolColumn[] = [];
        for (let j = 0; j < names.length; j++) {
          const values: RawValue[] = new Array<RawValue>(n);
          for (let i = 0; i < n; i++) values[i] = chunk.rows[i]![j];
          const inferrer = inferrers[j];
          let typed: TypedChunk | undefined;
          if (inferrer && inferUpTo === n) typed = inferrer.addChunk(values, n);
          else if (inferrer) for (let i = 0; i < inferUpTo; i++) inferrer.add(values[i]);
          const counter = spellingCounters[j];
          if (counter && (!inferrer || inferrer.mayBeBoolean)) for (let i = 0; i < n; i++) counter.add(values[i]);
          spooled.push(spoolColumn(values, typed));
        }
        await spool.write({ rowCount: n, columns: spooled, ...(chunk.lines ? { lines: chunk.lines } : {}) });
      }
      rows += n;
      options.onProgress?.({ phase: 'read', rows });
    }

    // The types.
    const declared = source.declaredTypes();
    const present = new Set(names);
    for (const name of Object.keys(userTypes)) {
      if (!present.has(name) && !options.typesMayBeAbsent) {
        throw new DataError({ source: source.name, column: name }, `a type is declared for this column but the source has no such column (columns: ${names.join(', ')})`);
      }
    }
    const typeWarnings: string[] = [];
    const schema: DatasetSchema = names.map((name, j) => {
      const userType = ownValue(userTypes, name);
      const declaredType = ownValue(declared, name);
      const user = userType === undefined ? undefined : splitDeclaredType(userType);
      const own = declaredType === undefined ? undefined : splitDeclaredType(declaredType);
      const inferrer = inferrers[j];
      const type = user?.type ?? own?.type ?? inferrer?.result() ?? 'category';
      if (type === 'boolean') {
        // Spelled as the values were: `Yes`/`No` stay so in predictions (a column of true/false has none).
        const spelled = spellingCounters[j]?.result();
        const warning = spelled && mixedSpellingWarning(source.name, name, spelled);
        if (warning) typeWarnings.push(warning);
        return spelled?.spellings ? { name, type, truthSpellings: spelled.spellings } : { name, type };
      }
      if (type !== 'datetime') return { name, type };
      // The order: declared with the type, else learned from the values, else the source's (a dataset's).
      const learned = user?.dateOrder === undefined ? inferrer?.dateOrder() : undefined;
      const dateOrder = user?.dateOrder ?? learned ?? own?.dateOrder;
      if (learned !== undefined && inferrer?.dateOrderAmbiguous) {
        typeWarnings.push(
          `${source.name}: column ${JSON.stringify(name)}: every numeric date in it (like 03/05/2024) reads both day first and month first; ` +
            `read month first (${dateOrderPattern('mdy')}, as pandas does). If days come first, declare the column's type datetime:dmy (--types ${JSON.stringify(`${name}=datetime:dmy`)}, or types: in pipeline.yaml)`,
        );
      }
      return dateOrder === undefined ? { name, type } : { name, type, dateOrder };
    });
    // Category and text columns inferred over every row: inference counted each value already, and
    // with onBadRow 'error' the profile sees every row (else the load fails), so its counts are those.
    const profileCap = options.distinctCap ?? PROFILE_DISTINCT_CAP;
    const profile = new ProfileAccumulator(schema, { distinctCap: profileCap });
    if (onBadRow === 'error' && inferRows >= rows && profileCap === (options.distinctCap ?? DEFAULT_DISTINCT_CAP)) {
      schema.forEach((c, j) => {
        const inferrer = inferrers[j];
        if (!inferrer || (c.type !== 'category' && c.type !== 'text')) return;
        const shared = inferrer.valueCounts();
        if (shared) profile.adoptCounts(j, shared);
      });
    }
    inferrers.length = 0;
    spellingCounters.length = 0;
    const usedTypes = Object.keys(userTypes).filter((n) => present.has(n));

    // Pass 2: type, profile, fingerprint, write.
    await sink.start(schema, rows);
    started = true;
    const fingerprint = new Fingerprinter(schema);
    const skipped: StreamLoadResult['skipped'] = { count: 0, first: [] };
    const width = schema.length;
    let rowNumber = 0;
    let kept = 0;
    for await (const chunk of spool.chunks()) {
      if (options.signal?.aborted) throw new InterruptedError();
      const n = chunk.rowCount;
      let columns: Column[];
      let k = 0;
      const fast = fastColumns(schema, chunk);
      if (fast) {
        // Every column is typed already (by inference in pass 1) or is text, where no value can be
        // wrong: no row is refused.
        columns = fast;
        k = n;
        rowNumber += n;
      } else {
        columns = schema.map((c) => emptyColumn(c.name, c.type, n, c));
        for (let i = 0; i < n; i++) {
          rowNumber++;
          let bad = false;
          for (let j = 0; j < width; j++) {
            const { type, dateOrder } = schema[j]!;
            let cell;
            const raw = spooledValue(chunk, j, i);
            try {
              cell = toCell(type, raw, dateOrder);
            } catch (err) {
              if (!(err instanceof CellError)) throw err;
              const line = chunk.lines?.[i];
              const column = schema[j]!.name;
              const message = `${err.message} (column type ${type}${dateOrder ? `:${dateOrder}` : ''})${type === 'datetime' && dateOrder === undefined ? dayMonthHint(raw) : ''}`;
              if (onBadRow === 'error') throw new DataError({ source: source.name, row: rowNumber, line, column }, message);
              skipped.count++;
              if (skipped.first.length < SKIPPED_EXAMPLES) skipped.first.push({ row: rowNumber, ...(line !== undefined ? { line } : {}), column, message });
              bad = true;
              break;
            }
            setCell(columns[j]!, k, cell);
          }
          if (!bad) k++;
        }
      }
      const typed: Table = { columns, rowCount: k };
      profile.add(typed);
      fingerprint.add(typed);
      if (k > 0) await sink.write(typed);
      kept += k;
      options.onProgress?.({ phase: 'write', rows: rowNumber, total: rows });
    }

    const lineage: Lineage = {
      source: source.lineage(),
      rows: kept,
      columns: schema.length,
      fingerprint: fingerprint.digest(),
      loadedAt,
      mlpipeVersion: mlpipeVersion(),
      ...(skipped.count > 0 ? { skippedRows: skipped.count } : {}),
      ...(usedTypes.length > 0 ? { types: dict(usedTypes.map((n) => [n, userTypes[n]!])) } : {}),
    };
    await sink.finish(lineage);
    return { schema, rows: kept, lineage, profile: profile.result(), warnings: [...source.warnings, ...typeWarnings], skipped };
  } catch (err) {
    if (started) await sink.abort();
    throw err;
  } finally {
    await spool.remove();
  }
}
