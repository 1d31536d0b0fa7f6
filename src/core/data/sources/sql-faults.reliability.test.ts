/**
 * Issue 11, faults of loading: the database connection of a running `mlpipe load` (a real process) is
 * cut mid-query — PostgreSQL by `pg_terminate_backend`, MariaDB by `KILL <connection id>` and by a
 * real server restart (shutdown, then the machine's own start command; an `after` hook starts it
 * again whatever happened). The load fails with one line naming the source, exit 1, no stack, no
 * dataset and no temporary file; the next load works.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { readdir } from 'node:fs/promises';
import { expect } from 'chai';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { BIN, cleanupTempDirs, runCli, tempDir } from '../../../test-helpers/fixtures.js';
import { byScale, countReliability } from '../../../test-helpers/reliability.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';
const MY_URL = 'mysql://root@127.0.0.1:3306/test';
const ROWS = 3_000_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);
const MARIADBD = '/usr/sbin/mariadbd';

async function mariadbUp(): Promise<boolean> {
  return run('mariadb-admin', ['--protocol=tcp', '-h', '127.0.0.1', '-P', '3306', '-u', 'root', 'ping']).then(
    () => true,
    () => false,
  );
}

/** Starts MariaDB with the machine's command (as .ci/run does) and waits until it answers. */
async function startMariadb(): Promise<void> {
  if (await mariadbUp()) return;
  await run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', MARIADBD]).catch(() => {});
  for (let i = 0; i < 60 && !(await mariadbUp()); i++) await sleep(500);
  if (!(await mariadbUp())) throw new Error('MariaDB did not come back after the restart test');
}

