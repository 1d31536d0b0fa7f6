import { open, stat } from 'node:fs/promises';
import type { RecordBatch, RecordBatchReader, Schema } from 'apache-arrow';
import { DataError, MlpipeError, NotFoundError, messageOf } from '../../errors.js';
import { sha256File } from '../../fs-util.js';
import { type ColumnType, type DeclaredType, joinDeclaredType } from '../../values.js';
import { spell } from '../../spellings.js';
import { dateOrderOfField, lineageOf, normalizeArrowValue, truthSpellingsOfField, typeOfField } from '../dataset.js';
import type { RawChunk, RawValue, RecordSource, SourceLineage } from './types.js';
import { readOnce } from './once.js';
import { dict } from '../../records/dict.js';

/**
 * An mlpipe dataset (`.arrow`, written by `mlpipe load`), or any Arrow IPC file with plain column
 * types, read record batch by record batch (never whole). Its column types come from the field
 * metadata `mlpipe.type` (else from the Arrow types), with a datetime column's `mlpipe.dateOrder`,
 * so nothing is inferred again; a boolean column with `mlpipe.truthSpellings` gives its values in
 * those spellings (`Yes`/`No`), which the loader learns again as from any source; its lineage is
 * `{kind: 'dataset', path, format: 'arrow', bytes, sha256, parent: <the lineage stored in it>}`.
 */
export function datasetSource(path: string): RecordSource {
  let types: Record<string, DeclaredType> = dict();
  let lineage: SourceLineage = { kind: 'dataset', path, format: 'arrow' };
  let rows = 0;

  const chunks = readOnce(path, async function* (chunkRows: number): AsyncGenerator<RawChunk> {
    let size: number;
    try {
      const st = await stat(path);
      if (st.isDirectory()) throw new DataError({ source: path }, 'is a folder, not a file');
      size = st.size;
    } catch (err) {
      if (err instanceof MlpipeError) throw err;
      throw new NotFoundError(`${path}: file not found`);
    }
    const fh = await open(path, 'r');
    try {
      let schema: Schema;
      let reader: Awaited<ReturnType<typeof RecordBatchReader.from>>;
      try {
        // Loaded here, not with the module: a CSV load never needs apache-arrow's reader.
        const { RecordBatchReader: Reader } = await import('apache-arrow');
        reader = await Reader.from(fh);
        await reader.open();
        schema = reader.schema;
        if (!schema) throw new Error('no schema');
      } catch (err) {
        throw new DataError({ source: path }, `not an Arrow IPC dataset (${messageOf(err)})`);
      }
      const columns = schema.fields.map((f) => f.name);
      const columnTypes: ColumnType[] = schema.fields.map((field) => {
        try {
          return typeOfField(field);
        } catch (err) {
          throw new DataError({ source: path, column: field.name }, messageOf(err));
        }
      });
      // A datetime column keeps the day/month order it was loaded with (`datetime:dmy`): serving reads it so.
      types = dict(columns.map((c, j) => [c, joinDeclaredType(columnTypes[j]!, dateOrderOfField(schema.fields[j]!, columnTypes[j]!))]));
      const spellings = schema.fields.map((field, j) => truthSpellingsOfField(field, columnTypes[j]!));
      const parent = lineageOf(schema.metadata);
      lineage = { kind: 'dataset', path, format: 'arrow', ...(parent ? { parent } : {}) };
      let yielded = false;
      for await (const batch of reader as AsyncIterable<RecordBatch>) {
        for (let start = 0; start < batch.numRows; start += chunkRows) {
          const end = Math.min(batch.numRows, start + chunkRows);
          const out: RawValue[][] = Array.from({ length: end - start }, () => new Array<RawValue>(columns.length));
          columns.forEach((_, j) => {
            const vector = batch.getChildAt(j);
            if (!vector) return;
            const type = columnTypes[j]!;
            const spelled = spellings[j];
            for (let i = start; i < end; i++) {
              const value = normalizeArrowValue(type, vector.get(i)) as RawValue;
              out[i - start]![j] = spelled && typeof value === 'boolean' ? spell(value, spelled) : value;
            }
          });
          rows += out.length;
          yielded = true;
          yield { columns, rows: out };
        }
      }
      if (!yielded) yield { columns, rows: [] };
      lineage = { ...lineage, bytes: size, sha256: await sha256File(path) };
    } finally {
      await fh.close();
    }
  });

  return {
    name: path,
    warnings: [],
    declaredTypes: () => types,
    chunks,
    lineage: () => lineage,
  };
}
