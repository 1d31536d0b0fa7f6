import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { BIN, ROOT } from './fixtures.js';

/** `mlpipe serve` as a child process whose output is read while it runs. */
export class ServeProcess {
  stdout = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private done = false;
  private waiters: (() => boolean)[] = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
      this.wake();
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
      this.wake();
    });
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.done = true;
        this.wake();
        resolve({ code, signal });
      });
    });
    child.stdin.end();
  }

  private wake(): void {
    this.waiters = this.waiters.filter((check) => !check());
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the first match of `re` in stdout or stderr; rejects if the process ends first. */
  waitFor(stream: 'stdout' | 'stderr', re: RegExp): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const m = this[stream].match(re);
        if (m) {
          resolve(m);
          return true;
        }
        if (this.done) {
          reject(new Error(`mlpipe serve ended before printing ${re} on ${stream}\nstdout: ${this.stdout}\nstderr: ${this.stderr}`));
          return true;
        }
        return false;
      };
      if (!check()) this.waiters.push(check);
    });
  }

  /** The port from `listening on http://127.0.0.1:PORT`. */
  async port(): Promise<number> {
    const m = await this.waitFor('stdout', /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    return Number(m[1]);
  }
}

/** Starts `mlpipe serve <args>` as a real process (kill it when done: `serve.child.kill()`). */
export function startServeProcess(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ServeProcess {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  return new ServeProcess(child);
}


/** Stops a serve process with SIGTERM (it drains) and waits for it to exit; nothing when it is not running. */
export async function stopServe(serve: ServeProcess | undefined): Promise<void> {
  if (!serve?.running) return;
  serve.child.kill('SIGTERM');
  await serve.exited;
}
