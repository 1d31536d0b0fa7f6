/**
 * The file sinks of `mlpipe predict` (see sink.ts): CSV, NDJSON and JSON text, to a file or to standard
 * output, and Parquet files. A file is written to a temporary file beside it as the chunks come and
 * renamed over the target by `finish`: an interrupted run leaves the old file (or none), never half a
 * new one.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { DataError } from '../errors.js';
import { tempPathBeside, writeError } from '../fs-util.js';
import { PredictionText, csvOutputCells, csvOutputHeader, csvText, jsonOutputObject, type OutputRecord } from './output.js';
import type { Predictor } from './predictor.js';
import { NO_OUTPUTS } from './chunk.js';
import { type Kind, firstIdKind, fit, predictionKindOf, textOf } from './column-kinds.js';
import type { PredictionSink, ScoredChunk, SinkColumns } from './sink.js';

/** The text formats predictions are written in. */
export type TextOutputFormat = 'csv' | 'ndjson' | 'json';

/** A text file written beside its target and renamed over it at the end (or removed). */
class TempFile {
  readonly tmp: string;
  private stream: WriteStream | undefined;
  /** Bytes written so far. */
  bytes = 0;

  constructor(readonly path: string) {
    this.tmp = tempPathBeside(path);
  }

  private async open(): Promise<WriteStream> {
    if (!this.stream) {
      await mkdir(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.tmp);
      this.stream.on('error', () => {}); // surfaced by the awaited writes below
      await once(this.stream, 'open');
    }
    return this.stream;
  }

  async write(text: string | Buffer): Promise<void> {
    if (text.length === 0) return;
    const stream = await this.open();
    this.bytes += typeof text === 'string' ? Buffer.byteLength(text) : text.length;
    // events.once rejects when the stream emits 'error' meanwhile.
    if (!stream.write(text)) await once(stream, 'drain');
  }

  /** Closes the temporary file (written whole). */
  async close(): Promise<void> {
    const stream = await this.open();
    stream.end();
    await once(stream, 'finish');
  }

  async rename(): Promise<void> {
    await rename(this.tmp, this.path);
  }

  async remove(): Promise<void> {
    this.stream?.destroy();
    await rm(this.tmp, { force: true });
  }
}

/**
 * Copies bytes `[from, to)` of `src` into `out`, adding `,` before each row's line end (a `\n` outside a
 * quoted value): the rows written before the first bad one get the `error` column's empty cell. CSV
 * written by csvText quotes every value holding `"`, `,`, `\r` or `\n`, doubling its quotes, so a
 * quote toggles "inside a value" and a doubled one toggles twice.
 */
async function copyAddingCell(src: string, from: number, to: number, out: TempFile): Promise<void> {
  if (to <= from) return;
  let quoted = false;
  for await (const piece of createReadStream(src, { start: from, end: to - 1 })) {
    const bytes = piece as Buffer;
    const parts: Buffer[] = [];
    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 0x22) quoted = !quoted;
      else if (b === 0x0a && !quoted) {
        parts.push(bytes.subarray(start, i), COMMA_NEWLINE);
        start = i + 1;
      }
    }
    parts.push(bytes.subarray(start));
    await out.write(Buffer.concat(parts));
  }
}
const COMMA_NEWLINE = Buffer.from(',\n');

/** Where a text sink writes: a temporary file renamed at the end, or a stream (standard output). */
type TextTarget = { kind: 'file'; file: TempFile } | { kind: 'stream'; stream: Writable; name: string };

async function writeToStream(stream: Writable, text: string | Buffer): Promise<void> {
  if (text.length === 0) return;
  await new Promise<void>((resolve, reject) => stream.write(text, (err) => (err ? reject(err) : resolve())));
}

