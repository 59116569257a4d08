import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { isClosedOrMissing, toDomainError } from './workflow-failures.ts';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import { findTransfer, validateNewTransfer, type NewTransfer, type TransferRecord } from '../inventory/transfers.ts';
import { InvalidTransferStateError, TransferNotFoundError } from '../inventory/errors.ts';
import { canonicalId } from '../inventory/canonical-id.ts';
import { transferWorkflow } from '../../workflows/transfer.ts';
import {
  cancelTransferUpdate,
  createTransferUpdate,
  receiveTransferUpdate,
  shipTransferUpdate,
  transferQuery,
  transferWorkflowId,
  type ReceiveRequest,
  type TransferSnapshot,
} from '../../workflows/transfer-definitions.ts';

const workflowIdOf = (organizationId: string, transferId: string) => transferWorkflowId(canonicalId(organizationId), canonicalId(transferId));

export type TransferClient = ReturnType<typeof createTransferClient>;

/**
 * Drives the transfer workflows for the REST API: every operator action is an update of the
 * transfer's workflow; once it has closed, its row in PostgreSQL answers. Temporal failures come back
 * as domain errors for the one problem map. `actor` is the requesting operator: the workflow writes it
 * into the step's ledger rows and transitions.
 */
export function createTransferClient({ client, taskQueue, orm }: { client: Client; taskQueue: string; orm: Orm }) {
  async function act(organizationId: string, transferId: string, send: (workflowId: string) => Promise<TransferSnapshot>, action: string): Promise<TransferSnapshot> {
    const record = await findTransfer(scopeTo(orm.em, organizationId), transferId);
    if (!record) throw new TransferNotFoundError(`transfer ${transferId} does not exist`, { transfer_id: transferId });
    try {
      return await send(workflowIdOf(organizationId, transferId));
    } catch (error) {
      if (isClosedOrMissing(error)) {
        const closed = (await findTransfer(scopeTo(orm.em, organizationId), transferId))!;
        throw new InvalidTransferStateError(`transfer ${transferId} is ${closed.status}: cannot ${action}`, { status: closed.status });
      }
      throw toDomainError(error);
    }
  }

  return {
    /** Starts the saga and answers once the units are held at the origin (one round trip, Update-with-Start). */
    async create(organizationId: string, request: Omit<NewTransfer, 'transferId'>, actor: string): Promise<TransferSnapshot> {
      await validateNewTransfer(scopeTo(orm.em, organizationId), request);
      const transferId = randomUUID();
      try {
        return await client.workflow.executeUpdateWithStart(createTransferUpdate, {
          startWorkflowOperation: new WithStartWorkflowOperation(transferWorkflow, {
            workflowId: workflowIdOf(organizationId, transferId),
            taskQueue,
            args: [{ ...request, organizationId: canonicalId(organizationId), transferId, actor }],
            workflowIdConflictPolicy: 'FAIL',
          }),
        });
      } catch (error) {
        throw toDomainError(error);
      }
    },
    ship: (organizationId: string, transferId: string, actor: string) =>
      act(organizationId, transferId, (id) => client.workflow.getHandle(id).executeUpdate(shipTransferUpdate, { args: [{ actor }] }), 'ship'),
    receive: (organizationId: string, transferId: string, request: Omit<ReceiveRequest, 'actor'>, actor: string) =>
      act(organizationId, transferId, (id) => client.workflow.getHandle(id).executeUpdate(receiveTransferUpdate, { args: [{ ...request, actor }] }), 'receive'),
    cancel: (organizationId: string, transferId: string, reason: string, actor: string) =>
      act(organizationId, transferId, (id) => client.workflow.getHandle(id).executeUpdate(cancelTransferUpdate, { args: [{ reason, actor }] }), 'cancel'),

    /** From the workflow while the transfer is open, from the database once closed. */
    async get(organizationId: string, transferId: string): Promise<TransferSnapshot> {
      const record = await findTransfer(scopeTo(orm.em, organizationId), transferId);
      if (!record) throw new TransferNotFoundError(`transfer ${transferId} does not exist`, { transfer_id: transferId });
      if (record.status === 'reserved' || record.status === 'in_transit') {
        try {
          return await client.workflow.getHandle(workflowIdOf(organizationId, transferId)).query(transferQuery);
        } catch {
          // The workflow closed between the two reads: the row is current.
        }
      }
      return snapshotOf(organizationId, (await findTransfer(scopeTo(orm.em, organizationId), transferId))!);
    },
  };
}

export function snapshotOf(organizationId: string, r: TransferRecord): TransferSnapshot {
  return {
    transferId: r.transferId,
    organizationId,
    originWarehouseId: r.originWarehouseId,
    destinationWarehouseId: r.destinationWarehouseId,
    status: r.status,
    lines: r.lines,
    notes: r.notes,
    shipBy: r.shipBy?.toISOString() ?? null,
    reason: r.reason,
    transitions: r.transitions,
    createdAt: r.createdAt.toISOString(),
  };
}
