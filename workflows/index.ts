/** The workflows this service's worker runs (the bundle's entry point). */
export { reservationWorkflow } from './reservation.ts';
export { transferWorkflow } from './transfer.ts';
export { reconciliationWorkflow } from './reconciliation.ts';
export { retentionWorkflow } from './retention.ts';
