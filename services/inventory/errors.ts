import type { FailureType } from './vocabulary.ts';

/**
 * Domain errors. Each carries a stable `type`, one of the vocabulary's failure types and equal to its
 * class name (test/unit/vocabulary.test.ts checks that), which is also the Temporal failure type and the
 * key of the HTTP and gRPC status maps; and whether retrying the same request can help (false unless a
 * class says otherwise).
 */
export abstract class InventoryError extends Error {
  abstract readonly type: FailureType;
  readonly retryable: boolean = false;
  readonly details: Record<string, unknown> | undefined;

  constructor(message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.details = details;
  }
}

export interface Shortage {
  variant_id: string;
  warehouse_id: string | null;
  requested: number;
  available: number;
}

/** Some line asks for more than is available; nothing was changed. */
export class InsufficientStockError extends InventoryError {
  readonly type = 'InsufficientStockError';
  readonly shortages: Shortage[];
  constructor(shortages: Shortage[]) {
    super(
      `insufficient stock: ${shortages.map((s) => `variant ${s.variant_id}${s.warehouse_id ? ` in warehouse ${s.warehouse_id}` : ''} has ${s.available} available, ${s.requested} requested`).join('; ')}`,
      { shortages },
    );
    this.shortages = shortages;
  }
}

/** A change would take a quantity other than `available` below zero (e.g. release more than is reserved). */
export class InvalidStockChangeError extends InventoryError {
  readonly type = 'InvalidStockChangeError';
}

/** No stock row for that variant in that warehouse. */
export class StockNotFoundError extends InventoryError {
  readonly type = 'StockNotFoundError';
}

export class WarehouseNotFoundError extends InventoryError {
  readonly type = 'WarehouseNotFoundError';
}

export class VariantNotFoundError extends InventoryError {
  readonly type = 'VariantNotFoundError';
}

/**
 * The catalog does not know the variant a request names, so no stock is created for it. Not
 * VariantNotFoundError: that one is an unknown variant in a URL (404); this one is a reference in a
 * body or an event that cannot be honoured (422).
 */
export class VariantNotInCatalogError extends InventoryError {
  readonly type = 'VariantNotInCatalogError';
}

/** The catalog says the variant is inactive (discontinued): no new stock for it. */
export class VariantInactiveError extends InventoryError {
  readonly type = 'VariantInactiveError';
}

/** The catalog says the variant does not track inventory (a service, a digital good): it has no stock. */
export class VariantNotTrackedError extends InventoryError {
  readonly type = 'VariantNotTrackedError';
}

/** The operation key was already used for a different change. */
export class OperationKeyConflictError extends InventoryError {
  readonly type = 'OperationKeyConflictError';
}

/** The caller's input is malformed (a boundary should have caught it; this is the domain's own guard). */
export class InvalidArgumentError extends InventoryError {
  readonly type = 'InvalidArgumentError';
}

export class ReservationNotFoundError extends InventoryError {
  readonly type = 'ReservationNotFoundError';
}
/** The action is not allowed in the reservation's current status (e.g. release after fulfil). */
export class InvalidReservationStateError extends InventoryError {
  readonly type = 'InvalidReservationStateError';
}
/** The order already holds a different reservation. */
export class ReservationConflictError extends InventoryError {
  readonly type = 'ReservationConflictError';
}
export class WarehouseInactiveError extends InventoryError {
  readonly type = 'WarehouseInactiveError';
}

/** Another warehouse of the organization already has that code. */
export class WarehouseCodeTakenError extends InventoryError {
  readonly type = 'WarehouseCodeTakenError';
}

/** The warehouse still holds stock or holds: it cannot be deactivated yet. */
export class WarehouseInUseError extends InventoryError {
  readonly type = 'WarehouseInUseError';
}

export class TransferNotFoundError extends InventoryError {
  readonly type = 'TransferNotFoundError';
}

export class ReconciliationNotFoundError extends InventoryError {
  readonly type = 'ReconciliationNotFoundError';
}

/** The action is not allowed in the transfer's current status (e.g. receive before ship). */
export class InvalidTransferStateError extends InventoryError {
  readonly type = 'InvalidTransferStateError';
}

/** A transfer request that cannot be carried out as asked (same warehouse twice, inactive warehouse, unknown variant, over-receipt). */
export class InvalidTransferError extends InventoryError {
  readonly type = 'InvalidTransferError';
}

/** A cycle count was made against a quantity that has changed since (compare-and-swap failed). */
export class StaleCountError extends InventoryError {
  readonly type = 'StaleCountError';
}

export class LocationNotFoundError extends InventoryError {
  readonly type = 'LocationNotFoundError';
}

/** The location's code is taken in that warehouse, or the location is still referenced by movements. */
export class LocationConflictError extends InventoryError {
  readonly type = 'LocationConflictError';
}

/**
 * A value the database refuses (a NUL character, a text longer than its column, a number out of range,
 * a missing required value, a reference to nothing): the same request would fail again, so the step
 * fails at once instead of being retried. The edges refuse such input first; this is the last guard.
 */
export class InvalidDataError extends InventoryError {
  readonly type = 'InvalidDataError';
}

/**
 * A workflow step kept failing on a transient error (the database unreachable, an attempt timing out)
 * until its bounded attempts ran out. Nothing is left half done (a reservation ends failed, a transfer
 * compensated); the same request may succeed later.
 */
export class RetriesExhaustedError extends InventoryError {
  readonly type = 'RetriesExhaustedError';
  override readonly retryable = true;
}

/**
 * A workflow did not answer within the client's deadline (no worker running, Temporal unreachable).
 * What was asked may still happen; asking again with the same request (or Idempotency-Key) is safe:
 * every workflow action is idempotent or refused once done.
 */
export class WorkflowUnavailableError extends InventoryError {
  readonly type = 'WorkflowUnavailableError';
  override readonly retryable = true;
}

/**
 * A compensation (or a release the workflow owes: a hold's expiry) failed for good after its long,
 * bounded retries: the workflow fails with this type, naming what is left undone, for ops to repair.
 */
export class CompensationFailedError extends InventoryError {
  readonly type = 'CompensationFailedError';
}

/**
 * A reconciliation over one or more organizations finished, but the run of at least one failed for good:
 * the workflow fails with this type, naming them, once the others are done.
 */
export class ReconciliationFailedError extends InventoryError {
  readonly type = 'ReconciliationFailedError';
}
