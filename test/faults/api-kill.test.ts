import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { grpcClient, type GrpcHarness } from '../helpers/grpc.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { present } from '../helpers/present.ts';
import { assertInvariants } from './invariants.ts';
import {
  assertDefiniteOrRetryable,
  assertHeldOnceInLedger,
  assertHeldOnceOrRefused,
  burstRequests,
  burstStock,
  everyUntilDefinite,
  startBurst,
  waitUntilSettled,
} from './reserve-burst.ts';
import { freePort, scratchDirectory, spawnGrpcServer, type ChildProcessHandle } from './processes.ts';

describe('faults: the gRPC server process is killed (SIGKILL)', function () {
  this.timeout(120_000);
  let directory: Awaited<ReturnType<typeof scratchDirectory>> | undefined;
  let worker: RunningWorker | undefined;
  let api: GrpcHarness | undefined;
  const servers: ChildProcessHandle[] = [];

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
    await api?.close();
    await worker?.stop();
    await directory?.remove();
    directory = worker = api = undefined;
  });

  it('gRPC server SIGKILLed during a ReserveStock burst: each of 30 orders for 20 units ends held exactly once or refused, and the same request sent to a new server gets the definite answer', async () => {
    const stack = testStack();
    const { client } = stack.temporal;
    directory = await scratchDirectory();
    const jwksFile = join(directory.path, 'jwks.json');
    await writeFile(jwksFile, JSON.stringify(stack.issuer.jwks));
    worker = await startWorker();
    const port = await freePort();
    const server = async () => {
      const child = await spawnGrpcServer({
        port,
        address: stack.temporal.address,
        taskQueue: present(worker, 'the worker').taskQueue,
        databaseUrl: stack.databaseUrl,
        jwksFile,
      });
      servers.push(child);
      return child;
    };
    const first = await server();
    // One client for the whole test, as a caller keeps its channel: it reconnects to whatever listens on the port.
    api = grpcClient(`127.0.0.1:${port}`);
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(burstStock);
    const versionBefore = present(
      present(await stockRow(scope, variantId, warehouseId), 'the stock row').version,
      'its version',
    );
    const requests = burstRequests(organizationId, variantId);

    // The kill lands inside the burst: at its first answer, the other calls in flight in the server.
    const burst = await startBurst(present(api, 'the client'), requests);
    await first.kill();
    const killedAt = Date.now();
    const firstAnswers = await burst.answers;
    const lost = assertDefiniteOrRetryable(firstAnswers);
    assert.ok(lost > 0, 'some calls lost their answer with the server');

    // The worker goes on with what the dead server had started: holds committed for callers who never got their answer.
    const [{ n: committedWhileDown } = { n: 0 }] = await scope.em
      .fork()
      .execute<{ n: number }[]>(
        "select count(*)::int as n from stock_movement where organization_id = ? and type = 'reserve'",
        [organizationId],
      );
    await server();
    const restartedAt = Date.now();
    // Every caller sends the same request again until it gets a definite answer; one already answered gets the same one.
    const outcomes = await everyUntilDefinite(present(api, 'client'), requests);
    const answeredMs = Date.now() - restartedAt;
    assertHeldOnceOrRefused(firstAnswers, outcomes, burst.inFlight);
    await assertHeldOnceInLedger({ scope, variantId, warehouseId, versionBefore, requests, outcomes });

    await waitUntilSettled(client, organizationId, requests);
    const settledMs = Date.now() - restartedAt;
    assert.ok(settledMs < 30_000, `settled ${settledMs} ms after the new server started`);
    console.log(
      `      gRPC kill: ${burst.inFlight} calls in flight at the kill, ${lost} lost their answer, ${committedWhileDown} holds in the ledger before the new server; new server after ${restartedAt - killedAt} ms, every order answered ${answeredMs} ms and every workflow settled ${settledMs} ms after it`,
    );
    await assertInvariants({ em: scope.em, organizationId, client });
  });
});
