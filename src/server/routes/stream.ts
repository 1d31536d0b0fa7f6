import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import zlib from 'node:zlib';
import { type Request, type RequestHandler, type Response, Router } from 'express';
import { DataError, MlpipeError } from '../../core/errors.js';
import { PredictionText, TextCells, csvOutputCells, csvOutputHeader, csvText, outputClasses } from '../../core/predictor/output.js';
import type { Predictor } from '../../core/predictor/predictor.js';
import { type ChunkAnswer, type ChunkBadRow, NO_OUTPUTS, chunkAnswer, readChunk } from '../../core/predictor/chunk.js';
import { type RawChunk, type StreamFormat, chunkRowCount, streamedRows } from '../../core/predictor/stream-input.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../errors.js';
import { DEFAULT_STREAM_STALL_MS } from '../options.js';
import { answeredBy, modelFor, predictRows, requireReady } from '../predict.js';
import { allowOnly } from './allow.js';

/**
 * Rows read, predicted and written at a time: a stream holds about two chunks (one being answered, one
 * on the worker threads). 4,000 rows × 100 trees is enough forest work to split over two threads.
 */
export const STREAM_CHUNK_ROWS = 4000;

/** Content-Types read, and as what (a Map: the client's header never picks a property of ours). */
const INPUT_TYPES = new Map<string, StreamFormat>([
  ['application/x-ndjson', 'ndjson'],
  ['application/ndjson', 'ndjson'],
  ['application/jsonl', 'ndjson'],
  ['application/x-jsonlines', 'ndjson'],
  ['text/csv', 'csv'],
]);

/** What each format is answered as. */
const OUTPUT_TYPE: Record<StreamFormat, string> = { ndjson: 'application/x-ndjson', csv: 'text/csv' };

/** The input format from Content-Type (415 for any other type, or a charset other than UTF-8). */
function inputFormat(req: Request): StreamFormat {
  const type = req.headers['content-type'];
  const [media = '', ...params] = (type ?? '').split(';');
  const format = INPUT_TYPES.get(media.trim().toLowerCase());
  if (!format) {
    throw new HttpError(415, 'unsupported_media_type', `send the rows as NDJSON ("Content-Type: application/x-ndjson", one JSON object per line) or CSV ("Content-Type: text/csv", header row first); got ${type === undefined ? 'no content type' : JSON.stringify(type.slice(0, 100))}`);
  }
  for (const p of params) {
    const [name = '', value = ''] = p.split('=');
    if (name.trim().toLowerCase() !== 'charset') continue;
    const charset = value.trim().replace(/^"|"$/g, '').toLowerCase();
    if (charset !== 'utf-8' && charset !== 'utf8') throw new HttpError(415, 'unsupported_media_type', `the body's charset is ${JSON.stringify(charset.slice(0, 40))}; send the rows as UTF-8`);
  }
  return format;
}

/** The output format: as `Accept` asks, the input's own format when it allows both (406 when it allows neither). */
function outputFormat(req: Request, input: StreamFormat): { format: StreamFormat; type: string } {
  const other: StreamFormat = input === 'csv' ? 'ndjson' : 'csv';
  const offered = [OUTPUT_TYPE[input], OUTPUT_TYPE[other], 'application/jsonl', 'application/ndjson'];
  const picked = req.accepts(offered);
  if (picked === false) {
    throw new HttpError(406, 'not_acceptable', `predictions are streamed as application/x-ndjson (or application/jsonl) or text/csv; the Accept header allows neither (${String(req.headers.accept).slice(0, 100)})`);
  }
  return { format: picked === 'text/csv' ? 'csv' : 'ndjson', type: picked };
}

/** The body as sent, with Content-Encoding (gzip, deflate, br) undone; 415 for another encoding. */
function decodedBody(req: Request): Readable {
  const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : encoding === 'identity' ? undefined : null;
  if (decoder === null) throw new HttpError(415, 'unsupported_media_type', `Content-Encoding ${JSON.stringify(encoding.slice(0, 40))} is not supported: send the body as it is, or with gzip, deflate or br`);
  if (!decoder) return req;
  return pipeline(req, decoder, () => {});
}

/** The `?id=` column: copied from each input row into its output row. */
function idColumn(req: Request): string | undefined {
  const id = req.query.id;
  if (id === undefined) return undefined;
  if (typeof id !== 'string' || id === '') throw new HttpError(400, 'invalid_input', '?id= must name one column of the input, once', [{ path: '/id', message: 'must be one column name' }]);
  return id;
}

/**
 * Refuses, before the first answer byte, a CSV header the model cannot use: a blank or repeated
 * column name (which column would be read?), the `?id=` column missing, a column the model requires
 * missing, or none of the model's columns at all (a wrong delimiter, or no header row). Each 400
 * names the column.
 */
