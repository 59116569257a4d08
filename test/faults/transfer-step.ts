/**
 * Fault scenarios the database fault tests share: a transfer's ship step, or a cancel's compensation, caught
 * in flight. What follows describes the ship; cancelAcrossFault says how the cancel differs. Another session
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

/** Where a scenario runs: `http` (a REST facade whose transfers run on the worker the fault hits), `client` (sees its workflows), `scope`'s organization, `lockUrl` (a superuser's URL on the same database). */
export interface StepScenario {
  http: HttpHarness;
  client: Client;
  scope: TestOrganizationScope;
  lockUrl: string;
  fault: StepFault;
}

export interface StepOutcome {
  /** The first call's status (200 in time, 503 "try again"). */
  firstStatus: number;
  /** From the fault's end until that first call answered. */
  firstMs: number;
}

/** A transfer of 3 units created over `http` between two new warehouses of `scope`'s organization (10 at the origin). */
async function newTransfer(http: HttpHarness, scope: TestOrganizationScope) {
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
  const zero = { total: 0, available: 0, reserved: 0, damaged: 0, in_transit: 0, incoming: 0 };
  return {
    id,
    origin,
    destination,
    act,
    /** Sends `action` with `key` until it gets an answer other than 503 (try again), and returns it. */
    definite: (action: string, body: object | undefined, key: string) =>
      waitFor(
        () => act(id, action, body, key),
        (r) => r.status !== 503,
        `a definite answer to the ${action}`,
        60_000,
      ),
    /** A warehouse's quantities of the transferred variant (all 0 when it has no row). */
    quantities: async (warehouseId: string) => {
      const { version: _version, ...rest } = (await stockRow(scope, variant, warehouseId)) ?? { ...zero, version: 0 };
      return rest;
    },
    zero,
    /** The transfer's movements, as `<step> <type> <origin|destination>`, sorted. */
    movements: async () => {
      const steps = await scope.em.fork().execute<{ operation_key: string; type: string; warehouse_id: string }[]>(
        `select operation_key, type, warehouse_id from stock_movement
         where organization_id = ? and reference_type = 'transfer' and reference_id = ?`,
        [org, id],
      );
      return steps
        .map(
          (m) =>
            `${m.operation_key.slice(`transfer/${id}/`.length).replace(/#\d+$/, '')} ${m.type} ${m.warehouse_id === origin ? 'origin' : 'destination'}`,
        )
        .sort();
    },
    /** The activities the transfer's history shows retried (an activity's started event carries its last attempt). */
    retried: async (client: Client) => {
      const history = await client.workflow.getHandle(transferWorkflowId(org, id)).fetchHistory();
      const typeOf = new Map<string, string | undefined>();
      const found: (string | undefined)[] = [];
      for (const event of history.events ?? []) {
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled) typeOf.set(String(event.eventId), scheduled.activityType?.name ?? undefined);
        const started = event.activityTaskStartedEventAttributes;
        if (started && (started.attempt ?? 1) > 1) found.push(typeOf.get(String(started.scheduledEventId)));
      }
      return found;
    },
    variant,
  };
}

/**
 * Holds the origin's stock row from another session (`lockUrl`, a superuser's), sends `call`, waits until its
 * step's transaction waits for the row, breaks the database for 3 s with `fault`, then lets the row go.
 * Returns the call's answer (in time, or 503 "try again") and how long after the fault's end it came.
 */
