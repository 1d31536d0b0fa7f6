import { ConfigError, MlpipeError } from '../errors.js';
import { type Table, cellAt } from '../table.js';
import { type Cell, type ColumnType, type DateOrder, type DeclaredType, CellError, joinDeclaredType, splitDeclaredType, toCell } from '../values.js';
import type { RawChunk, RawValue, RecordSource, SourceLineage } from './sources/types.js';
import { MemoryTableSink } from './table-sinks.js';
import { type StreamLoadOptions, streamLoad } from './type-chunks.js';
import { dict, ownValue } from '../records/dict.js';

/** How several sources become one table. */
export type CombineSpec = { how: 'concat' } | { how: 'inner' | 'left'; on: string[] };

/** Where a join key list is written, for messages: `pipeline.yaml: source[1].on` and its line. */
export type KeyLocation = (sourceIndex: number) => { path: string; line?: number };

const defaultKeyLocation: KeyLocation = (i) => ({ path: `source[${i}].on` });

/** Gives every output column a unique name: a repeated name gets `_2`, `_3` … and a warning. */
class ColumnNames {
  readonly names: string[] = [];
  private readonly taken = new Set<string>();
  constructor(private readonly warnings: string[]) {}
  add(name: string, from: string): number {
    let unique = name;
    if (this.taken.has(name)) {
      let k = 2;
      while (this.taken.has(`${name}_${k}`)) k++;
      unique = `${name}_${k}`;
      this.warnings.push(`${from}: column "${name}" is also in an earlier source; calling it "${unique}"`);
    }
    this.taken.add(unique);
    this.names.push(unique);
    return this.names.length - 1;
  }
}

function once(name: string): () => void {
  let used = false;
  return () => {
    if (used) throw new MlpipeError('internal', `${name}: a source can be read only once`);
    used = true;
  };
}

/**
 * Widens two declared types of the same column from different sources: equal stays, integer and number
 * widen to number, datetimes stay datetimes (with the day/month order of the one that has one, none
 * when they have different ones), anything else becomes category (which holds any value as text).
 */
function mergeTypes(a: DeclaredType | undefined, b: DeclaredType): DeclaredType {
  if (a === undefined || a === b) return b;
  const numeric = (t: DeclaredType) => t === 'number' || t === 'integer';
  if (numeric(a) && numeric(b)) return 'number';
  const x = splitDeclaredType(a);
  const y = splitDeclaredType(b);
  if (x.type === 'datetime' && y.type === 'datetime') return x.dateOrder === undefined ? b : y.dateOrder === undefined ? a : 'datetime';
  return 'category';
}

/**
 * The rows of several sources one after another. Columns are matched by name (the union, in
 * first-seen order); a column a source lacks is missing in its rows. Types a source declares are
 * kept when the sources agree (integer and number widen to number; other disagreements give
 * category); a column no source declares is inferred over all rows. Rows are numbered across the
 * sources in messages. Lineage: `{kind: 'concat', sources: [...], rows}`.
 */
export function concatSources(sources: RecordSource[]): RecordSource {
  const warnings: string[] = [];
  const name = sources.map((s) => s.name).join(' + ');
  const use = once(name);
  let rows = 0;
  const columns: string[] = [];
  const index = new Map<string, number>();
  const declared = dict<DeclaredType>();

  function collectDeclared(source: RecordSource): void {
    for (const [col, type] of Object.entries(source.declaredTypes())) declared[col] = mergeTypes(ownValue(declared, col), type);
  }

  async function* chunks(chunkRows: number): AsyncGenerator<RawChunk> {
    use();
    for (const source of sources) {
      let map: number[] = [];
      let first = true;
      for await (const chunk of source.chunks(chunkRows)) {
        if (first) {
          collectDeclared(source);
          first = false;
        }
        for (let j = map.length; j < chunk.columns.length; j++) {
          const col = chunk.columns[j] as string;
          let at = index.get(col);
          if (at === undefined) {
            at = columns.length;
            columns.push(col);
            index.set(col, at);
          }
          map[j] = at;
        }
        const identity = map.every((at, j) => at === j);
        const out = identity
          ? chunk.rows
          : chunk.rows.map((row) => {
              const r = new Array<RawValue>(columns.length);
              for (let j = 0; j < row.length; j++) r[map[j]!] = row[j];
              return r;
            });
        rows += out.length;
        yield { columns: columns.slice(), rows: out, ...(chunk.lines ? { lines: chunk.lines } : {}) };
      }
      warnings.push(...source.warnings);
      map = [];
    }
  }

  return {
    name,
    warnings,
    declaredTypes: () => declared,
    chunks,
    lineage: () => ({ kind: 'concat', sources: sources.map((s) => s.lineage()), rows }),
  };
}

