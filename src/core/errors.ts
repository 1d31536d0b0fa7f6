/**
 * Typed errors thrown by mlpipe's core. Core never prints or exits: the CLI maps these to exit codes
 * (`exitCode`), the server maps `code` to an HTTP status. Every message names the file, row, column,
 * config path or JSON path at fault.
 */

/** One problem inside a larger error, e.g. one invalid field of one record. */
export interface ErrorDetail {
  /** JSON Pointer (`/records/3/bill_length`) or config path (`model.trees`). */
  path: string;
  message: string;
}

/** Machine-readable error categories; the server maps them to HTTP statuses. */
export type ErrorCode =
  | 'invalid_input'
  | 'invalid_config'
  | 'data_error'
  | 'not_found'
  | 'verification_failed'
  | 'conflict'
  | 'usage'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'not_ready'
  | 'internal';

/** Base class of every error mlpipe raises on purpose. */
export class MlpipeError extends Error {
  readonly code: ErrorCode;
  readonly details: ErrorDetail[];
  /** Process exit code the CLI uses: 1 for user errors, 2 for usage errors. */
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options: { details?: ErrorDetail[]; cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? [];
    this.exitCode = options.exitCode ?? (code === 'usage' ? 2 : 1);
  }
}

/** Where in a data source a problem is: all parts optional, rendered as `file, row 3, column "age"`. */
export interface DataLocation {
  source?: string;
  /** 1-based data row (header excluded). */
  row?: number;
  /** 1-based physical line in the file, when it differs from the row. */
  line?: number;
  column?: string;
}

/** How many characters of a user's name or value a message quotes at most (see {@link quoteText}). */
export const QUOTED_TEXT_MAX = 80;

/**
 * A name or value from the user's data, quoted for a message (JSON string syntax) and cut to
 * {@link QUOTED_TEXT_MAX} characters, saying how long it was: a 10 MB column name or cell must not become
 * a 10 MB error message. Every message that quotes user data goes through here.
 */
export function quoteText(text: string, max = QUOTED_TEXT_MAX): string {
  if (text.length <= max) return JSON.stringify(text);
  // Do not cut a surrogate pair in half.
  let cut = max;
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${JSON.stringify(`${text.slice(0, cut)}…`)} (${text.length.toLocaleString('en-US')} characters)`;
}

/** Formats a location as `file.csv: row 3 (line 4), column "age"`. */
export function formatLocation(loc: DataLocation): string {
  const parts: string[] = [];
  if (loc.row !== undefined) parts.push(loc.line !== undefined && loc.line !== loc.row ? `row ${loc.row} (line ${loc.line})` : `row ${loc.row}`);
  else if (loc.line !== undefined) parts.push(`line ${loc.line}`);
  if (loc.column !== undefined) parts.push(`column ${quoteText(loc.column)}`);
  const where = parts.join(', ');
  if (loc.source && where) return `${loc.source}: ${where}`;
  return loc.source ?? where;
}

/** Bad data in a source file or dataset: names file, row and column. */
export class DataError extends MlpipeError {
  readonly location: DataLocation;
  /** The message without its location (what is wrong, and the fix). */
  readonly problem: string;
  constructor(location: DataLocation, problem: string, options: { cause?: unknown } = {}) {
    const where = formatLocation(location);
    super('data_error', where ? `${where}: ${problem}` : problem, options);
    this.location = location;
    this.problem = problem;
  }
}

/** A mistake in a pipeline config or command option value; names the config path. */
export class ConfigError extends MlpipeError {
  constructor(message: string, details: ErrorDetail[] = []) {
    super('invalid_config', message, { details });
  }
}

/** Input records that fail validation (server 400, CLI exit 1), with one detail per problem. */
export class ValidationError extends MlpipeError {
  constructor(message: string, details: ErrorDetail[]) {
    super('invalid_input', message, { details });
  }
}

/** A bundle, model, file or column that does not exist. */
export class NotFoundError extends MlpipeError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** A bundle whose files do not match their recorded checksums (or that is malformed). */
export class VerificationError extends MlpipeError {
  readonly file: string;
  constructor(file: string, message: string) {
    super('verification_failed', message);
    this.file = file;
  }
}

/** Something that would overwrite existing data, e.g. packaging an existing version. */
export class ConflictError extends MlpipeError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** Work stopped on request (Ctrl-C, SIGTERM): exit code 130, like a shell's interrupted command. */
export class InterruptedError extends MlpipeError {
  constructor(message = 'interrupted') {
    super('internal', message, { exitCode: 130 });
  }
}

/**
 * The one ValidationError for a record's (or records') problems, whichever check found them (the input
 * schema, a cell its column cannot read): `invalid input: /date must be …`, the first in the message
 * and every one in `details`.
 */
export function invalidInput(details: ErrorDetail[]): ValidationError {
  const first = details[0] as ErrorDetail;
  const more = details.length > 1 ? ` (and ${details.length - 1} more problem${details.length > 2 ? 's' : ''})` : '';
  return new ValidationError(`invalid input: ${first.path || '(record)'} ${first.message}${more}`, details);
}

/** Returns the message of any thrown value. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** What each file-system error code means, said for a user. */
const FS_PROBLEMS: Record<string, string> = {
  ENAMETOOLONG: 'the name is too long for the file system (a file or folder name may have at most 255 bytes, a whole path 4096)',
  ENOTDIR: 'a part of this path is a file, not a folder',
  EISDIR: 'is a folder; a file was expected',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ENOSPC: 'no space left on the device (free some space and run the command again)',
  EDQUOT: 'disk quota exceeded (free some space and run the command again)',
  EROFS: 'the file system is read-only',
  ENOENT: 'no such file or folder',
  EMFILE: 'too many open files',
  ELOOP: 'too many symbolic links (or a link where none is allowed)',
};

/**
 * A user-facing message for an error from the file system (`ENOSPC`, `ENAMETOOLONG`, `EACCES`, …):
 * the path and the problem in words, e.g. `/data/out: no space left on the device`. Undefined for
 * any other error. A path longer than 300 characters is shortened in the middle.
 */
export function fsErrorMessage(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException & { dest?: string };
  if (!(err instanceof Error) || typeof e.code !== 'string') return undefined;
  const problem = FS_PROBLEMS[e.code];
  if (problem === undefined) return undefined;
  const short = (p: string): string => (p.length > 300 ? `${p.slice(0, 150)}…${p.slice(-140)} (${p.length} characters)` : p);
  const what = e.syscall ? ` (${e.syscall}${e.dest ? ` to ${short(e.dest)}` : ''})` : '';
  return e.path ? `${short(e.path)}: ${problem}${what}` : `${problem}${what}`;
}
