import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { organizationFilter } from '../db/organization-filter.ts';

/** A physical warehouse of one organization; `code` is the operators' short name, unique per organization. */
export const Warehouse = defineEntity({
  name: 'Warehouse',
  tableName: 'warehouse',
  filters: organizationFilter,
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    organizationId: p.uuid().index(),
    code: p.string().length(32),
    name: p.string().length(200),
    region: p.string().length(64),
    active: p.boolean().default(true),
    createdAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw('now()').onCreate(() => new Date()).onUpdate(() => new Date()),
  },
  uniques: [{ name: 'warehouse_organization_code_unique', properties: ['organizationId', 'code'] }],
});

export type Warehouse = InferEntity<typeof Warehouse>;
