import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Warehouse } from '../warehouses/warehouse.entity.ts';

export const transferStatuses = [
  'reserved',
  'in_transit',
  'completed',
  'completed_with_discrepancy',
  'cancelled',
  'compensated',
] as const;
export type TransferStatus = (typeof transferStatuses)[number];

export interface TransferLine {
  variant_id: string;
  quantity: number;
  received: number;
  damaged: number;
  missing: number;
}

export interface TransferTransition {
  status: TransferStatus;
  at: string;
  reason?: string;
  /** Who made the step (absent on transitions recorded before transfers carried their requester). */
  actor?: string;
}

/**
 * A move of goods between two warehouses. The TransferWorkflow owns its life; this row mirrors its
 * status, lines and transitions so lists and reports never depend on Temporal's retention.
 */
export const Transfer = defineEntity({
  name: 'Transfer',
  tableName: 'transfer',
  properties: {
    id: p.uuid().primary(),
    organizationId: p.uuid(),
    // (organization_id, *_warehouse_id) → warehouse (organization_id, id): see warehouse.entity.ts.
    origin: () =>
      p
        .manyToOne(Warehouse)
        .joinColumns('organization_id', 'origin_warehouse_id')
        .referencedColumnNames('organization_id', 'id')
        .foreignKeyName('transfer_origin_warehouse_foreign')
        .deleteRule('restrict'),
    destination: () =>
      p
        .manyToOne(Warehouse)
        .joinColumns('organization_id', 'destination_warehouse_id')
        .referencedColumnNames('organization_id', 'id')
        .foreignKeyName('transfer_destination_warehouse_foreign')
        .deleteRule('restrict'),
    status: p.string().length(32).$type<TransferStatus>(),
    lines: p.json<TransferLine[]>(),
    notes: p.text().nullable(),
    shipBy: p.datetime().nullable(),
    reason: p.text().nullable(),
    transitions: p.json<TransferTransition[]>(),
    workflowId: p.string().length(300),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  indexes: [
    { name: 'transfer_status_index', properties: ['organizationId', 'status', 'createdAt'] },
    { name: 'transfer_origin_index', properties: ['organizationId', 'origin'] },
    { name: 'transfer_destination_index', properties: ['organizationId', 'destination'] },
  ],
  checks: [
    { name: 'transfer_status_known', expression: `status in (${transferStatuses.map((s) => `'${s}'`).join(', ')})` },
    { name: 'transfer_between_two_warehouses', expression: 'origin_warehouse_id <> destination_warehouse_id' },
  ],
});

export type Transfer = InferEntity<typeof Transfer>;
