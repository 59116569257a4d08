import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Warehouse } from './warehouse.entity.ts';

/** A bin inside a warehouse (aisle, shelf, position); its code is unique within the warehouse. */
export const Location = defineEntity({
  name: 'Location',
  tableName: 'location',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    organizationId: p.uuid(),
    // (organization_id, warehouse_id) → warehouse (organization_id, id): see warehouse.entity.ts.
    warehouse: () =>
      p
        .manyToOne(Warehouse)
        .joinColumns('organization_id', 'warehouse_id')
        .referencedColumnNames('organization_id', 'id')
        .foreignKeyName('location_warehouse_foreign')
        .deleteRule('restrict'),
    code: p.string().length(64),
    name: p.string().length(200),
    createdAt: p.datetime().defaultRaw('now()'),
    updatedAt: p.datetime().defaultRaw('now()'),
  },
  uniques: [
    { name: 'location_warehouse_code_unique', properties: ['organizationId', 'warehouse', 'code'] },
    // What a movement's (organization, warehouse, bin) references: the bin must be in the movement's warehouse.
    { name: 'location_organization_warehouse_id_unique', properties: ['organizationId', 'warehouse', 'id'] },
  ],
});

export type Location = InferEntity<typeof Location>;
