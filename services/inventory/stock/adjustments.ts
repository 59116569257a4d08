import { randomUUID } from 'node:crypto';
import { assertVariantsKnown, type VariantCatalog } from './variant-validation.ts';
import type { OrganizationScope } from '../organization-scope.ts';
import { applyOperation, type RecordedMovement } from './ledger.ts';
import { InvalidArgumentError, StaleCountError, StockNotFoundError } from '../errors.ts';
import { listMovements } from './movement-queries.ts';
import { movementsByOperationKeys } from './movement.store.ts';
import { nameBasedUuid } from '../name-based-uuid.ts';
import type { Page } from '../pagination.ts';
import { assertLocationIn } from '../warehouses/locations.ts';
import { getWarehouse } from '../warehouses/warehouse-queries.ts';
import { lockAvailable } from './stock.store.ts';
import { movementTypeOf, type ReasonCode } from './adjustment-reasons.ts';
import type { QuantityDeltas } from '../vocabulary.ts';
import { itemAt } from '../../guaranteed.ts';

/**
 * Operators' adjustments: each is one ledger movement referencing the adjustment, with the operator
 * as actor; its reason code and purchase order are columns of the movement, the note is its `reason`.
 * A cycle count states how many units are on the shelf (available); the service computes
 * the difference. With `expectedQuantity` it is a compare-and-swap: a count made against a number that
 * has changed since is refused with StaleCountError, so two operators cannot both apply a count.
 */
export { reasonCodes, type ReasonCode } from './adjustment-reasons.ts';

export interface AdjustmentRequest {
  variantId: string;
  warehouseId: string;
  reasonCode: ReasonCode;
  /** Units for every reason but cycle_count (signed only for correction). */
  quantity?: number;
  countedQuantity?: number;
  expectedQuantity?: number;
  note?: string;
  /** The bin counted or changed, when the operator names one. */
  locationId?: string;
  /** For a receipt: the purchase order it fulfils, whose units were incoming. */
  purchaseOrderId?: string;
  actor: string;
}

/**
 * Records one adjustment as one ledger movement. A receipt may create the variant's first stock row
 * in the organization: the catalog (when configured) is asked about such a variant first. A warehouse
 * or location that is not the organization's is WarehouseNotFoundError / LocationNotFoundError, whether
 * it belongs to another organization or to none, before anything else is looked at.
 * With an `idempotencyKey` the adjustment's id is derived from it and the request, so the same request
 * sent again under that key records nothing more: it is answered with the movement already recorded.
 */
export async function createAdjustment(
  scope: OrganizationScope,
  request: AdjustmentRequest,
  catalog?: VariantCatalog,
  options: { idempotencyKey?: string | undefined } = {},
): Promise<RecordedMovement> {
  const adjustmentId = options.idempotencyKey
    ? nameBasedUuid(JSON.stringify(['adjustment', scope.organizationId, options.idempotencyKey, request]))
    : randomUUID();
  const operationKey = `adjustment/${adjustmentId}`;
  await getWarehouse(scope, request.warehouseId);
  if (request.locationId) await assertLocationIn(scope, request.locationId, request.warehouseId);
  if (request.reasonCode === 'receipt') await assertVariantsKnown(scope, catalog, [request.variantId]);
  return await scope.transaction(async (tx) => {
    // The row lock makes the count's comparison and its change one step.
    const available = await lockAvailable(tx, request.variantId, request.warehouseId);
    // Already recorded (its answer lost, e.g. with a REST process killed before it stored the response): a
    // count's difference would be computed afresh and differ, so the recorded movement answers, before any check.
    const [recorded] = await movementsByOperationKeys(tx, [operationKey]);
    if (recorded) return recorded;
    if (available === null && request.reasonCode !== 'receipt') {
      throw new StockNotFoundError(`no stock of variant ${request.variantId} in warehouse ${request.warehouseId}`, {
        variant_id: request.variantId,
        warehouse_id: request.warehouseId,
      });
    }
    const deltas = deltasFor(request, available ?? 0);
    const outcome = await applyOperation(tx, {
      operationKey,
      actor: request.actor,
      reference: { type: 'adjustment', id: adjustmentId },
      changes: [
        {
          variantId: request.variantId,
          warehouseId: request.warehouseId,
          type: movementTypeOf[request.reasonCode],
          deltas,
          reasonCode: request.reasonCode,
          purchaseOrderId: request.purchaseOrderId,
          reason: request.note,
          locationId: request.locationId,
          createIfMissing: request.reasonCode === 'receipt',
        },
      ],
    });
    return itemAt(outcome.movements, 0, "the adjustment's movements");
  });

  function deltasFor(r: AdjustmentRequest, available: number): QuantityDeltas {
    if (r.reasonCode === 'cycle_count') {
      if (r.countedQuantity === undefined)
        throw new InvalidArgumentError('a cycle count needs counted_quantity', { field: 'counted_quantity' });
      if (r.expectedQuantity !== undefined && r.expectedQuantity !== available) {
        throw new StaleCountError(
          `the count expected ${r.expectedQuantity} available, but there are ${available} now: count again`,
          { expected_quantity: r.expectedQuantity, current_quantity: available },
        );
      }
      if (r.countedQuantity === available)
        throw new InvalidArgumentError('the count matches the stock: nothing to adjust', { field: 'counted_quantity' });
      return { available: r.countedQuantity - available };
    }
    const q = r.quantity;
    if (q === undefined || q === 0 || (r.reasonCode !== 'correction' && q < 0)) {
      throw new InvalidArgumentError(
        r.reasonCode === 'correction'
          ? 'a correction needs a non-zero quantity'
          : `${r.reasonCode} needs a positive quantity`,
        { field: 'quantity' },
      );
    }
    if (r.purchaseOrderId && r.reasonCode !== 'receipt')
      throw new InvalidArgumentError('purchase_order_id goes with a receipt', { field: 'purchase_order_id' });
    switch (r.reasonCode) {
      case 'receipt':
        // Units of a purchase order were announced as incoming: they arrive on hand.
        return r.purchaseOrderId ? { available: q, incoming: -q } : { available: q };
      case 'damage':
        return { available: -q, damaged: q };
      case 'loss':
        return { available: -q };
      default:
        return { available: q };
    }
  }
}

/** Adjustments (movements referencing one), newest first, one page at a time. */
export function listAdjustments(
  scope: OrganizationScope,
  filter: { variantId?: string; warehouseId?: string },
  limit: number,
  cursor?: string,
): Promise<Page<RecordedMovement>> {
  return listMovements(scope, { ...filter, referenceType: 'adjustment' }, limit, cursor);
}
