/**
 * A PostgreSQL server of a test's own, from the machine's Debian binaries (`/usr/lib/postgresql/<major>/bin`),
 * so that a test can crash it and start it again without touching the shared server on 5432: initdb into a
 * scratch folder, `postgres` on a free port (its unix socket in the same folder), `pg_ctl stop -m immediate`
 * as the crash (no checkpoint, every backend killed, every connection dropped: the next start replays the
 * WAL), and a start again on the same data and port.
 *
 * PostgreSQL refuses to run as root, and the suite runs as root in CI: then every binary runs as the
 * `postgres` OS user (`runuser`), the folder is handed to it and made traversable (mkdtemp makes it 0700).
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './processes.ts';

const run = promisify(execFile);

export interface PostgresInstance {
  port: number;
  /** The superuser `postgres` (trust authentication) on database `database`, over TCP. */
  urlFor(database: string): string;
  /** `pg_ctl stop -m immediate`: PostgreSQL's crash, every connection cut, nothing checkpointed. */
  crash(): Promise<void>;
  /** Starts it again on the same data and port; resolves once it accepts connections (crash recovery done). */
  start(): Promise<void>;
  /** Stops it (immediately) and deletes its folder. Safe to call again, and after a crash. */
  remove(): Promise<void>;
}

/** Initialises a data folder and starts a private PostgreSQL on it; `remove()` it when done, even on failure. */
export async function startPostgresInstance(): Promise<PostgresInstance> {
  const bin = await binaries();
  const folder = await mkdtemp(join(tmpdir(), 'inventory-pg-'));
  const asRoot = process.getuid?.() === 0;
  const pgUser = asRoot ? await postgresUser() : undefined;
  if (pgUser) {
    await chmod(folder, 0o755);
    await chown(folder, pgUser.uid, pgUser.gid);
  }
  /** Runs one of PostgreSQL's binaries, as the `postgres` user when this process is root. */
  const pg = (program: string, args: string[]) =>
    pgUser ? run('runuser', ['-u', 'postgres', '--', join(bin, program), ...args]) : run(join(bin, program), args);

  const data = join(folder, 'data');
  const log = join(folder, 'postgres.log');
  const port = await freePort();
  let running = false;
  const logTail = async () => (await readFile(log, 'utf8').catch(() => '')).slice(-3000);

  // --no-sync: initdb skips flushing a scratch cluster to disk; the server itself runs with its defaults.
  await pg('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const options = [`-p ${port}`, `-k ${folder}`, '-c listen_addresses=127.0.0.1'].join(' ');
  const start = async () => {
    try {
      // -w: pg_ctl returns once the server accepts connections, i.e. after crash recovery.
      await pg('pg_ctl', ['start', '-D', data, '-l', log, '-w', '-t', '60', '-o', options]);
    } catch (error) {
      throw new Error(`PostgreSQL did not start on port ${port}: ${(error as Error).message}\n${await logTail()}`);
    }
    running = true;
  };
  const stopImmediately = async () => {
    if (!running) return;
    await pg('pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
    running = false;
  };
  try {
    await start();
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    port,
    urlFor: (database) => `postgresql://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    crash: stopImmediately,
    start,
    remove: async () => {
      await stopImmediately().catch(() => undefined);
      await rm(folder, { recursive: true, force: true });
    },
  };
}

/** The folder of PostgreSQL's server binaries: `pg_config --bindir`, else the newest `/usr/lib/postgresql/<major>/bin`. */
async function binaries(): Promise<string> {
  const hasServer = (dir: string) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'));
  try {
    const { stdout } = await run('pg_config', ['--bindir']);
    if (hasServer(stdout.trim())) return stdout.trim();
  } catch {
    // No pg_config on PATH: look where Debian installs the server.
  }
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name) && hasServer(join(root, name, 'bin')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!majors[0]) throw new Error(`no PostgreSQL server binaries (initdb, pg_ctl) under ${root} or pg_config --bindir`);
  return join(root, majors[0], 'bin');
}

/** The `postgres` OS user's ids (the Debian packages create it). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  try {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new Error('running as root, PostgreSQL needs the `postgres` OS user, and there is none');
  }
}