/**
 * CSV, NDJSON or JSON text. CSV: `[id,] prediction, proba_<label>…` and, when some row is bad, an `error`
 * column — written only then, so a clean file's output has none. The header is written without it
 * until a bad row comes; if one comes after good rows, `finish` rewrites the file once with the column
 * added (an empty cell on the rows before). CSV on standard output goes through a temporary file for
 * that reason and is copied out at the end; NDJSON and JSON on standard output are written as they come.
 * JSON: one array, indented as `JSON.stringify(rows, null, 2)` writes it.
 */
export class TextSink implements PredictionSink {
  readonly name: string;
  private readonly target: TextTarget;
  /** For CSV on standard output: the stream the temporary file is copied to at the end. */
  private readonly copyTo: Writable | undefined;
  private readonly fast: PredictionText;
  private readonly fastWithError: PredictionText | undefined;
  private started = false;
  private rows = 0;
  /** CSV: whether rows are written with the error column, and the byte offset of the first such row (after the header). */
  private withError = false;
  private headerBytes = 0;
  private firstErrorOffset = -1;

  constructor(
    private readonly model: Predictor,
    private readonly format: TextOutputFormat,
    out: string | { stream: Writable; name: string },
    private readonly columns: SinkColumns,
  ) {
    if (typeof out === 'string') this.target = { kind: 'file', file: new TempFile(out) };
    else if (format === 'csv') {
      this.target = { kind: 'file', file: new TempFile(join(tmpdir(), 'mlpipe-predict.csv')) };
      this.copyTo = out.stream;
    } else this.target = { kind: 'stream', stream: out.stream, name: out.name };
    this.name = typeof out === 'string' ? out : out.name;
    const textFormat = format === 'csv' ? 'csv' : 'ndjson';
    this.fast = new PredictionText(model, textFormat, columns.id, false);
    this.fastWithError = format === 'csv' ? new PredictionText(model, 'csv', columns.id, true) : undefined;
  }

  private async put(text: string): Promise<void> {
    try {
      if (this.target.kind === 'file') await this.target.file.write(text);
      else await writeToStream(this.target.stream, text);
    } catch (err) {
      throw writeError(err, this.name, 'the predictions');
    }
  }

  private header(withError: boolean): string {
    return csvText([csvOutputHeader(this.columns.classes, this.columns.id, withError)]);
  }

  async write(chunk: ScoredChunk): Promise<void> {
    const { classes, id } = this.columns;
    let text = '';
    if (!this.started) {
      this.started = true;
      if (this.format === 'csv') {
        text = this.header(false);
        this.headerBytes = Buffer.byteLength(text);
      } else if (this.format === 'json') text = '[';
    }
    const { good, records, outputs, bad } = chunk;
    let g = 0;
    for (let i = 0; i < chunk.size; i++) {
      const isGood = g < good.length && good[g] === i;
      const o = isGood ? undefined : bad.get(i);
      if (!isGood && o === undefined) continue; // left out (skip)
      if (this.format === 'csv') {
        if (o !== undefined && !this.withError) {
          // The first bad row: from here on every row has the error column.
          this.withError = true;
          if (this.target.kind === 'file') {
            await this.put(text);
            text = '';
            this.firstErrorOffset = this.target.file.bytes;
          }
        }
        if (isGood) text += (this.withError ? this.fastWithError! : this.fast).row(records[g], outputs.values[g] as number, outputs.proba, g);
        else text += csvText([csvOutputCells({ record: o!.record, error: o!.error }, classes, id, true)]);
      } else {
        const line = isGood
          ? this.format === 'ndjson'
            ? this.fast.row(records[g], outputs.values[g] as number, outputs.proba, g)
            : `${JSON.stringify(jsonOutputObject({ record: records[g] as OutputRecord, prediction: this.model.predictionOf(outputs.values[g] as number, outputs.proba.subarray(g * classes.length, (g + 1) * classes.length)) }, classes, id), null, 2)}\n`
          : `${JSON.stringify(jsonOutputObject({ record: o!.record, error: o!.error }, classes, id), null, this.format === 'json' ? 2 : undefined)}\n`;
        text += this.format === 'json' ? `${this.rows === 0 ? '\n' : ',\n'}${indent(line.slice(0, -1))}` : line;
      }
      if (isGood) g++;
      this.rows++;
    }
    await this.put(text);
  }

