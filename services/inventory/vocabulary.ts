/**
 * The values the workflows, the activities, the facades and the domain share, defined once. This module
 * imports nothing (no Node built-in, no SDK): the workflow bundle includes it, and a change here is a
 * change to workflow payloads, so recorded histories must still replay (test/replay).
 *
 * Casing: names a payload carries on the wire (workflow inputs and results, REST, gRPC, events) are
 * snake_case (`variant_id`, `in_transit`); names that live only in TypeScript are camelCase
 * (`Quantities.inTransit`). `SnakeQuantities` is derived from the one list of quantity names, not typed twice.
 */

// ---------------------------------------------------------------- failure types

/**
 * Every failure type a caller can meet: the class names of the domain errors (services/inventory/errors.ts,
 * QuotaExceededError in services/limits/quotas.ts), which are also the ApplicationFailure types the
 * activities and workflows raise. The REST and gRPC status maps are `Record<FailureType, …>`, so a
 * failure type without a status fails tsc.
 */
export const failureTypeNames = [
  'InsufficientStockError',
  'InvalidStockChangeError',
  'StockNotFoundError',
  'WarehouseNotFoundError',
  'VariantNotFoundError',
  'VariantNotInCatalogError',
  'VariantInactiveError',
  'VariantNotTrackedError',
  'OperationKeyConflictError',
  'InvalidArgumentError',
  'ReservationNotFoundError',
  'InvalidReservationStateError',
  'ReservationConflictError',
  'WarehouseInactiveError',
  'WarehouseCodeTakenError',
  'WarehouseInUseError',
  'TransferNotFoundError',
  'ReconciliationNotFoundError',
  'InvalidTransferStateError',
  'InvalidTransferError',
  'StaleCountError',
  'LocationNotFoundError',
  'LocationConflictError',
  'QuotaExceededError',
  'InvalidDataError',
  'RetriesExhaustedError',
  'WorkflowUnavailableError',
  'CompensationFailedError',
  'ReconciliationFailedError',
] as const;
export type FailureType = (typeof failureTypeNames)[number];

/** True when `type` (an ApplicationFailure's, say) is one of the failure types. */
export function isFailureType(type: string | null | undefined): type is FailureType {
  return (failureTypeNames as readonly (string | null | undefined)[]).includes(type);
}

/** The failure types by name, for code that raises or branches on one (`failureTypes.InsufficientStockError`). */
export const failureTypes = Object.fromEntries(failureTypeNames.map((name) => [name, name])) as {
  readonly [K in FailureType]: K;
};

// ---------------------------------------------------------------- quantities and movements

/** The quantities a movement changes; `total` follows from them (incoming is outside total). */
export const quantityNames = ['available', 'reserved', 'damaged', 'inTransit', 'incoming'] as const;
export type QuantityName = (typeof quantityNames)[number];
export type QuantityDeltas = Partial<Record<QuantityName, number>>;
/** A stock row's quantities, as TypeScript reads them. */
export type Quantities = Record<QuantityName | 'total', number>;

type Snake<S extends string> = S extends `${infer Head}${infer Tail}`
  ? `${Head extends Lowercase<Head> ? Head : `_${Lowercase<Head>}`}${Snake<Tail>}`
  : S;
/** The same quantities as a payload spells them (REST, gRPC, events, workflow results): `in_transit`. */
export type SnakeQuantities = { [K in keyof Quantities as Snake<K>]: number };

/**
 * What a ledger movement records. A reservation's fulfilment is a 'shipment' (its held units leave stock); the
 * documented 'fulfil' was never written and is gone from the list.
 */
export const movementTypes = [
  'receipt',
  'shipment',
  'reserve',
  'release',
  'transfer_out',
  'transfer_in',
  'adjustment',
  'damage',
  'loss',
  'found',
  'return',
  'incoming',
] as const;
export type MovementType = (typeof movementTypes)[number];

/** What a movement was made for. One spelling everywhere: `reference: { type, id }`. */
export interface Reference {
  type: 'reservation' | 'transfer' | 'order' | 'adjustment' | 'purchase_order' | 'seed' | 'test';
  id: string;
}

// ---------------------------------------------------------------- reconciliation

/** One quantity of a stock row that does not match its rebuild. */
export interface Difference {
  quantity: keyof SnakeQuantities;
  recorded: number;
  expected: number;
  /** `ledger`: the sum of the row's movements; `holds`: the open reservations and transfers. */
  source: 'ledger' | 'holds';
}

export interface StockDrift {
  stockId: string;
  variantId: string;
  warehouseId: string;
  recorded: SnakeQuantities;
  /** The row rebuilt from its movements, and the reserved / in-transit units its open holds account for. */
  expected: { ledger: SnakeQuantities; holds: { reserved: number; in_transit: number } };
  differences: Difference[];
  /** True once the row was put back to its ledger quantities (only when repair was asked). */
  repaired: boolean;
  /** Why a drift was left as it is, when repair was asked. */
  repairNote: string | null;
}

// ---------------------------------------------------------------- reservations

