import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import pg from 'pg';
import { openOrm, type Orm } from '../../services/db/orm.ts';
import type { AvailabilityResponse__Output } from '../../services/grpc/generated/inventory/v1/AvailabilityResponse.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { expectStatus, startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { present } from '../helpers/present.ts';
import { testStack } from '../helpers/stack.ts';
import type { TcpProxy } from '../helpers/tcp-proxy.ts';
import { assertInvariants } from './invariants.ts';
import { waitUntilBlockedBy } from './lock-waits.ts';
import { proxyInFront } from './links.ts';
import { poolFullyReturned } from './pool-use.ts';

/**
 * Runs `call` while another session (the superuser's, straight to the database) holds `lockSql` in an open
 * transaction, and cuts `proxy`'s connections once a statement of the runtime role on this database waits
 * for that lock: the call is caught in the middle, its transaction open on the server. The lock is let go
 * once the call has answered, whatever it answered. Returns that answer.
 */
async function cutInFlight<T>(proxy: TcpProxy, lockSql: string, params: unknown[], call: () => Promise<T>): Promise<T> {
  const blocker = new pg.Client({ connectionString: testStack().observerDatabaseUrl });
  await blocker.connect();
  try {
    const blockerPid = (await blocker.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
    await blocker.query('begin');
    await blocker.query(lockSql, params);
    const answer = call();
    // Awaited below; should the wait fail first, its outcome is not left unhandled.
    answer.catch(() => undefined);
    await waitUntilBlockedBy(testStack().observerOrm.em, blockerPid, 'the call to wait for the lock');
    proxy.cutAll();
    return await answer;
  } finally {
    await blocker.query('rollback').catch(() => undefined);
    await blocker.end();
  }
}

describe("faults: the gRPC and REST processes' PostgreSQL link is cut in the middle of a call (a TCP proxy)", function () {
  this.timeout(60_000);
  let proxy: TcpProxy | undefined;
  let orm: Orm | undefined;
  let api: GrpcHarness | undefined;
  let http: HttpHarness | undefined;

  beforeEach(async () => {
    const proxied = await proxyInFront(testStack().databaseUrl, 5432);
    proxy = proxied.proxy;
    orm = await openOrm(proxied.url);
    api = await startGrpc({ orm });
    http = await startHttp({ orm });
  });
  afterEach(async () => {
    await http?.close();
    await api?.close();
    await proxy?.close();
    await orm?.close(true);
    proxy = orm = api = http = undefined;
  });

  it('reads cut mid-query answer UNAVAILABLE over gRPC and 503 problem+json over REST; asked again, they answer', async () => {
    const link = present(proxy, 'the proxy');
    const { organizationId, variantId } = await stockedOrganization(7);
    const check = () =>
      present(api, 'the gRPC facade').call<AvailabilityResponse__Output>('CheckAvailability', {
        organization_id: organizationId,
        items: [{ variant_id: variantId, quantity: 5 }],
      });
    const read = () => present(http, 'the REST facade').get(`/api/v1/stock/${variantId}`, organizationId);

    // Reads of the stock table wait behind an exclusive lock; the link is cut while one waits, one call at a time.
    const lockStock = 'lock table stock in access exclusive mode';
    const refused = await cutInFlight(link, lockStock, [], () => expectStatus(check(), grpc.status.UNAVAILABLE));
    const answer = await cutInFlight(link, lockStock, [], read);
    assert.match(refused.details, /database cannot be reached; try again/);
    assert.equal(answer.status, 503, JSON.stringify(answer.body));
    assert.match(answer.contentType, /^application\/problem\+json/);
    assert.equal(answer.body.type.endsWith(':DatabaseUnavailable'), true, answer.body.type);

    const again = await check();
    assert.equal(again.all_available, true);
    assert.equal(again.results[0]?.available, 7);
    const readAgain = await read();
    assert.equal(readAgain.status, 200);
    assert.equal(readAgain.body.totals.available, 7);
    await poolFullyReturned(present(orm, 'the pool'));
  });

  it('a REST adjustment with an Idempotency-Key cut mid-transaction answers 503 and writes nothing; sent again with the key it applies once, and again it is replayed', async () => {
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(10);
    const rest = present(http, 'the REST facade');
    const adjust = () =>
      rest.send('POST', '/api/v1/adjustments', {
        organizationId,
        body: { variant_id: variantId, warehouse_id: warehouseId, reason_code: 'found', quantity: 2 },
        headers: { 'Idempotency-Key': `found-${variantId}` },
      });
    const found = () =>
      scope.em
        .fork()
        .execute<{ n: number }[]>(
          "select count(*)::int as n from stock_movement where organization_id = ? and variant_id = ? and reference_type = 'adjustment'",
          [organizationId, variantId],
        )
        .then(([row]) => row?.n);

    // The ledger's guarded update waits for the stock row, locked by another session; the link is cut then.
    const first = await cutInFlight(
      present(proxy, 'the proxy'),
      'select 1 from stock where organization_id = $1 and variant_id = $2 and warehouse_id = $3 for update',
      [organizationId, variantId, warehouseId],
      adjust,
    );
    assert.equal(first.status, 503, JSON.stringify(first.body));
    assert.equal(first.headers.get('retry-after'), '1');
    assert.equal(first.body.type.endsWith(':DatabaseUnavailable'), true, first.body.type);
    // The cut transaction never committed (its server process rolls it back once it finds the socket gone).
    assert.equal(await found(), 0, 'nothing written by the cut call');
    assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 10);

    const second = await adjust();
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const third = await adjust();
    assert.equal(third.status, 201);
    assert.equal(third.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(third.body, second.body);
    assert.equal(await found(), 1, 'the adjustment applied once');
    assert.equal(present(await stockRow(scope, variantId, warehouseId), 'the stock row').available, 12);
    await assertInvariants({ em: scope.em, organizationId });
    await poolFullyReturned(present(orm, 'the pool'));
  });
});