  async finish(): Promise<void> {
    if (!this.started) {
      // No rows at all: the CSV header alone, an empty JSON array, an empty NDJSON text.
      this.started = true;
      await this.put(this.format === 'csv' ? this.header(false) : this.format === 'json' ? '[]\n' : '');
    } else if (this.format === 'json') await this.put(this.rows === 0 ? ']\n' : '\n]\n');
    if (this.target.kind === 'stream') return;
    const { file } = this.target;
    try {
      await file.close();
      if (this.format === 'csv' && this.firstErrorOffset >= 0) await this.addErrorColumn(file);
      if (this.copyTo) {
        // As bytes: a piece may end inside a character.
        for await (const piece of createReadStream(file.tmp)) await writeToStream(this.copyTo, piece as Buffer);
        await file.remove();
      } else await file.rename();
    } catch (err) {
      await file.remove();
      throw writeError(err, this.name, 'the predictions');
    }
  }

  /** A bad row came: the file once more, with the error column in the header and an empty cell on the rows before the first bad one. */
  private async addErrorColumn(file: TempFile): Promise<void> {
    const fixed = new TempFile(file.path);
    const size = (await stat(file.tmp)).size;
    try {
      // One stream writes the new file in order: the header, the rows before, the rest as it was.
      await fixed.write(this.header(true));
      await copyAddingCell(file.tmp, this.headerBytes, this.firstErrorOffset, fixed);
      if (size > this.firstErrorOffset) for await (const piece of createReadStream(file.tmp, { start: this.firstErrorOffset, end: size - 1 })) await fixed.write(piece as Buffer);
      await fixed.close();
      await rename(fixed.tmp, file.tmp);
    } catch (err) {
      await fixed.remove();
      throw err;
    }
  }

  async abort(): Promise<void> {
    if (this.target.kind === 'file') await this.target.file.remove().catch(() => {});
  }
}

/** Every line of `text` indented by two spaces (a JSON value inside the array). */
function indent(text: string): string {
  return `  ${text.replaceAll('\n', '\n  ')}`;
}

/** The Parquet type of each column kind. */
const PARQUET_TYPE: Record<Kind, 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'STRING'> = { bigint: 'INT64', double: 'DOUBLE', boolean: 'BOOLEAN', text: 'STRING' };

/**
 * A Parquet file: one row group per chunk (so memory stays at one chunk), written with hyparquet-writer
 * to a temporary file and renamed at the end. Columns: `[id,] prediction, proba_<label>…[, error]` as in
 * CSV; the error column (text, null on a good row) is there whenever bad rows are written (`--on-bad-row
 * null`), since a Parquet schema is fixed before the first row. The prediction is DOUBLE for regression;
 * for a classifier BOOLEAN, DOUBLE or STRING as its labels are; the id column's type comes from the first
 * chunk's values (INT64, DOUBLE, BOOLEAN or STRING).
 */
export class ParquetSink implements PredictionSink {
  readonly name: string;
  private readonly tmp: string;
  private writer: { write(options: { columnData: unknown[]; rowGroupSize?: number }): void | Promise<void>; finish(): void | Promise<void> } | undefined;
  private idKind: Kind = 'text';
  private readonly predictionKind: Kind;

  constructor(
    private readonly path: string,
    private readonly columns: SinkColumns,
  ) {
    this.name = path;
    this.tmp = tempPathBeside(path);
    this.predictionKind = predictionKindOf(columns);
  }