function checkCsvHeader(model: Predictor, columns: readonly string[], warnings: readonly string[], id: string | undefined): void {
  const header = (message: string, column: string): HttpError => new HttpError(400, 'invalid_input', `the CSV header ${message}`, [{ path: `/${column}`, message }]);
  const renamed = /column (\d+) has no name|column name "(.*)" appears more than once; column (\d+)/.exec(warnings.join('\n'));
  if (renamed) {
    const column = renamed[2] ?? `#${renamed[1]}`;
    throw header(renamed[1] ? `has no name for column ${renamed[1]}: name every column` : `names the column "${renamed[2]}" more than once (again as column ${renamed[3]}): give each column its own name`, column);
  }
  const have = new Set(columns);
  if (id !== undefined && !have.has(id)) throw header(`has no column "${id}" for ?id= (columns: ${columns.join(', ').slice(0, 300)})`, id);
  const inputs = model.transformer.pipeline.inputs;
  const required = (model.manifest.inputSchema as { required?: string[] }).required ?? [];
  const missing = required.filter((c) => !have.has(c));
  if (missing.length > 0) throw header(`lacks the column${missing.length > 1 ? 's' : ''} ${missing.map((c) => `"${c}"`).join(', ')} that ${model.ref} requires`, missing[0] as string);
  if (inputs.length > 0 && !inputs.some((c) => have.has(c.name))) {
    throw header(
      `names none of the columns ${model.ref} reads (${inputs.map((c) => `"${c.name}"`).join(', ').slice(0, 300)}); is the first line a header, and is the delimiter , ; tab or |?`,
      columns[0] ?? '',
    );
  }
}

/**
 * Waits until the response can take more (`true`), or the client is gone or has read nothing for
 * `stallMs` (`false`; the response is destroyed, which frees the request too).
 */
function drained(res: Response, stallMs: number): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const timer = setTimeout(() => {
      res.destroy();
      done(false);
    }, stallMs);
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/** Writes predictions of one format, a chunk of rows at a time. */
class Writer {
  private readonly good: PredictionText;

  constructor(
    model: Predictor,
    private readonly format: StreamFormat,
    private readonly classes: readonly string[],
    private readonly id: string | undefined,
  ) {
    this.good = new PredictionText(model, format, id, true);
  }

  head(): string {
    return this.format === 'csv' ? csvText([csvOutputHeader(this.classes, this.id, true)]) : '';
  }

  /** A chunk's answer as one text; `first`: the 1-based number of its first row. */
  rows(chunk: ChunkAnswer, first: number): string {
    const { good, records, outputs, bad } = chunk;
    let text = '';
    let g = 0;
    for (let i = 0; i < chunk.size; i++) {
      if (g < good.length && good[g] === i) {
        text += this.good.row(records[g], outputs.values[g] as number, outputs.proba, g);
        g++;
        continue;
      }
      const o = bad.get(i) as ChunkBadRow;
      if (this.format === 'csv') text += csvText([csvOutputCells(o, this.classes, this.id, true)]);
      else {
        const error = { code: 'invalid_input', message: o.error, details: o.details };
        text += `${JSON.stringify({ row: first + i, ...(this.id ? { [this.id]: o.record[this.id] ?? null } : {}), error })}\n`;
      }
    }
    return text;
  }

  /** The last line of a stream that had to stop (after its first byte, so the status is already 200). */
  fatal(err: unknown, nextRow: number): string {
    const known = err instanceof DataError || err instanceof MlpipeError || err instanceof HttpError;
    const message = `the stream stopped at row ${nextRow}: ${known ? err.message : 'internal error'}`;
    if (this.format === 'csv') return csvText([[...(this.id ? [''] : []), '', ...this.classes.map(() => ''), message]]);
    const code = err instanceof MlpipeError || err instanceof HttpError ? err.code : 'internal';
    return `${JSON.stringify({ error: { code, message, details: [] } })}\n`;
  }
}

/**
 * `POST /v1/models/:name/predict/stream` (and `/predict/stream` for the default model): NDJSON or
 * CSV rows streamed in, predictions streamed out in the same format or as `Accept` asks, a chunk of
 * {@link STREAM_CHUNK_ROWS} rows at a time. Not bounded by --body-limit or --max-batch-rows; memory
 * stays at about one chunk: a chunk is read only when the previous one is written and the client has
 * taken it (`res.write` returning false pauses the reading), and a client that reads nothing for
 * `streamStallTimeoutMs` is cut off. A bad row is an error line for that row. Errors before the first
 * answer byte are JSON errors (415, 406, 404, 400 for a CSV header naming the column); after it, a last
 * error line.
 */
