import { randomUUID } from 'node:crypto';
import { createActivities } from '../../activities/index.ts';
import { migrate, openOrm, type Orm } from '../../services/db/orm.ts';
import { bootstrapDatabase, urlForRole } from '../../services/db/roles.ts';
import { scopeTo } from '../../services/inventory/organization-scope.ts';
import { startGrpc, type GrpcHarness } from '../helpers/grpc.ts';
import { startHttp, type HttpHarness } from '../helpers/http.ts';
import { present } from '../helpers/present.ts';
import { testStack, type TestOrganizationScope } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { poolFullyReturned } from './pool-use.ts';
import { startPostgresInstance, type PostgresInstance } from './postgres-instance.ts';
import { reserveBurstAcrossFault } from './database-burst.ts';
import { shipAcrossFault } from './transfer-step.ts';

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

  /**
   * The fault: `begin` crashes the server, `end` starts it again; `restartMs()` is how long the start took (crash
   * recovery included).
   */
  function crashAndRestart(server: PostgresInstance) {
    let restartMs = 0;
    return {
      begin: () => server.crash(),
      end: async () => {
        const started = Date.now();
        await server.start();
        restartMs = Date.now() - started;
      },
      restartMs: () => restartMs,
    };
  }

  it('PostgreSQL crashed during a ReserveStock burst and hold expiries, restarted after 3 s: each order held once or refused, each expired hold released once, every workflow settles, the pools recover', async () => {
    const fault = crashAndRestart(present(instance, 'the PostgreSQL instance'));
    const outcome = await reserveBurstAcrossFault({
      api: present(api, 'the gRPC facade'),
      client: testStack().temporal.client,
      scope: organization(),
      fault,
    });
    console.log(
      `      PostgreSQL crash: ${outcome.inFlightAtFault} orders in flight; restarted in ${fault.restartMs()} ms; every order answered ${outcome.answeredMs} ms and every workflow settled ${outcome.settledMs} ms after it was back`,
    );
    // Every connection the crash broke, checked out or idle, is dropped: the pools serve again at full size.
    await poolFullyReturned(present(orm, 'the runtime pool'));
  });

  it('PostgreSQL crashed with a transfer step in flight, restarted after 3 s: the transfer completes, units conserved, one movement per step', async () => {
    const server = present(instance, 'the PostgreSQL instance');
    const fault = crashAndRestart(server);
    const { firstStatus, firstMs } = await shipAcrossFault({
      http: present(http, 'the REST facade'),
      client: testStack().temporal.client,
      scope: organization(),
      lockUrl: server.urlFor('inventory'),
      fault,
    });
    console.log(
      `      PostgreSQL crash during a transfer's ship: restarted in ${fault.restartMs()} ms; the ship's first call answered ${firstStatus} ${firstMs} ms after it was back`,
    );
    await poolFullyReturned(present(orm, 'the runtime pool'));
  });
});
