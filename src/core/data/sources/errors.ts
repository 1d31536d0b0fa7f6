import { MlpipeError } from '../../errors.js';

/**
 * A source that cannot be read: an unreachable host, refused credentials, an SQL error, an HTTP error
 * status, a command that failed. One line naming the source (`postgres://127.0.0.1:5432/test: …`),
 * exit code 1, never a secret in the message.
 */
export class SourceError extends MlpipeError {
  readonly source: string;
  constructor(source: string, problem: string, options: { cause?: unknown } = {}) {
    super('data_error', `${source}: ${problem}`, options);
    this.source = source;
  }
}
