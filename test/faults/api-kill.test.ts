import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { ReserveStockResponse__Output } from '../../services/grpc/generated/inventory/v1/ReserveStockResponse.ts';
import { reservationWorkflowId } from '../../workflows/definitions.ts';
import { grpcClient, type GrpcHarness } from '../helpers/grpc.ts';
import { stockedOrganization, stockRow } from '../helpers/fixtures.ts';
import { testStack } from '../helpers/stack.ts';
import { startWorker, type RunningWorker } from '../helpers/temporal.ts';
import { waitFor } from '../helpers/wait.ts';
import { present } from '../helpers/present.ts';
import { assertInvariants, unsettled } from './invariants.ts';
import { reserveUntilDefinite, retryable } from './links.ts';
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
    const { scope, organizationId, warehouseId, variantId } = await stockedOrganization(20);
    const versionBefore = present(
      present(await stockRow(scope, variantId, warehouseId), 'the stock row').version,
      'its version',
    );
    const requests = Array.from({ length: 30 }, (_, i) => ({
      organization_id: organizationId,
      order_id: `burst-${i}`,
      items: [{ variant_id: variantId, quantity: 1 }],
    }));

    let answered = 0;
    const calls = requests.map((request) =>
      present(api, 'the client')
        .call<ReserveStockResponse__Output>('ReserveStock', request)
        .finally(() => answered++),
    );
    // The kill lands inside the burst: at its first answer, the other calls in flight in the server.
    await Promise.race(calls.map((call) => call.catch(() => undefined)));
    const inFlightAtKill = requests.length - answered;
    await first.kill();
    const killedAt = Date.now();
    assert.ok(inFlightAtKill > 0, 'the server died while orders were still in flight');

    const firstAnswers = await Promise.allSettled(calls);
    const lost = firstAnswers.filter((a) => a.status === 'rejected' && retryable.has(a.reason.code)).length;
    for (const answer of firstAnswers) {
      if (answer.status === 'rejected') {
        const code = (answer.reason as grpc.ServiceError).code;
        assert.ok(
          retryable.has(code) || code === grpc.status.FAILED_PRECONDITION,
          `a definite refusal or "try again", not ${grpc.status[code]}: ${(answer.reason as Error).message}`,
        );
      }
    }
    assert.ok(lost > 0, 'some calls lost their answer with the server');

    // The worker goes on with what the dead server had started: holds committed for callers who never got their answer.
    const reserveMovements = async () =>
      (
        await scope.em
          .fork()
          .execute<{ n: number }[]>(
            "select count(*)::int as n from stock_movement where organization_id = ? and type = 'reserve'",
            [organizationId],
          )
      )[0]?.n ?? 0;
    const committedWhileDown = await reserveMovements();
    await server();
    const restartedAt = Date.now();
    // Every caller sends the same request again until it gets a definite answer; one already answered gets the same one.
    const outcomes = await Promise.all(
      requests.map((request) => reserveUntilDefinite(present(api, 'client'), request)),
    );
    const answeredMs = Date.now() - restartedAt;
    for (const [i, outcome] of outcomes.entries()) {
      const firstAnswer = present(firstAnswers[i], `order ${i}'s first answer`);
      if ('refused' in outcome)
        assert.equal(outcome.refused.code, grpc.status.FAILED_PRECONDITION, outcome.refused.message);
      if (firstAnswer.status === 'fulfilled')
        assert.equal(
          'held' in outcome && outcome.held.reservation_id,
          firstAnswer.value.reservation_id,
          `order ${i} keeps its reservation`,
        );
      if (
        firstAnswer.status === 'rejected' &&
        (firstAnswer.reason as grpc.ServiceError).code === grpc.status.FAILED_PRECONDITION
      )
        assert.ok('refused' in outcome, `order ${i} stays refused`);
    }
    const held = outcomes.filter((o) => 'held' in o).length;
    // Stock only goes down in this test (nothing is released): an order is refused only once all 20 are held.
    assert.equal(
      held,
      20,
      `held ${held}, refused ${outcomes.length - held}; ${inFlightAtKill} were in flight at the kill`,
    );

    assert.equal(await reserveMovements(), 20, 'one reserve movement per held order');
    const holds = await scope.em
      .fork()
      .execute<{ order_id: string; n: number }[]>(
        "select order_id, count(*)::int as n from reservation where organization_id = ? and status = 'active' group by order_id",
        [organizationId],
      );
    assert.deepEqual(
      holds.map((h) => h.order_id).sort(),
      requests
        .filter((_, i) => 'held' in present(outcomes[i], `order ${i}`))
        .map((r) => r.order_id)
        .sort(),
      'the orders answered held are the ones held',
    );
    assert.ok(
      holds.every((h) => h.n === 1),
      'each order held once',
    );
    // One version per committed change: 20 holds, none written twice.
    assert.deepEqual(await stockRow(scope, variantId, warehouseId), {
      total: 20,
      available: 0,
      reserved: 20,
      damaged: 0,
      in_transit: 0,
      incoming: 0,
      version: versionBefore + 20,
    });

    const workflowIds = requests.map((r) => reservationWorkflowId(organizationId, r.order_id));
    await waitFor(
      () => unsettled(client, workflowIds),
      (left) => left.length === 0,
      'every workflow to close or wait with no activity pending',
      30_000,
    );
    const settledMs = Date.now() - restartedAt;
    assert.ok(settledMs < 30_000, `settled ${settledMs} ms after the new server started`);
    console.log(
      `      gRPC kill: ${inFlightAtKill} calls in flight at the kill, ${lost} lost their answer, ${committedWhileDown} holds in the ledger before the new server; new server after ${restartedAt - killedAt} ms, every order answered ${answeredMs} ms and every workflow settled ${settledMs} ms after it`,
    );
    await assertInvariants({ em: scope.em, organizationId, client });
  });
});
