import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

export const reconciliationStatuses = ['running', 'completed', 'failed'] as const;
export type ReconciliationStatus = (typeof reconciliationStatuses)[number];

/**
 * One reconciliation of one organization's stock: requested over REST or run by the nightly schedule.
 * The ReconciliationWorkflow runs it; this row (and its stock_drift rows) is what REST reads.
 */
export const Reconciliation = defineEntity({
  name: 'Reconciliation',
  tableName: 'reconciliation',
  properties: {
    id: p.uuid().primary(),
    organizationId: p.uuid(),
    trigger: p.string().length(16).$type<'schedule' | 'request'>(),
    repair: p.boolean(),
    status: p.string().length(16).$type<ReconciliationStatus>(),
    rowsChecked: p.integer().default(0),
    drifted: p.integer().default(0),
    repaired: p.integer().default(0),
    requestedBy: p.string().length(200).nullable(),
    failure: p.text().nullable(),
    workflowId: p.string().length(300),
    startedAt: p.datetime().defaultRaw('now()'),
    finishedAt: p.datetime().nullable(),
  },
  indexes: [{ name: 'reconciliation_started_index', properties: ['organizationId', 'startedAt'] }],
  checks: [
    {
      name: 'reconciliation_status_known',
      expression: `status in (${reconciliationStatuses.map((s) => `'${s}'`).join(', ')})`,
    },
    { name: 'reconciliation_trigger_known', expression: `trigger in ('schedule', 'request')` },
  ],
});

export type Reconciliation = InferEntity<typeof Reconciliation>;
