import { CsvParser, type CsvParserOptions, type CsvSyntaxError } from '../core/data/sources/csv-parser.js';

/** What {@link parsePieces} read: the rows, each row's line, and the parser's error if any. */
export interface Parsed {
  rows: string[][];
  lines: number[];
  error?: CsvSyntaxError;
}

/** Parses `pieces` (pushed one by one, as a stream's chunks arrive) with mlpipe's CSV parser. */
export function parsePieces(pieces: string[], options: Partial<CsvParserOptions> = {}): Parsed {
  const parser = new CsvParser({ delimiter: ',', quote: '"', ...options });
  const rows: string[][] = [];
  const lines: number[] = [];
  const collect = () => {
    const got = parser.take();
    rows.push(...got.rows);
    lines.push(...got.lines);
  };
  for (const piece of pieces) {
    parser.push(piece);
    collect();
  }
  parser.end();
  collect();
  return parser.error ? { rows, lines, error: parser.error } : { rows, lines };
}