/** A later source of a join, loaded whole, with its rows by key. */
interface RightSide {
  source: RecordSource;
  table: Table;
  lineage: SourceLineage;
  /** Key column types in the right table, in `on` order (left key values are typed like these to match). */
  keyTypes: ColumnType[];
  /** The day/month order of each datetime key column, when it has one. */
  keyOrders: (DateOrder | undefined)[];
  /** Indexes of the right table's non-key columns, and their output positions. */
  valueColumns: number[];
  outAt: number[];
  byKey: Map<string, number[]>;
}

function keyOf(cells: Cell[]): string | undefined {
  for (const c of cells) if (c === null) return undefined; // a missing key never matches (as NULL in SQL)
  return JSON.stringify(cells);
}

/** A typed cell as a raw value again (datetimes as Dates so nothing takes them for integers). */
function rawOf(type: ColumnType, cell: Cell): RawValue {
  if (cell === null) return null;
  if (type === 'datetime') return new Date(cell as number);
  return cell;
}

/** Options of {@link joinSources}. */
export interface JoinOptions {
  how: 'inner' | 'left';
  on: string[];
  /** How the later sources are loaded into memory (chunk size, declared types, spool folder). */
  load?: StreamLoadOptions;
  /** Where the key list is written, for the ConfigError of a source without a key column. */
  keyLocation?: KeyLocation;
}

/**
 * Joins sources on key columns. The first source streams; every later one is loaded whole into
 * memory (typed, through the same two-pass loader) and indexed by its key values. Each row of the
 * first source is matched against each later source in turn:
 *
 * - `inner` keeps only rows with a match in every later source, `left` keeps every row (the later
 *   sources' columns missing where nothing matched).
 * - A key that appears several times in a later source multiplies the row, as an SQL join does
 *   (one output row per match).
 * - Key values are compared after typing: a left value is converted to the type of the later
 *   source's key column (`"7"` in a CSV matches the integer 7 of a database). A missing key never
 *   matches.
 * - The key columns appear once (the first source's); a later source's non-key column whose name is
 *   already taken gets a `_2` (`_3` …) suffix and a warning.
 * - A key column missing from a source is a ConfigError naming `source[i].on`.
 *
 * Lineage: `{kind: 'join', how, on, sources: [...], rows}`.
 */
