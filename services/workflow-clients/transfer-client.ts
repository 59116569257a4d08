import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { defaultWorkflowDeadlineMs, isClosedOrMissing, toDomainError, withinDeadline } from './workflow-failures.ts';
import type { Orm } from '../db/orm.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import {
  findTransfer,
  validateNewTransfer,
  type NewTransfer,
  type TransferRecord,
} from '../inventory/transfers/transfers.ts';
import { nameBasedUuid } from '../inventory/name-based-uuid.ts';
import { InvalidTransferStateError, TransferNotFoundError } from '../inventory/errors.ts';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
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
} from '../../workflows/transfer-definitions.ts';
import type { TransferSnapshot } from '../inventory/vocabulary.ts';

const workflowIdOf = (organizationId: string, transferId: string) =>
  transferWorkflowId(canonicalId(organizationId), canonicalId(transferId));

export type TransferClient = ReturnType<typeof createTransferClient>;

/** The request's Idempotency-Key, when it has one: a repeat with the same key gets the first answer. */
export interface IdempotencyOptions {
  idempotencyKey?: string | undefined;
}

export interface TransferClientDeps {
  client: Client;
  taskQueue: string;
  orm: Orm;
  /** How long a call waits for the workflow's answer before WorkflowUnavailableError (default 10 s). */
  deadlineMs?: number;
}

/**
 * Drives the transfer workflows for the REST API: every operator action is an update of the
 * transfer's workflow; once it has closed, its row in PostgreSQL answers. Temporal failures come back
 * as domain errors for the one problem map. `actor` is the requesting operator: the workflow writes it
 * into the step's ledger rows and transitions. Every call waits at most `deadlineMs` for the workflow,
 * then throws WorkflowUnavailableError; sending the same request again is safe (see each method).
 */
export function createTransferClient({
  client,
  taskQueue,
  orm,
  deadlineMs = defaultWorkflowDeadlineMs,
}: TransferClientDeps) {
  const inTime = <T>(what: string, call: () => Promise<T>) => withinDeadline(client, deadlineMs, what, call);

  /**
   * Ship, receive and cancel. With the request's Idempotency-Key the update's id is derived from (action,
   * transfer, key, request), so the same request sent again after WorkflowUnavailableError reaches Temporal as
   * the same update and gets the first one's answer (Temporal keeps an update's outcome, after the workflow has
   * closed too); the same key with another request is another update, judged on its own. Without a key, a
   * repeat of one that took effect late is refused by the workflow's validators (409); nothing is ever applied
   * twice.
   */
  async function act<Request extends { actor?: string }>(
    organizationId: string,
    transferId: string,
    update: UpdateDefinition<TransferSnapshot, [Request]>,
    request: Request,
    idempotencyKey: string | undefined,
  ): Promise<TransferSnapshot> {
    const action = update.name;
    const record = await findTransfer(scopeTo(orm.em, organizationId), transferId);
    if (!record) throw new TransferNotFoundError(`transfer ${transferId} does not exist`, { transfer_id: transferId });
    const workflowId = workflowIdOf(organizationId, transferId);
    const updateId = idempotencyKey
      ? nameBasedUuid(JSON.stringify(['transfer', action, workflowId, idempotencyKey, request]))
      : undefined;
    const send = () =>
      client.workflow.getHandle(workflowId).executeUpdate(update, { args: [request], ...(updateId && { updateId }) });
    try {
      return await inTime(`${action} of transfer ${transferId}`, send);
    } catch (error) {
      if (isClosedOrMissing(error)) {
        const closed = (await findTransfer(scopeTo(orm.em, organizationId), transferId))!;
        throw new InvalidTransferStateError(`transfer ${transferId} is ${closed.status}: cannot ${action}`, {
          status: closed.status,
        });
      }
      throw toDomainError(error);
    }
  }

  return {
    /**
     * Starts the saga and answers once the units are held at the origin (one round trip, Update-with-Start).
     * With the request's Idempotency-Key, the transfer id is derived from (organization, key, request):
     * the same create sent again after WorkflowUnavailableError joins the transfer the first one started,
     * instead of starting a second. Without a key every call is a new transfer.
     */
    async create(
      organizationId: string,
      request: Omit<NewTransfer, 'transferId'>,
      actor: string,
      options: { idempotencyKey?: string } = {},
    ): Promise<TransferSnapshot> {
      await validateNewTransfer(scopeTo(orm.em, organizationId), request);
      const transferId = options.idempotencyKey
        ? transferIdFor(canonicalId(organizationId), options.idempotencyKey, request)
        : randomUUID();
      try {
        return await inTime(`the creation of transfer ${transferId}`, () =>
          client.workflow.executeUpdateWithStart(createTransferUpdate, {
            startWorkflowOperation: new WithStartWorkflowOperation(transferWorkflow, {
              workflowId: workflowIdOf(organizationId, transferId),
              taskQueue,
              args: [{ ...request, organizationId: canonicalId(organizationId), transferId, actor }],
              // A repeat joins the running workflow; one that closed answers from its row (below).
              workflowIdConflictPolicy: options.idempotencyKey ? 'USE_EXISTING' : 'FAIL',
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
            }),
          }),
        );
      } catch (error) {
        if (options.idempotencyKey && error instanceof WorkflowExecutionAlreadyStartedError) {
          const record = await findTransfer(scopeTo(orm.em, organizationId), transferId);
          if (record) return snapshotOf(organizationId, record);
        }
        throw toDomainError(error);
      }
    },
    ship: (organizationId: string, transferId: string, actor: string, options: IdempotencyOptions = {}) =>
      act(organizationId, transferId, shipTransferUpdate, { actor }, options.idempotencyKey),
    receive: (
      organizationId: string,
      transferId: string,
      request: Omit<ReceiveRequest, 'actor'>,
      actor: string,
      options: IdempotencyOptions = {},
    ) => act(organizationId, transferId, receiveTransferUpdate, { ...request, actor }, options.idempotencyKey),
    cancel: (
      organizationId: string,
      transferId: string,
      reason: string,
      actor: string,
      options: IdempotencyOptions = {},
    ) => act(organizationId, transferId, cancelTransferUpdate, { reason, actor }, options.idempotencyKey),

    /** From the workflow while the transfer is open, from the database once closed. */
    async get(organizationId: string, transferId: string): Promise<TransferSnapshot> {
      const record = await findTransfer(scopeTo(orm.em, organizationId), transferId);
      if (!record)
        throw new TransferNotFoundError(`transfer ${transferId} does not exist`, { transfer_id: transferId });
      if (record.status === 'reserved' || record.status === 'in_transit') {
        try {
          return await inTime(`transfer ${transferId}`, () =>
            client.workflow.getHandle(workflowIdOf(organizationId, transferId)).query(transferQuery),
          );
        } catch {
          // The workflow closed between the two reads: the row is current.
        }
      }
      return snapshotOf(organizationId, (await findTransfer(scopeTo(orm.em, organizationId), transferId))!);
    },
  };
}

/** A transfer id derived from the organization, the Idempotency-Key and the request: the same three, the same transfer. */
function transferIdFor(
  organizationId: string,
  idempotencyKey: string,
  request: Omit<NewTransfer, 'transferId'>,
): string {
  return nameBasedUuid(JSON.stringify(['transfer', organizationId, idempotencyKey, request]));
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
