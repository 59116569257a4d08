import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { createActivities } from '../../activities/index.ts';
import { migrate, openOrm, type Orm } from '../../services/db/orm.ts';
import { bootstrapDatabase, urlForRole } from '../../services/db/roles.ts';
import { scopeTo } from '../../services/inventory/organization-scope.ts';
import { transferWorkflowId } from '../../workflows/transfer-definitions.ts';
import { createWarehouse, receiveStock, stockRow } from '../helpers/fixtures.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { present } from '../helpers/present.ts';
import { testStack, type TestOrganizationScope } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { poolFullyReturned } from './pool-use.ts';
import { startPostgresInstance, type PostgresInstance } from './postgres-instance.ts';
import { reserveBurstAcrossFault } from './reserve-burst.ts';

/**
 * The service's own PostgreSQL server crashes (`pg_ctl stop -m immediate`: every backend killed, every
 * connection dropped, no checkpoint) and is started again on the same data and port after 3 s, with a worker,
 * a gRPC facade and a REST facade on it (the run's Temporal server). A server of the test's own, so the
 * crash touches nothing else.
 */
describe('faults: PostgreSQL crashes and restarts (a private server, pg_ctl stop -m immediate)', function () {
  this.timeout(180_000);
  let instance: PostgresInstance | undefined;
  let orm: Orm | undefined;
  let systemOrm: Orm | undefined;
  let observerOrm: Orm | undefined;
  let worker: RunningWorker | undefined;
  let api: GrpcHarness | undefined;
  let http: HttpHarness | undefined;

  before(async () => {
    instance = await startPostgresInstance();
    // As the global fixtures do on the shared server: the three roles and the database, migrated by the owner.
    const adminUrl = instance.urlFor('inventory');
    const urls = {
      owner: urlForRole(adminUrl, 'owner'),
      runtime: urlForRole(adminUrl, 'runtime'),
      system: urlForRole(adminUrl, 'system'),
    };
    await bootstrapDatabase(adminUrl, urls);
    const owner = await openOrm(urls.owner, 2);
    try {
      await migrate(owner);
    } finally {
      await owner.close();
    }
    // The runtime role's pool at its default size (10), as every process runs it.
    orm = await openOrm(urls.runtime);
    systemOrm = await openOrm(urls.system, 2);
    observerOrm = await openOrm(adminUrl, 4);
    worker = await startWorker({ activities: createActivities({ orm, systemOrm }) });
    api = await startGrpc({ taskQueue: worker.taskQueue, orm });
    http = await startHttp({ taskQueue: worker.taskQueue, orm });
  });

  after(async () => {
    await http?.close();
    await api?.close();
    // The server goes first, so that nothing left waiting on it (a failed test's activity, a pool) can keep it running.
    await instance?.remove();
    await worker?.stop();
    for (const pool of [orm, systemOrm, observerOrm]) await pool?.close(true);
  });

  /** A fresh organization on the private server: the service's scope, with the superuser's `em` for fixtures and assertions. */
  function organization(): TestOrganizationScope {
    const organizationId = randomUUID();
    return {
      ...scopeTo(present(orm, 'the runtime pool').em, organizationId),
      em: present(observerOrm, 'the observer pool').em.fork(),
    };
  }

  /** Crashes the server now; `restart` starts it again and measures how long that took (crash recovery included). */
  function crash(server: PostgresInstance) {
    const crashed = server.crash();
    return {
      crashed,
      restart: async () => {
        await crashed;
        const started = Date.now();
        await server.start();
        return Date.now() - started;
      },
    };
  }

  it('PostgreSQL crashed during a ReserveStock burst and hold expiries, restarted after 3 s: each order held once or refused, each expired hold released once, every workflow settles, the pools recover', async () => {
    const server = present(instance, 'the PostgreSQL instance');
    let restartMs = 0;
    let outage: ReturnType<typeof crash> | undefined;
    const outcome = await reserveBurstAcrossFault({
      api: present(api, 'the gRPC facade'),
      client: testStack().temporal.client,
      scope: organization(),
      fault: {
        begin: async () => {
          outage = crash(server);
          await outage.crashed;
        },
        end: async () => {
          restartMs = await present(outage, 'the crash').restart();
        },
      },
    });
    console.log(
      `      PostgreSQL crash: ${outcome.inFlightAtFault} orders in flight; restarted in ${restartMs} ms; every order answered ${outcome.answeredMs} ms and every workflow settled ${outcome.settledMs} ms after it was back`,
    );
    // Every connection the crash broke, checked out or idle, is dropped: the pools serve again at full size.
    await poolFullyReturned(present(orm, 'the runtime pool'));
  });

  it('PostgreSQL crashed with a transfer step in flight, restarted after 3 s: the transfer completes, units conserved, one movement per step', async () => {
    const server = present(instance, 'the PostgreSQL instance');
    const rest = present(http, 'the REST facade');
    const scope = organization();
    const org = scope.organizationId;
    const origin = (await createWarehouse(scope, { region: 'north' })).id;
    const destination = (await createWarehouse(scope, { region: 'south' })).id;
    const variant = randomUUID();
    await receiveStock(scope, variant, origin, 10);

    const act = (transferId: string, action: string, body: object | undefined, idempotencyKey: string) =>
      rest.send('POST', `/api/v1/transfers/${transferId}/${action}`, {
        organizationId: org,
        body,
        headers: { 'Idempotency-Key': idempotencyKey },
      });
    const created = await rest.send('POST', '/api/v1/transfers', {
      organizationId: org,
      body: {
        origin_warehouse_id: origin,
        destination_warehouse_id: destination,
        items: [{ variant_id: variant, quantity: 3 }],
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id: string = created.body.transfer_id;

    // The ship step is caught in flight: another session holds the origin's stock row, so the step's transaction
    // waits for its lock on the server (begun, not committed) when PostgreSQL crashes.
    const blocker = new pg.Client({ connectionString: present(instance, 'the instance').urlFor('inventory') });
    blocker.on('error', () => undefined);
    await blocker.connect();
    await blocker.query('begin');
    await blocker.query(
      'select 1 from stock where organization_id = $1 and variant_id = $2 and warehouse_id = $3 for update',
      [org, variant, origin],
    );
    const shipKey = `ship-${randomUUID()}`;
    const shipping = act(id, 'ship', undefined, shipKey);
    await waitFor(
      async () =>
        (
          await scope.em
            .fork()
            .execute<{ n: number }[]>(
              "select count(*)::int as n from pg_stat_activity where usename = 'inventory_runtime' and wait_event_type = 'Lock'",
            )
        )[0]?.n ?? 0,
      (waiting) => waiting > 0,
      "the ship step's transaction to wait for the row",
      20_000,
    );
    const outage = crash(server);
    await outage.crashed;
    // Deliberately keep PostgreSQL down for 3 s: the step's attempts fail and are retried meanwhile.
    await sleep(3000);
    const restartMs = await outage.restart();
    const back = Date.now();
    await blocker.end().catch(() => undefined);

    // The first ship answers in time or says "try again" (503); sent again with its key it gets the definite answer.
    const firstShip = await shipping;
    const firstShipMs = Date.now() - back;
    assert.ok([200, 503].includes(firstShip.status), `ship: ${firstShip.status} ${JSON.stringify(firstShip.body)}`);
    const shipped = await waitFor(
      () => act(id, 'ship', undefined, shipKey),
      (r) => r.status !== 503,
      'a definite answer to the ship',
      60_000,
    );
    assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
    assert.equal(shipped.body.status, 'in_transit');
    const shippedMs = Date.now() - back;

    const received = await waitFor(
      () => act(id, 'receive', { lines: [{ variant_id: variant, received: 3 }] }, `receive-${randomUUID()}`),
      (r) => r.status !== 503,
      'a definite answer to the receipt',
      60_000,
    );
    assert.equal(received.status, 200, JSON.stringify(received.body));
    assert.equal(received.body.status, 'completed');
    // The attempt the crash caught failed and was retried: the history's ship step ran more than once.
    const history = await testStack().temporal.client.workflow.getHandle(transferWorkflowId(org, id)).fetchHistory();
    const typeOf = new Map<string, string | undefined>();
    const retried: (string | undefined)[] = [];
    for (const event of history.events ?? []) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType?.name ?? undefined);
      const started = event.activityTaskStartedEventAttributes;
      if (started && (started.attempt ?? 1) > 1) retried.push(typeOf.get(String(started.scheduledEventId)));
    }
    assert.deepEqual(retried, ['markTransferInTransit'], 'the ship step, and only it, was retried');
    console.log(
      `      PostgreSQL crash during a transfer's ship: restarted in ${restartMs} ms; its first ship call answered ${firstShip.status} ${firstShipMs} ms after it was back, the same call again ${shipped.status} after ${shippedMs} ms`,
    );

    const zero = { total: 0, available: 0, reserved: 0, damaged: 0, in_transit: 0, incoming: 0 };
    const quantities = async (warehouseId: string) => {
      const { version: _version, ...rest } = (await stockRow(scope, variant, warehouseId)) ?? { ...zero, version: 0 };
      return rest;
    };
    assert.deepEqual(await quantities(origin), { ...zero, total: 7, available: 7 });
    assert.deepEqual(await quantities(destination), { ...zero, total: 3, available: 3 });
    const steps = await scope.em.fork().execute<{ operation_key: string; type: string; warehouse_id: string }[]>(
      `select operation_key, type, warehouse_id from stock_movement
       where organization_id = ? and reference_type = 'transfer' and reference_id = ?`,
      [org, id],
    );
    assert.deepEqual(
      steps
        .map(
          (m) =>
            `${m.operation_key.slice(`transfer/${id}/`.length).replace(/#\d+$/, '')} ${m.type} ${m.warehouse_id === origin ? 'origin' : 'destination'}`,
        )
        .sort(),
      [
        'receive/1 transfer_in destination',
        'receive/1 transfer_out origin',
        'reserve reserve origin',
        'ship incoming destination',
        'ship transfer_out origin',
      ],
      'one movement per step and line, none doubled',
    );
    await assertInvariants({ em: scope.em, organizationId: org, client: testStack().temporal.client });
    await poolFullyReturned(present(orm, 'the runtime pool'));
  });
});
