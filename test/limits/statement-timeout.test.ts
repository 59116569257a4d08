import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { openOrm, type Orm } from '../../services/db/orm.ts';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { testStack } from '../helpers/stack.ts';

describe('statement timeout', function () {
  this.timeout(30_000);
  let orm: Orm;
  let http: HttpHarness;
  let api: GrpcHarness;
  before(async () => {
    orm = await openOrm(testStack().databaseUrl, 2, { statementTimeoutMs: 300, idleInTransactionTimeoutMs: 1000 });
    http = await startHttp({ orm });
    api = await startGrpc({ orm });
  });
  after(async () => {
    await http?.close();
    await api?.close();
    await orm?.close(true);
  });

  it("a session from the service's pool has the configured statement and idle-in-transaction timeouts; the suite's pool has the 15 s default", async () => {
    const [short] = await orm.em
      .fork()
      .execute<{ statement_timeout: string; idle_in_transaction_session_timeout: string }[]>(
        `select current_setting('statement_timeout') as statement_timeout, current_setting('idle_in_transaction_session_timeout') as idle_in_transaction_session_timeout`,
      );
    assert.deepEqual(short, { statement_timeout: '300ms', idle_in_transaction_session_timeout: '1s' });
    const [documented] = await testStack()
      .orm.em.fork()
      .execute<{ timeout: string }[]>(`select current_setting('statement_timeout') as timeout`);
    assert.equal(documented?.timeout, '15s', 'the default, DB_STATEMENT_TIMEOUT_MS=15000');
  });

  it('a statement that runs past it is a 503 over REST and UNAVAILABLE over gRPC, not a 500', async () => {
    // Another session holds the warehouse table, so any read of it waits, past the timeout.
    const holder = new pg.Client({ connectionString: testStack().databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table warehouse in access exclusive mode');
      const organizationId = randomUUID();
      const rest = await http.get('/api/v1/warehouses', organizationId);
      assert.equal(rest.status, 503, JSON.stringify(rest.body));
      assert.equal(rest.contentType, 'application/problem+json; charset=utf-8');
      await expectStatus(
        api.call('GetWarehouseStock', { organization_id: organizationId, warehouse_id: randomUUID(), page_size: 1 }),
        grpc.status.UNAVAILABLE,
      );
    } finally {
      await holder.query('rollback');
      await holder.end();
    }
    assert.equal(
      (await http.get('/api/v1/warehouses', randomUUID())).status,
      200,
      'once the lock is gone the same call answers',
    );
  });
});
