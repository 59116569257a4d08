import { defineQuery } from '@temporalio/workflow';
import type { StockDrift } from '../services/inventory/vocabulary.ts';

/**
 * What the facade, the schedule and the reconciliation workflow share. Renaming the query or changing
 * the input incompatibly breaks running workflows: replay tests catch it.
 */

/** The Temporal Schedule that runs the reconciliation of every organization (nightly by default). */
export const reconciliationScheduleId = 'inventory-reconciliation';

/** One on-demand run of one organization; scheduled runs get the schedule's id plus the time. */
export function reconciliationWorkflowId(organizationId: string, reconciliationId: string): string {
  return `reconciliation-${organizationId}-${reconciliationId}`;
}

export interface ReconciliationInput {
  /** Reconcile one organization; without it, every organization that has stock, one after the other. */
  organizationId?: string;
  /** Given by the facade for an on-demand run (so it can answer with it); drawn by the workflow otherwise. */
  reconciliationId?: string;
  /** Put rows that drifted from the ledger back to what the ledger says. Off unless asked. */
  repair?: boolean;
  /**
   * Drift seen on the first pass is checked again after this many seconds and reported only if it is
   * still there: a saga between two of its steps (a compensation, say) is not drift.
   */
  settleSeconds?: number;
  trigger?: 'schedule' | 'request';
  requestedBy?: string;
  /** Set when a run over every organization continues as new: where it stands. */
  resume?: ReconciliationProgress;
}

export interface ReconciliationReport {
  reconciliationId: string;
  organizationId: string;
  repair: boolean;
  rowsChecked: number;
  drifted: number;
  repaired: number;
  /** The first drifts found (all of them are in the database and were announced as events). */
  drifts: StockDrift[];
}

export interface ReconciliationProgress {
  phase: 'scanning' | 'settling' | 'confirming' | 'done';
  organizationsChecked: number;
  rowsChecked: number;
  drifted: number;
  repaired: number;
  /** Organizations reconciled so far, by id: the last one, where a run over all of them resumes. */
  lastOrganizationId: string | null;
  /** Only the runs that found drift (and an on-demand run, always), so a nightly result stays small. */
  reports: ReconciliationReport[];
  /** Organizations whose run failed for good; the workflow fails naming them once the others are done. */
  failures: { organizationId: string; reconciliationId: string; failure: string }[];
}

export type ReconciliationResult = Omit<ReconciliationProgress, 'phase' | 'lastOrganizationId'>;

/** Where a running reconciliation stands (Temporal UI's Queries tab, or the CLI). */
export const reconciliationProgressQuery = defineQuery<ReconciliationProgress>('progress');

export const reconciliationLimits = {
  /**
   * Stock rows rebuilt by one activity (one statement) of the first pass: large, so an organization costs few
   * activity round trips; one chunk of 50 000 rows takes well under a second here (README, Benchmark).
   */
  chunkSize: 50_000,
  /** Candidates confirmed by one activity of the second pass; and the first pass's page in workflows started before chunks. */
  pageSize: 500,
  /** Drifts kept in a report (and so in the workflow's history); the rest are in the database. */
  reportedDrifts: 100,
  organizationsPerPage: 100,
  defaultSettleSeconds: 10,
};