export function joinSources(left: RecordSource, rights: RecordSource[], options: JoinOptions): RecordSource {
  const { how, on } = options;
  const where = options.keyLocation ?? defaultKeyLocation;
  const warnings: string[] = [];
  const name = [left, ...rights].map((s) => s.name).join(` ${how} join `);
  const use = once(name);
  const names = new ColumnNames(warnings);
  const declared = dict<DeclaredType>();
  const sides: RightSide[] = [];
  let rows = 0;

  function missingKey(i: number, source: RecordSource, key: string, columns: string[]): ConfigError {
    const { path, line } = where(i);
    return new ConfigError(`${path}: key column "${key}" is not in ${source.name} (columns: ${columns.join(', ') || 'none'})${line !== undefined ? ` (line ${line})` : ''}`);
  }

  async function loadRight(source: RecordSource, i: number): Promise<RightSide> {
    const sink = new MemoryTableSink();
    const loaded = await streamLoad(source, sink, { ...options.load, onProgress: undefined, typesMayBeAbsent: true });
    const table = sink.table();
    const colNames = table.columns.map((c) => c.name);
    const keyIdx = on.map((k) => {
      const j = colNames.indexOf(k);
      if (j < 0) throw missingKey(i, source, k, colNames);
      return j;
    });
    const keyTypes = keyIdx.map((j) => table.columns[j]!.type);
    const keyOrders = keyIdx.map((j) => table.columns[j]!.dateOrder);
    const byKey = new Map<string, number[]>();
    for (let r = 0; r < table.rowCount; r++) {
      const key = keyOf(keyIdx.map((j) => cellAt(table.columns[j]!, r)));
      if (key === undefined) continue;
      const list = byKey.get(key);
      if (list) list.push(r);
      else byKey.set(key, [r]);
    }
    warnings.push(...loaded.warnings);
    const valueColumns = table.columns.map((_, j) => j).filter((j) => !keyIdx.includes(j));
    return { source, table, lineage: loaded.lineage.source, keyTypes, keyOrders, valueColumns, outAt: [], byKey };
  }

  async function* chunks(chunkRows: number): AsyncGenerator<RawChunk> {
    use();
    for (const [i, source] of rights.entries()) sides.push(await loadRight(source, i + 1));
    let leftMap: number[] = [];
    let leftKeyIdx: number[] | undefined;
    let rightsPlaced = false;
    const placeRights = () => {
      if (rightsPlaced) return;
      rightsPlaced = true;
      for (const side of sides) {
        for (const j of side.valueColumns) {
          const col = side.table.columns[j]!;
          const at = names.add(col.name, side.source.name);
          side.outAt.push(at);
          declared[names.names[at]!] = joinDeclaredType(col.type, col.dateOrder);
        }
      }
    };
    for await (const chunk of left.chunks(chunkRows)) {
      if (chunk.columns.length > leftMap.length) {
        const leftDeclared = left.declaredTypes();
        for (let j = leftMap.length; j < chunk.columns.length; j++) {
          const col = chunk.columns[j] as string;
          const at = names.add(col, left.name);
          leftMap[j] = at;
          const leftType = ownValue(leftDeclared, col);
          if (leftType !== undefined) declared[names.names[at]!] = leftType;
        }
        placeRights();
      }
      if (leftKeyIdx === undefined && chunk.columns.length > 0) {
        leftKeyIdx = on.map((k) => {
          const j = chunk.columns.indexOf(k);
          if (j < 0) throw missingKey(0, left, k, chunk.columns);
          return j;
        });
      }
      const width = names.names.length;
      const out: RawValue[][] = [];
      const lines: number[] | undefined = chunk.lines ? [] : undefined;
      chunk.rows.forEach((row, r) => {
        const base = new Array<RawValue>(width);
        for (let j = 0; j < row.length; j++) base[leftMap[j]!] = row[j];
        let partial: RawValue[][] = [base];
        for (const side of sides) {
          let cells: Cell[] | undefined = [];
          for (const [k, j] of (leftKeyIdx ?? []).entries()) {
            try {
              cells.push(toCell(side.keyTypes[k]!, row[j], side.keyOrders[k]));
            } catch (err) {
              if (!(err instanceof CellError)) throw err;
              cells = undefined; // a value that cannot be of the key's type matches nothing
              break;
            }
          }
          const key = cells ? keyOf(cells) : undefined;
          const matches = key === undefined ? undefined : side.byKey.get(key);
          if (!matches || matches.length === 0) {
            if (how === 'inner') {
              partial = [];
              break;
            }
            continue;
          }
          const next: RawValue[][] = [];
          for (const p of partial) {
            for (const m of matches) {
              const copy = matches.length === 1 ? p : p.slice();
              side.valueColumns.forEach((j, v) => {
                const col = side.table.columns[j]!;
                copy[side.outAt[v]!] = rawOf(col.type, cellAt(col, m));
              });
              next.push(copy);
            }
          }
          partial = next;
        }
        for (const p of partial) {
          out.push(p);
          lines?.push(chunk.lines![r]!);
        }
      });
      rows += out.length;
      yield { columns: names.names.slice(), rows: out, ...(lines ? { lines } : {}) };
    }
    placeRights();
    warnings.unshift(...left.warnings.filter((w) => !warnings.includes(w)));
  }

  return {
    name,
    warnings,
    declaredTypes: () => declared,
    chunks,
    lineage: () => ({ kind: 'join', how, on: [...on], sources: [left.lineage(), ...sides.map((s) => s.lineage)], rows }),
  };
}