/** Runs `mlpipe load <url> --query <sql>` and, once `findAndCut` finds its query on the server, cuts it. */
async function loadAndCut(url: string, sql: string, cut: () => Promise<boolean>): Promise<{ code: number | null; stderr: string; files: string[]; cut: boolean }> {
  const dir = await tempDir('mlpipe-sql-fault-');
  const child = spawn(process.execPath, [BIN, 'load', url, '--query', sql, '--out', 'data.arrow'], { cwd: dir, env: { ...process.env, MLPIPE_DEV: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let didCut = false;
  let running = true;
  void exited.then(() => (running = false));
  // Poll until the query runs on the server, let some rows come, then cut the connection.
  const deadline = Date.now() + 60_000;
  while (running && !didCut && Date.now() < deadline) {
    await sleep(200);
    didCut = await cut();
  }
  const code = await exited;
  return { code, stderr, files: await readdir(dir), cut: didCut };
}

function checkFailure(r: { code: number | null; stderr: string; files: string[]; cut: boolean }, source: RegExp): void {
  expect(r.cut, 'the query was never seen on the server').to.equal(true);
  expect(r.code, r.stderr).to.equal(1);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('mlpipe:'));
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(source);
  expect(lines[0]).to.not.contain('internal error');
  expect(r.stderr).to.not.match(/\n\s+at /);
  expect(r.files, 'a partial dataset or temporary file').to.deep.equal([]);
}

describe('reliability: a database connection cut in the middle of mlpipe load', function () {
  this.timeout(byScale(180_000, 600_000));
  after(cleanupTempDirs);

  it('PostgreSQL (pg_terminate_backend): one line naming the source, exit 1, nothing written; the next load works', async () => {
    const tag = `names_fault_${process.pid}_${Date.now()}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    try {
      const sql = `SELECT g AS n, g % 7 AS ${tag} FROM generate_series(1, ${ROWS}) g`;
      const r = await loadAndCut(PG_URL, sql, async () => {
        const res = await admin.query<{ pid: number }>(`SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity WHERE query LIKE $1 AND pid <> pg_backend_pid()`, [`%${tag}%`]);
        return res.rows.length > 0;
      });
      checkFailure(r, /postgres:\/\/postgres@127\.0\.0\.1:5432\/test.*(connection|terminat)/i);
      const dir = await tempDir('mlpipe-sql-fault-');
      const next = await runCli(['load', PG_URL, '--query', `SELECT g AS n FROM generate_series(1, 1000) g`, '--out', 'data.arrow', '--json'], { cwd: dir, env: { MLPIPE_DEV: '1' } });
      expect(next.code, next.stderr).to.equal(0);
      expect((JSON.parse(next.stdout) as { rows: number }).rows).to.equal(1000);
      countReliability('database connection cut during load', { cases: 1, passed: 1, restarts: 1 });
    } finally {
      await admin.end();
    }
  });

  it('MariaDB (KILL <connection id>): one line naming the source, exit 1, nothing written; the next load works', async () => {
    const tag = `names_fault_${process.pid}_${Date.now()}`;
    const admin = await mysql.createConnection({ uri: MY_URL });
    try {
      const sql = `SELECT seq AS n, seq % 7 AS ${tag} FROM seq_1_to_${ROWS}`;
      const r = await loadAndCut(MY_URL, sql, async () => {
        const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()`, [`%${tag} FROM%`]);
        for (const row of rows) await admin.query(`KILL ${Number(row.id)}`).catch(() => {});
        return rows.length > 0;
      });
      checkFailure(r, /mysql:\/\/root@127\.0\.0\.1:3306\/test/);
      const dir = await tempDir('mlpipe-sql-fault-');
      const next = await runCli(['load', MY_URL, '--query', 'SELECT seq AS n FROM seq_1_to_1000', '--out', 'data.arrow', '--json'], { cwd: dir, env: { MLPIPE_DEV: '1' } });
      expect(next.code, next.stderr).to.equal(0);
      expect((JSON.parse(next.stdout) as { rows: number }).rows).to.equal(1000);
      countReliability('database connection cut during load', { cases: 1, passed: 1, restarts: 1 });
    } finally {
      await admin.end();
    }
  });

  describe('a MariaDB server restart in the middle of the query', () => {
    after(startMariadb);

    it('one line naming the source, exit 1, nothing written; the next load after the restart works', async function () {
      // Needs the machine's own server (root, start-stop-daemon): skipped where MariaDB runs elsewhere.
      if (!existsSync(MARIADBD) || process.getuid?.() !== 0 || !(await mariadbUp())) this.skip();
      const tag = `restart_fault_${process.pid}_${Date.now()}`;
      const admin = await mysql.createConnection({ uri: MY_URL });
      let restarted = false;
      try {
        const sql = `SELECT seq AS n, seq % 7 AS ${tag} FROM seq_1_to_${ROWS}`;
        const r = await loadAndCut(MY_URL, sql, async () => {
          const [rows] = await admin.query<mysql.RowDataPacket[]>(`SELECT ID AS id FROM information_schema.PROCESSLIST WHERE INFO LIKE ? AND ID <> CONNECTION_ID()`, [`%${tag} FROM%`]);
          if (rows.length === 0) return false;
          await admin.end().catch(() => {});
          await run('mariadb-admin', ['--protocol=tcp', '-h', '127.0.0.1', '-P', '3306', '-u', 'root', 'shutdown']).catch(() => {});
          restarted = true;
          return true;
        });
        await startMariadb();
        checkFailure(r, /mysql:\/\/root@127\.0\.0\.1:3306\/test/);
        const dir = await tempDir('mlpipe-sql-fault-');
        const next = await runCli(['load', MY_URL, '--query', 'SELECT seq AS n FROM seq_1_to_1000', '--out', 'data.arrow', '--json'], { cwd: dir, env: { MLPIPE_DEV: '1' } });
        expect(next.code, next.stderr).to.equal(0);
        expect((JSON.parse(next.stdout) as { rows: number }).rows).to.equal(1000);
        countReliability('database server restarted during load', { cases: 1, passed: 1, restarts: 1 });
      } finally {
        if (!restarted) await admin.end().catch(() => {});
      }
    });
  });
});
