/**
 * A fault scenario the database fault tests share: a transfer's ship step caught in flight. Another session
 * holds the origin's stock row, so the step's transaction waits for its lock on the server (begun, not
 * committed) when the fault lands (a cut link, a crashed server); the fault lasts 3 s, then the row is let
 * go. It asserts what must hold whatever the fault: the ship's caller gets its answer or "try again" (503),
 * and the same request again its definite answer; the step's attempt was retried (the history shows the ship
 * step retried, and no other); the receipt completes the transfer; units conserved across both warehouses,
 * exactly one movement per step and line; the invariants.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import pg from 'pg';
import { transferWorkflowId } from '../../workflows/transfer-definitions.ts';
import { createWarehouse, receiveStock, stockRow } from '../helpers/fixtures.ts';
import type { HttpHarness } from '../helpers/http.ts';
import type { TestOrganizationScope } from '../helpers/stack.ts';
import { sleep, waitFor } from '../helpers/wait.ts';
import { assertInvariants } from './invariants.ts';
import { waitUntilBlockedBy } from './lock-waits.ts';

/** What breaks the worker's database while the step waits, and heals it. */
export interface StepFault {
  begin(): Promise<void>;
  end(): Promise<void>;
}

export interface StepOutcome {
  /** The first ship call's status (200 in time, 503 "try again"). */
  firstShipStatus: number;
  /** From the fault's end until that first call answered. */
  firstShipMs: number;
}

/**
 * Runs the scenario over `http` (a REST facade whose transfers run on the worker the fault hits) in `scope`'s
 * organization; `lockUrl` is a superuser's URL on the same database, for the session that holds the row.
 */
export async function shipAcrossFault(options: {
  http: HttpHarness;
  client: Client;
  scope: TestOrganizationScope;
  lockUrl: string;
  fault: StepFault;
}): Promise<StepOutcome> {
  const { http, client, scope, fault } = options;
  const org = scope.organizationId;
  const origin = (await createWarehouse(scope, { region: 'north' })).id;
  const destination = (await createWarehouse(scope, { region: 'south' })).id;
  const variant = randomUUID();
  await receiveStock(scope, variant, origin, 10);

  const act = (transferId: string, action: string, body: object | undefined, idempotencyKey: string) =>
    http.send('POST', `/api/v1/transfers/${transferId}/${action}`, {
      organizationId: org,
      body,
      headers: { 'Idempotency-Key': idempotencyKey },
    });
  const created = await http.send('POST', '/api/v1/transfers', {
    organizationId: org,
    body: {
      origin_warehouse_id: origin,
      destination_warehouse_id: destination,
      items: [{ variant_id: variant, quantity: 3 }],
    },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id: string = created.body.transfer_id;

  const blocker = new pg.Client({ connectionString: options.lockUrl });
  // A crashed server drops this session too.
  blocker.on('error', () => undefined);
  await blocker.connect();
  const shipKey = `ship-${randomUUID()}`;
  let firstShip: Promise<Awaited<ReturnType<typeof act>>>;
  let faultEnded: number;
  try {
    const blockerPid = (await blocker.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
    await blocker.query('begin');
    await blocker.query(
      'select 1 from stock where organization_id = $1 and variant_id = $2 and warehouse_id = $3 for update',
      [org, variant, origin],
    );
    firstShip = act(id, 'ship', undefined, shipKey);
    await waitUntilBlockedBy(scope.em, blockerPid, "the ship step's transaction to wait for the row");
    await fault.begin();
    // Deliberately keep the database broken for 3 s: the step's attempts fail and are retried meanwhile.
    await sleep(3000);
    await fault.end();
    faultEnded = Date.now();
  } finally {
    await blocker.query('rollback').catch(() => undefined);
    await blocker.end().catch(() => undefined);
  }

  // The first ship answers in time or says "try again" (503); sent again with its key it gets the definite answer.
  const first = await firstShip;
  const firstShipMs = Date.now() - faultEnded;
  assert.ok([200, 503].includes(first.status), `ship: ${first.status} ${JSON.stringify(first.body)}`);
  const shipped = await waitFor(
    () => act(id, 'ship', undefined, shipKey),
    (r) => r.status !== 503,
    'a definite answer to the ship',
    60_000,
  );
  assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
  assert.equal(shipped.body.status, 'in_transit');

  const received = await waitFor(
    () => act(id, 'receive', { lines: [{ variant_id: variant, received: 3 }] }, `receive-${randomUUID()}`),
    (r) => r.status !== 503,
    'a definite answer to the receipt',
    60_000,
  );
  assert.equal(received.status, 200, JSON.stringify(received.body));
  assert.equal(received.body.status, 'completed');
  // The attempt the fault caught failed and was retried: an activity's started event carries its last attempt.
  const history = await client.workflow.getHandle(transferWorkflowId(org, id)).fetchHistory();
  const typeOf = new Map<string, string | undefined>();
  const retried: (string | undefined)[] = [];
  for (const event of history.events ?? []) {
    const scheduled = event.activityTaskScheduledEventAttributes;
    if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType?.name ?? undefined);
    const started = event.activityTaskStartedEventAttributes;
    if (started && (started.attempt ?? 1) > 1) retried.push(typeOf.get(String(started.scheduledEventId)));
  }
  assert.deepEqual(retried, ['markTransferInTransit'], 'the ship step, and only it, was retried');

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
  await assertInvariants({ em: scope.em, organizationId: org, client });
  return { firstShipStatus: first.status, firstShipMs };
}