async function callAcrossFault<T>(
  options: { scope: TestOrganizationScope; lockUrl: string; fault: StepFault; origin: string; variant: string },
  call: () => Promise<T>,
): Promise<{ answer: T; afterFaultMs: number }> {
  const { scope, fault } = options;
  const blocker = new pg.Client({ connectionString: options.lockUrl });
  // A crashed server drops this session too.
  blocker.on('error', () => undefined);
  await blocker.connect();
  let pending: Promise<T>;
  let faultEnded: number;
  try {
    const blockerPid = (await blocker.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid;
    await blocker.query('begin');
    await blocker.query(
      'select 1 from stock where organization_id = $1 and variant_id = $2 and warehouse_id = $3 for update',
      [scope.organizationId, options.variant, options.origin],
    );
    pending = call();
    await waitUntilBlockedBy(scope.em, blockerPid, "the step's transaction to wait for the row");
    await fault.begin();
    // Deliberately keep the database broken for 3 s: the step's attempts fail and are retried meanwhile.
    await sleep(3000);
    await fault.end();
    faultEnded = Date.now();
  } finally {
    await blocker.query('rollback').catch(() => undefined);
    await blocker.end().catch(() => undefined);
  }
  const answer = await pending;
  return { answer, afterFaultMs: Date.now() - faultEnded };
}

/**
 * The ship step caught in flight: runs the scenario over `http` (a REST facade whose transfers run on the
 * worker the fault hits) in `scope`'s organization; `lockUrl` is a superuser's URL on the same database.
 */
export async function shipAcrossFault(options: StepScenario): Promise<StepOutcome> {
  const { client, scope, fault } = options;
  const t = await newTransfer(options.http, scope);
  const shipKey = `ship-${randomUUID()}`;
  const { answer: first, afterFaultMs: firstMs } = await callAcrossFault(
    { scope, lockUrl: options.lockUrl, fault, origin: t.origin, variant: t.variant },
    () => t.act(t.id, 'ship', undefined, shipKey),
  );

  // The first ship answers in time or says "try again" (503); sent again with its key it gets the definite answer.
  assert.ok([200, 503].includes(first.status), `ship: ${first.status} ${JSON.stringify(first.body)}`);
  const shipped = await t.definite('ship', undefined, shipKey);
  assert.equal(shipped.status, 200, JSON.stringify(shipped.body));
  assert.equal(shipped.body.status, 'in_transit');
  const received = await t.definite(
    'receive',
    { lines: [{ variant_id: t.variant, received: 3 }] },
    `receive-${randomUUID()}`,
  );
  assert.equal(received.status, 200, JSON.stringify(received.body));
  assert.equal(received.body.status, 'completed');
  assert.deepEqual(await t.retried(client), ['markTransferInTransit'], 'the ship step, and only it, was retried');

  assert.deepEqual(await t.quantities(t.origin), { ...t.zero, total: 7, available: 7 });
  assert.deepEqual(await t.quantities(t.destination), { ...t.zero, total: 3, available: 3 });
  assert.deepEqual(
    await t.movements(),
    [
      'receive/1 transfer_in destination',
      'receive/1 transfer_out origin',
      'reserve reserve origin',
      'ship incoming destination',
      'ship transfer_out origin',
    ],
    'one movement per step and line, none doubled',
  );
  await assertInvariants({ em: scope.em, organizationId: scope.organizationId, client });
  return { firstStatus: first.status, firstMs };
}

/**
 * A cancel in transit caught in its compensations: the transfer is shipped, then cancelled while the
 * origin's row is held, so the compensation that gives the units back to the origin waits for it when the
 * fault lands. Each compensation runs exactly once (its movements not doubled), the units are all back at
 * the origin, the destination expects nothing, the invariants hold. Returns the cancel's first answer.
 */
export async function cancelAcrossFault(options: StepScenario): Promise<StepOutcome> {
  const { client, scope, fault } = options;
  const t = await newTransfer(options.http, scope);
  const shipped = await t.definite('ship', undefined, `ship-${randomUUID()}`);
  assert.equal(shipped.body.status, 'in_transit', JSON.stringify(shipped.body));
  const cancelKey = `cancel-${randomUUID()}`;
  const cancel = { reason: 'truck broke down' };
  const { answer: first, afterFaultMs } = await callAcrossFault(
    { scope, lockUrl: options.lockUrl, fault, origin: t.origin, variant: t.variant },
    () => t.act(t.id, 'cancel', cancel, cancelKey),
  );
  assert.ok([200, 503].includes(first.status), `cancel: ${first.status} ${JSON.stringify(first.body)}`);
  const cancelled = await t.definite('cancel', cancel, cancelKey);
  assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
  assert.equal(cancelled.body.status, 'cancelled');
  await waitFor(
    async () =>
      (await client.workflow.getHandle(transferWorkflowId(scope.organizationId, t.id)).describe()).status.name,
    (status) => status === 'COMPLETED',
    'the transfer workflow to close',
    60_000,
  );
  assert.ok((await t.retried(client)).length > 0, 'the compensation caught by the fault was retried');
  assert.deepEqual(await t.quantities(t.origin), { ...t.zero, total: 10, available: 10 });
  const destination = await t.quantities(t.destination);
  assert.equal(destination.incoming, 0, 'the destination expects nothing');
  const movements = await t.movements();
  assert.equal(new Set(movements).size, movements.length, `no movement doubled: ${movements.join(', ')}`);
  await assertInvariants({ em: scope.em, organizationId: scope.organizationId, client });
  return { firstStatus: first.status, firstMs: afterFaultMs };
}
