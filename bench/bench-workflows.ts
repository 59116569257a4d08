/** The benchmark worker's workflows: the service's own, plus the empty floor workflow. */
export * from '../workflows/index.ts';
export { emptyWorkflow } from './empty.workflow.ts';
