/**
 * Who may do what: the roles a token can carry, the permissions each grants, and the warehouse scope
 * an operator works in. Every REST route and gRPC method names one permission (checked at compile time
 * where the surface is typed, and by the cross-tenant test matrix for the rest); a role not listed
 * here grants nothing.
 */
export const roles = ['order-service', 'operator', 'auditor', 'admin'] as const;
export type Role = (typeof roles)[number];

export const permissions = [
  /** CheckAvailability. */
  'availability:read',
  /** ReserveStock, Confirm/Release/Extend/Fulfil, GetReservation. */
  'reservations:write',
  /** Stock rows, movements, adjustments, transfers, warehouses, locations, reconciliation runs. */
  'stock:read',
  /** Adjustments (counts, receipts, damage, losses, finds, returns, corrections). */
  'stock:adjust',
  /** Create, ship, receive and cancel transfers. */
  'transfers:write',
  /** Create, rename, move and delete locations (bins). */
  'locations:write',
  /** Create, update, deactivate and reactivate warehouses. */
  'warehouses:write',
  /** min_stock, max_stock, reorder_point. */
  'thresholds:write',
  /** Start a reconciliation run, with or without repair. */
  'reconciliation:run',
] as const;
export type Permission = (typeof permissions)[number];

const operatorPermissions = [
  'stock:read',
  'stock:adjust',
  'transfers:write',
  'locations:write',
] as const satisfies readonly Permission[];

export const permissionsByRole = {
  'order-service': ['availability:read', 'reservations:write'],
  operator: operatorPermissions,
  auditor: ['stock:read'],
  admin: [...operatorPermissions, 'warehouses:write', 'thresholds:write', 'reconciliation:run'],
} as const satisfies Record<Role, readonly Permission[]>;

/** The caller, as its verified token describes it. */
export interface Principal {
  /** The token's `sub`: a user or a service account at the identity provider. */
  readonly subject: string;
  readonly displayName?: string;
  /** Lower-case UUID: every request is bound to it, whatever a header or a body says. */
  readonly organizationId: string;
  readonly roles: readonly Role[];
  /** Lower-case warehouse ids the caller may name, or 'all'. */
  readonly warehouses: 'all' | ReadonlySet<string>;
}

export function can(principal: Principal, permission: Permission): boolean {
  return principal.roles.some((role) => (permissionsByRole[role] as readonly Permission[]).includes(permission));
}

export function inWarehouseScope(principal: Principal, warehouseId: string): boolean {
  return principal.warehouses === 'all' || principal.warehouses.has(warehouseId.toLowerCase());
}

/** The warehouse ids a list is restricted to, or undefined for all of the organization's. */
export function warehouseFilter(principal: Principal): string[] | undefined {
  return principal.warehouses === 'all' ? undefined : [...principal.warehouses];
}

/** How the ledger, reconciliation runs and transfer transitions name the caller (at most 200 characters). */
export function actorOf(principal: Principal): string {
  const actor = principal.displayName ? `${principal.subject} (${principal.displayName})` : principal.subject;
  return actor.slice(0, 200);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (roles as readonly string[]).includes(value);
}
