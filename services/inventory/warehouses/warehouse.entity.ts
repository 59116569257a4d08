import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/**
 * A physical warehouse of one organization; `code` is the operators' short name, unique per organization.
 * (organization_id, id) is unique so that other tables reference a warehouse together with their own
 * organization: PostgreSQL then refuses a row naming another organization's warehouse. MikroORM has no
 * option for a foreign key onto a unique key other than the primary key, but it builds one from a
 * relation's explicit join and referenced columns; organization_id stays owned by the entity's own
 * `organizationId` property (the relation owns only its id column). Nothing loads these relations.
 */
export const Warehouse = defineEntity({
  name: 'Warehouse',
  tableName: 'warehouse',
  properties: {
    id: p.uuid().primary().defaultRaw('gen_random_uuid()'),
    organizationId: p.uuid().index(),
    code: p.string().length(32),
    name: p.string().length(200),
    region: p.string().length(64),
    active: p.boolean().default(true),
    createdAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
  uniques: [
    { name: 'warehouse_organization_code_unique', properties: ['organizationId', 'code'] },
    { name: 'warehouse_organization_id_unique', properties: ['organizationId', 'id'] },
  ],
});

export type Warehouse = InferEntity<typeof Warehouse>;