  private async open(chunk: ScoredChunk): Promise<void> {
    this.idKind = firstIdKind(this.columns, chunk);
    await mkdir(dirname(this.path), { recursive: true });
    // Loaded when a Parquet file is written, not by every prediction.
    const { ParquetWriter, fileWriter, schemaFromColumnData } = await import('hyparquet-writer');
    const columnData = this.columnData({ ...chunk, size: 0, good: [], records: [], bad: new Map() });
    const schema = schemaFromColumnData({ columnData } as never);
    this.writer = new ParquetWriter({ writer: fileWriter(this.tmp), schema }) as never;
  }

  /** The chunk as hyparquet-writer's columns. */
  private columnData(chunk: ScoredChunk): { name: string; data: unknown[]; type: string; nullable: true }[] {
    const { id, classes, withErrors, labels } = this.columns;
    const k = classes.length;
    const idCells: unknown[] = [];
    const prediction: unknown[] = [];
    const proba: unknown[][] = classes.map(() => []);
    const errors: unknown[] = [];
    const { good, records, outputs, bad } = chunk;
    let g = 0;
    for (let i = 0; i < chunk.size; i++) {
      const isGood = g < good.length && good[g] === i;
      const o = isGood ? undefined : bad.get(i);
      if (!isGood && o === undefined) continue;
      const record = isGood ? (records[g] as OutputRecord) : o!.record;
      if (id !== undefined) idCells.push(this.cell(this.idKind, record[id], id, chunk.first + i));
      if (isGood) {
        const v = outputs.values[g] as number;
        prediction.push(this.columns.task === 'regression' ? v : this.cell(this.predictionKind, labels[v], 'prediction', chunk.first + i));
        for (let j = 0; j < k; j++) proba[j]!.push(outputs.proba[g * k + j]);
        errors.push(null);
        g++;
      } else {
        prediction.push(null);
        for (let j = 0; j < k; j++) proba[j]!.push(null);
        errors.push(o!.error);
      }
    }
    return [
      ...(id !== undefined ? [{ name: id, data: idCells, type: PARQUET_TYPE[this.idKind], nullable: true as const }] : []),
      { name: 'prediction', data: prediction, type: PARQUET_TYPE[this.predictionKind], nullable: true as const },
      ...classes.map((c, j) => ({ name: `proba_${c}`, data: proba[j]!, type: 'DOUBLE' as const, nullable: true as const })),
      ...(withErrors ? [{ name: 'error', data: errors, type: 'STRING' as const, nullable: true as const }] : []),
    ];
  }

  /** `value` as a cell of a column of `kind` (an exact conversion, else a DataError naming the row). */
  private cell(kind: Kind, value: unknown, column: string, row: number): unknown {
    const fitted = fit(kind, value);
    if (fitted === undefined) {
      throw new DataError(
        { source: this.name, row, column },
        `the value ${JSON.stringify(textOf(value)).slice(0, 80)} does not fit the column's type ${PARQUET_TYPE[kind]} (chosen from the first rows' values); give the column one type in the input, or write CSV or NDJSON`,
      );
    }
    // INT64 cells are bigints.
    return kind === 'bigint' && typeof fitted === 'number' ? BigInt(fitted) : fitted;
  }

  async write(chunk: ScoredChunk): Promise<void> {
    try {
      if (!this.writer) await this.open(chunk);
      const columnData = this.columnData(chunk);
      if ((columnData[0]?.data.length ?? 0) === 0) return;
      await this.writer!.write({ columnData, rowGroupSize: Math.max(1, columnData[0]!.data.length) });
    } catch (err) {
      throw writeError(err, this.name, 'the predictions');
    }
  }

  async finish(): Promise<void> {
    try {
      if (!this.writer) await this.open({ first: 1, size: 0, good: [], records: [], outputs: NO_OUTPUTS, bad: new Map() });
      await this.writer!.finish();
      await rename(this.tmp, this.path);
    } catch (err) {
      await this.abort();
      throw writeError(err, this.name, 'the predictions');
    }
  }

  async abort(): Promise<void> {
    await rm(this.tmp, { force: true }).catch(() => {});
  }
}
