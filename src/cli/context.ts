import type { Readable, Writable } from 'node:stream';
import { resolve } from 'node:path';
import { isRemoteLocation } from '../core/bundle/stores/location.js';

/** The process around a command: streams and environment, injectable for tests. */
export interface CliIo {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  stdin: Readable;
  env: NodeJS.ProcessEnv;
}

/** What every command gets: output helpers that respect `--json`, and shared settings. */
export class CliContext {
  constructor(readonly io: CliIo) {}

  /** True when stdout is a terminal (tables and colours are for people). */
  get tty(): boolean {
    return Boolean(this.io.stdout.isTTY);
  }

  /** Writes a line of human output to stdout. */
  out(line = ''): void {
    this.io.stdout.write(`${line}\n`);
  }

  /** Writes a progress or note line to stderr (never mixed into machine output). */
  note(line: string): void {
    this.io.stderr.write(`${line}\n`);
  }

  /** Writes a progress line to stderr, only when stderr is a terminal (logs and pipes stay clean). */
  progress(line: string): void {
    if (this.io.stderr.isTTY) this.io.stderr.write(`${line}\n`);
  }

  /** Writes one JSON document to stdout (`--json`). */
  json(value: unknown): void {
    this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** The bundle store: `--artifacts`, else MLPIPE_ARTIFACTS, else ./artifacts. */
  artifacts(option: string | undefined): string {
    const location = option ?? this.io.env.MLPIPE_ARTIFACTS ?? 'artifacts';
    // A remote store (`s3://…`, `https://…/`) is kept as written; a folder is made absolute.
    return isRemoteLocation(location) ? location : resolve(location);
  }
}