export function streamRoutes(ctx: ServerContext): Router {
  const router = Router();
  const stallMs = ctx.options.streamStallTimeoutMs ?? DEFAULT_STREAM_STALL_MS;
  // The stream's throttles: requests and the in-flight cap, but no request deadline (a stream may rightly
  // outlast it); its rows are charged chunk by chunk (below).
  const guard: RequestHandler[] = [...ctx.limits.stream, requireReady(ctx)];

  const stream = async (req: Request, res: Response) => {
    const model = modelFor(ctx, req.params.name as string | undefined);
    const input = inputFormat(req);
    const output = outputFormat(req, input);
    const id = idColumn(req);
    const body = decodedBody(req);
    const rows = streamedRows(body, input, 'request body', STREAM_CHUNK_ROWS);
    const cells = new TextCells(model, input === 'csv', id);
    const writer = new Writer(model, output.format, outputClasses(model), id);
    const chunks = rows.chunks[Symbol.asyncIterator]();
    let started = false;
    let nextRow = 1;
    // The number of the next row read (rows are read a chunk ahead of those written).
    let readRows = 1;
    let gone = false;
    res.once('close', () => {
      gone = true;
    });
    const write = async (text: string): Promise<boolean> => (text === '' || res.write(text) ? !gone : drained(res, stallMs));
    /** Writes a chunk's answer (the status and head first); false when the client is gone. */
    const flush = async (answer: Promise<ChunkAnswer>): Promise<boolean> => {
      const done = await answer;
      if (gone) return false;
      if (!started) {
        answeredBy(res, model);
        res.status(200).setHeader('Content-Type', `${output.type}; charset=utf-8`);
        started = true;
        if (!(await write(writer.head()))) return false;
      }
      const text = writer.rows(done, nextRow);
      nextRow += done.size;
      return write(text);
    };
    // One chunk in flight: chunk k's forest work runs on the worker threads while chunk k - 1's answer
    // is written and chunk k + 1 is read and featurized. The first chunk is answered at once, so the
    // status is sent as soon as one chunk has been read.
    let pending: Promise<ChunkAnswer> | undefined;
    try {
      for (;;) {
        let next: IteratorResult<RawChunk>;
        try {
          next = await chunks.next();
        } catch (err) {
          if (gone) return;
          if (!started) throw err; // a JSON error: nothing is sent yet
          if (!(err instanceof MlpipeError)) ctx.log(`error: /predict/stream stopped: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          if (pending && !(await flush(pending))) return;
          res.end(writer.fatal(err, nextRow));
          return;
        }
        if (next.done || gone) break;
        const chunk = next.value;
        if (!started && input === 'csv') checkCsvHeader(model, chunk.columns, rows.warnings, id);
        // Rows are charged to the client's row budget as they arrive: past it, a 429 before the first
        // answer byte, else a last error line saying where the stream stopped.
        try {
          await ctx.limits.chargeRows(req, res, chunkRowCount(chunk));
        } catch (err) {
          if (!started) throw err;
          if (pending && !(await flush(pending))) return;
          res.end(writer.fatal(err, nextRow));
          return;
        }
        const predicted = predictChunk(ctx, res, model, cells, chunk, readRows);
        readRows += chunkRowCount(chunk);
        // Awaited below (or dropped when the client has gone): never an unhandled rejection.
        predicted.catch(() => {});
        if (pending && !(await flush(pending))) return;
        pending = predicted;
        if (!started) {
          pending = undefined;
          if (!(await flush(predicted))) return;
        }
      }
      if (pending && !(await flush(pending))) return;
      if (!started) {
        // No rows at all (an empty NDJSON body): an empty answer, with the CSV header.
        answeredBy(res, model);
        res.status(200).setHeader('Content-Type', `${output.type}; charset=utf-8`);
        res.end(writer.head());
        return;
      }
      if (!gone) res.end();
    } finally {
      await chunks.return?.(undefined);
    }
  };

  router.post('/v1/models/:name/predict/stream', ...guard, stream);
  router.post('/predict/stream', ...guard, stream);
  allowOnly(router, 'POST', ['/predict/stream', '/v1/models/:name/predict/stream']);
  return router;
}

/** One chunk's rows → its answer: cells read as the model's types, then predicted (bad rows carry their problems). */
async function predictChunk(ctx: ServerContext, res: Response, model: Predictor, cells: TextCells, chunk: RawChunk, first: number): Promise<ChunkAnswer> {
  const read = readChunk(cells, chunk, first);
  if (read.readable.length === 0) return chunkAnswer(read, { matrix: new Float64Array(0), rows: [], problems: [] }, NO_OUTPUTS);
  // The table reader flattens nested NDJSON records, and CSV cells are scalars: no record is nested.
  const { featurized, outputs } = await predictRows(ctx, res, model, read.readable, { flat: true });
  return chunkAnswer(read, featurized, outputs);
}
