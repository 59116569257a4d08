import type { EntityManager } from '@mikro-orm/postgresql';
import { InventoryError } from '../inventory/errors.ts';
import { scopeTo } from '../inventory/organization-scope.ts';
import type { QuotaSettings } from './settings.ts';
import { countCustomerOpenHoldsBesides, countOpenHoldsBesides, insertCustomerHold } from './customer-hold.store.ts';

/**
 * A hold would pass a cap on open holds (per organization, or per customer); nothing was held. The
 * gRPC status is RESOURCE_EXHAUSTED: the caller may try again once some of its holds have closed.
 */
export class QuotaExceededError extends InventoryError {
  readonly type = 'QuotaExceededError';
}

/**
 * Refuses a new hold for `orderId` when its organization already has `activeHoldsPerOrganization` open
 * holds, or its customer (when named) `activeHoldsPerCustomer`. The order's own hold is not counted, so
 * repeating a ReserveStock that already holds is never refused. A soft cap: requests in flight at the
 * same moment are not serialized, so together they may pass it by their number. 0 turns a cap off.
 * Throws QuotaExceededError. Reads in its own transaction bound to the organization (row-level security).
 */
export async function assertHoldQuota(
  em: EntityManager,
  quotas: QuotaSettings,
  hold: { organizationId: string; orderId: string; customerId?: string },
): Promise<void> {
  await scopeTo(em, hold.organizationId).transaction(async (tx) => {
    const cap = quotas.activeHoldsPerOrganization;
    if (cap > 0 && (await countOpenHoldsBesides(tx, hold.orderId, cap)) >= cap) {
      const detail = 'confirm, fulfil or release some before holding more';
      throw new QuotaExceededError(`the organization already has ${cap} open holds, its quota: ${detail}`, {
        quota: 'active_holds_per_organization',
        limit: cap,
      });
    }
    const customerCap = quotas.activeHoldsPerCustomer;
    if (!hold.customerId || customerCap <= 0) return;
    if ((await countCustomerOpenHoldsBesides(tx, hold.customerId, hold.orderId, customerCap)) >= customerCap) {
      const message = `customer ${hold.customerId} already has ${customerCap} open holds, the quota per customer`;
      throw new QuotaExceededError(message, {
        quota: 'active_holds_per_customer',
        limit: customerCap,
        customer_id: hold.customerId,
      });
    }
  });
}

/**
 * Remembers which customer an order's hold is for, before the hold starts (so a hold is never open
 * without its customer being counted). The first customer named for an order stays. Idempotent. Writes in
 * its own transaction bound to the organization.
 */
export async function recordCustomerHold(
  em: EntityManager,
  hold: { organizationId: string; orderId: string; customerId: string },
): Promise<void> {
  await scopeTo(em, hold.organizationId).transaction((tx) => insertCustomerHold(tx, hold.orderId, hold.customerId));
}