/** The statuses a reservation row can have (the table's check constraint lists exactly these). */
export const reservationStatuses = ['active', 'confirmed', 'released', 'expired', 'fulfilled', 'failed'] as const;
export type ReservationStatus = (typeof reservationStatuses)[number];
/** A reservation workflow is `pending` until its hold commits; no row is ever pending. */
export type ReservationWorkflowStatus = 'pending' | ReservationStatus;
/** The statuses after which a reservation never changes again. */
export const closedReservationStatuses: readonly ReservationStatus[] = ['released', 'expired', 'fulfilled', 'failed'];

/** One line of an order to hold: a variant, how many, and optionally the warehouse to hold it in. */
export interface ReservationLine {
  variant_id: string;
  quantity: number;
  warehouse_id?: string;
}

/** Where a line's units are held: a line may be split over several warehouses. */
export interface ReservationAllocation {
  variant_id: string;
  warehouse_id: string;
  quantity: number;
}

export interface ReservationTransition {
  status: ReservationWorkflowStatus;
  at: string;
  reason?: string;
}

/** What ReserveStock asks for; the workflow compares a repeated request with the one it was started with. */
export interface ReserveRequest {
  items: ReservationLine[];
  preferredWarehouseId?: string;
  ttlSeconds: number;
  /** Who asked (the caller's token subject), for the ledger; not part of what makes two requests the same. */
  actor?: string;
}

/** A reservation as its workflow holds it, and as the activities, the facades and the query answer it. */
export interface ReservationSnapshot {
  reservationId: string;
  organizationId: string;
  orderId: string;
  status: ReservationWorkflowStatus;
  items: ReservationLine[];
  allocations: ReservationAllocation[];
  createdAt: string;
  expiresAt: string | null;
  releaseReason: string | null;
  transitions: ReservationTransition[];
  /** When the workflow reported the confirmed hold as overdue (inventory.reservation.confirmed_overdue). */
  confirmedOverdueAt?: string;
}

const lineKey = (line: ReservationLine): string => `${line.variant_id}@${line.warehouse_id ?? ''}`;

/**
 * Lines for the same variant and warehouse choice merged, sorted: two requests are the same order iff
 * their canonical lines match. Pure; the input is not changed.
 */
export function canonicalLines(lines: readonly ReservationLine[]): ReservationLine[] {
  const merged = new Map<string, ReservationLine>();
  for (const line of lines) {
    const existing = merged.get(lineKey(line));
    if (existing) existing.quantity += line.quantity;
    else {
      merged.set(lineKey(line), {
        variant_id: line.variant_id,
        quantity: line.quantity,
        ...(line.warehouse_id ? { warehouse_id: line.warehouse_id } : {}),
      });
    }
  }
  return [...merged.values()].sort((a, b) => lineKey(a).localeCompare(lineKey(b)));
}

/**
 * What makes two ReserveStock requests the same order, as one string: the canonical lines and the
 * preferred warehouse. The workflow compares it; the stored request fingerprint is its SHA-256.
 */
export function reserveRequestKey(request: Pick<ReserveRequest, 'items' | 'preferredWarehouseId'>): string {
  return JSON.stringify([canonicalLines(request.items), request.preferredWarehouseId ?? null]);
}

// ---------------------------------------------------------------- transfers

export const transferStatuses = [
  'pending',
  'reserved',
  'in_transit',
  'completed',
  'completed_with_discrepancy',
  'cancelled',
  'compensated',
] as const;
export type TransferStatus = (typeof transferStatuses)[number];
/** The statuses after which a transfer never changes again. */
export const closedTransferStatuses: readonly TransferStatus[] = [
  'completed',
  'completed_with_discrepancy',
  'cancelled',
  'compensated',
];

/** One line of a transfer request: a variant and how many to move. */
export interface TransferRequestLine {
  variant_id: string;
  quantity: number;
}

/** One line of a transfer as it stands: shipped `quantity`, and what the destination counted so far. */
export interface TransferLine extends TransferRequestLine {
  received: number;
  damaged: number;
  missing: number;
}

export interface TransferTransition {
  status: TransferStatus;
  at: string;
  reason?: string;
  actor?: string;
}

/** What a transfer is started with (the transfer workflow's input). */
export interface TransferInput {
  organizationId: string;
  transferId: string;
  originWarehouseId: string;
  destinationWarehouseId: string;
  lines: TransferRequestLine[];
  notes?: string;
  /** RFC 3339; not shipped by then → cancelled with reason `expired`. */
  shipBy?: string;
  /**
   * Who asked for the transfer, named in its ledger rows and transitions. Optional, like every actor:
   * workflows started before it existed replay without it and record 'transfer-workflow'.
   */
  actor?: string;
}

/** A transfer as its workflow holds it, and as the activities, the facades and the query answer it. */
export interface TransferSnapshot {
  transferId: string;
  organizationId: string;
  originWarehouseId: string;
  destinationWarehouseId: string;
  status: TransferStatus;
  lines: TransferLine[];
  notes: string | null;
  shipBy: string | null;
  reason: string | null;
  transitions: TransferTransition[];
  createdAt: string;
}
